import { keccak256, toBytes, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';

/**
 * Deterministic development keys. These are public knowledge: never use them on a real network.
 * devKey(label) = keccak256("geode-devnet:" + label), a valid secp256k1 scalar with overwhelming probability.
 */
export function devKey(label: string): Hex {
  return keccak256(toBytes(`geode-devnet:${label}`));
}

/** The block signer key of the devnet: its address is the dev light client's trust anchor. */
export const DEFAULT_BLOCK_SIGNER_KEY: Hex = devKey('block-signer');

/** Funded accounts at genesis: `deployer` and `operator` (host), plus `account-0` .. `account-<n-1>` for users. */
export function devAccounts(n = 8): { label: string; privateKey: Hex; address: Hex }[] {
  const labels = ['deployer', 'operator', ...Array.from({ length: n }, (_, i) => `account-${i}`)];
  return labels.map((label) => {
    const privateKey = devKey(label);
    return { label, privateKey, address: privateKeyToAddress(privateKey) };
  });
}
