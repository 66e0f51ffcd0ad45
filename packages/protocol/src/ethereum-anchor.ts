import { encodeAbiParameters, keccak256, toBytes, type Hex } from 'viem';
import { z } from 'zod';

/**
 * The Ethereum sync-committee light client's place in the deployment config (docs/protocol.md#ethereum-light-client).
 * Additive to GeodeConfig, with no contract change: the light-client anchor fields carry a kind and a hash,
 * - `lcSigner = ETHEREUM_SYNC_COMMITTEE_SIGNER` says "this deployment's light client is Ethereum's sync committee";
 * - `lcGenesisHash = ethereumAnchorHash(anchor)` commits to the whole anchor (checkpoint, genesis validators root,
 *   fork schedule, preset),
 * so configHash, which the enclave attests to and the contract stores, covers the anchor. The enclave receives the
 * anchor itself in `init` (`config.ethereumAnchor`) and refuses it unless it hashes to lcGenesisHash.
 */

/**
 * Sentinel lcSigner of an Ethereum sync-committee deployment: address(1), the ecrecover precompile, for which nobody
 * holds a key, so it can never be mistaken for a devnet block signer.
 */
export const ETHEREUM_SYNC_COMMITTEE_SIGNER = '0x0000000000000000000000000000000000000001' as const;
/** Domain tag of ethereumAnchorHash. */
export const ETHEREUM_ANCHOR_DOMAIN: Hex = keccak256(toBytes('geode.ethereum-anchor.v1'));

const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x-prefixed 32-byte hex');
const bytes4 = z.string().regex(/^0x[0-9a-fA-F]{8}$/, 'expected 0x-prefixed 4-byte hex');

/** EthereumTrustAnchor in JSON (packages/enclave/src/lightclient/ethereum/anchor.ts has the field meanings). */
export const ethereumAnchorJson = z.object({
  network: z.string().min(1).max(64),
  preset: z.enum(['mainnet', 'minimal']),
  checkpoint: bytes32,
  genesisValidatorsRoot: bytes32,
  genesisForkVersion: bytes4,
  forks: z.array(z.object({
    name: z.enum(['altair', 'bellatrix', 'capella', 'deneb', 'electra', 'fulu']),
    version: bytes4,
    epoch: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  })).min(1).max(16),
});
export type EthereumAnchorJson = z.infer<typeof ethereumAnchorJson>;

/**
 * ethereumAnchorHash = keccak256(abi.encode(ETHEREUM_ANCHOR_DOMAIN, keccak256(network), keccak256(preset),
 * checkpoint, genesisValidatorsRoot, genesisForkVersion, (string name, bytes4 version, uint64 epoch)[] forks)),
 * hex lowercased first. Returns 0x bytes32.
 */
export function ethereumAnchorHash(a: EthereumAnchorJson): Hex {
  const lc = (h: string) => h.toLowerCase() as Hex;
  return keccak256(encodeAbiParameters(
    [
      { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes4' },
      { type: 'tuple[]', components: [{ type: 'string', name: 'name' }, { type: 'bytes4', name: 'version' }, { type: 'uint64', name: 'epoch' }] },
    ],
    [
      ETHEREUM_ANCHOR_DOMAIN, keccak256(toBytes(a.network)), keccak256(toBytes(a.preset)), lc(a.checkpoint), lc(a.genesisValidatorsRoot), lc(a.genesisForkVersion),
      a.forks.map((f) => ({ name: f.name, version: lc(f.version), epoch: BigInt(f.epoch) })),
    ],
  ));
}

/**
 * Untrusted Beacon API objects a host sends with a header for an Ethereum deployment (each `{"version","data"}` as
 * served by /eth/v1/beacon/light_client/*). `updates` at most 128 (MAX_REQUEST_LIGHT_CLIENT_UPDATES). The frame
 * limit (64 MiB) caps the total size.
 */
export const beaconSyncJson = z.object({
  bootstrap: z.unknown().optional(),
  updates: z.array(z.unknown()).max(128).optional(),
  finalityUpdate: z.unknown().optional(),
});
export type BeaconSyncJson = z.infer<typeof beaconSyncJson>;
