import { verifyMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { bytesToHex, hexToBigInt, hexToBytes, keccak256, type Address, type Hex } from 'viem';
import type { StorageProofJson } from '@geode/protocol';
import { LightClientError } from '../errors.ts';

/**
 * EIP-1186 proof verification (docs/enclave.md#light-client): the account proof against a verified header's
 * stateRoot, then each requested storage slot against the proven storageHash. Merkle-Patricia logic is
 * @ethereumjs/mpt's `verifyMerkleProof` (Yellow Paper appendix D); this module only decodes leaves and compares.
 */

/** keccak256(rlp("")): the root of an empty trie. */
export const EMPTY_TRIE_ROOT: Hex = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421';

/** Verify `proof` for the secure-trie key keccak256(rawKey) under `root`; null means proven absent. */
async function mptGet(root: Hex, rawKey: Uint8Array, proof: readonly Hex[]): Promise<Uint8Array | null> {
  if (proof.length === 0) {
    // @ethereumjs/mpt skips the root check for an empty proof; only the empty trie has no nodes.
    if (root.toLowerCase() !== EMPTY_TRIE_ROOT) throw new Error('empty proof for a non-empty trie');
    return null;
  }
  return verifyMerkleProof(rawKey, proof.map((p) => hexToBytes(p as Hex)), { root: hexToBytes(root), useKeyHashing: true });
}

const scalar = (b: Uint8Array): bigint => (b.length === 0 ? 0n : hexToBigInt(bytesToHex(b)));

/**
 * Verify an eth_getProof response against a header's `stateRoot` and return the values of `keys` (0x bytes32
 * storage keys, i.e. slots) as a Map keyed by lowercase key. Proofs of absence give 0n.
 * Errors: LC_ACCOUNT_PROOF (bad account proof, wrong address, or account fields that differ from the proven leaf),
 * LC_STORAGE_PROOF (a storage proof or value that does not verify against storageHash),
 * LC_PROOF_MISSING_KEY (a requested key without a proof).
 */
export async function verifyStorageProof(stateRoot: Hex, proof: StorageProofJson, expectedAddress: Address, keys: readonly Hex[]): Promise<Map<Hex, bigint>> {
  if (proof.address.toLowerCase() !== expectedAddress.toLowerCase()) {
    throw new LightClientError('LC_ACCOUNT_PROOF', `Proof is for ${proof.address}, expected the contract ${expectedAddress}.`, { details: { address: proof.address, expected: expectedAddress } });
  }
  let leaf: Uint8Array | null;
  try {
    leaf = await mptGet(stateRoot, hexToBytes(expectedAddress), proof.accountProof as Hex[]);
  } catch (e) {
    throw new LightClientError('LC_ACCOUNT_PROOF', 'Account proof does not verify against the header stateRoot. Fetch eth_getProof at the same block as the header.', { cause: e });
  }
  if (leaf === null) throw new LightClientError('LC_ACCOUNT_PROOF', `Account ${expectedAddress} does not exist at this block.`);
  let storageHash: Hex;
  try {
    const fields = RLP.decode(leaf) as Uint8Array[];
    if (!Array.isArray(fields) || fields.length !== 4 || fields.some((f) => !(f instanceof Uint8Array))) throw new Error('account leaf is not [nonce, balance, storageHash, codeHash]');
    storageHash = bytesToHex(fields[2]!);
    if (fields[2]!.length !== 32) throw new Error('storageHash is not 32 bytes');
    if (proof.storageHash.toLowerCase() !== storageHash) throw new Error('storageHash differs from the proven account');
    if (BigInt(proof.nonce) !== scalar(fields[0]!)) throw new Error('nonce differs from the proven account');
    if (BigInt(proof.balance) !== scalar(fields[1]!)) throw new Error('balance differs from the proven account');
    if (proof.codeHash.toLowerCase() !== bytesToHex(fields[3]!)) throw new Error('codeHash differs from the proven account');
  } catch (e) {
    throw new LightClientError('LC_ACCOUNT_PROOF', `Account leaf is malformed or inconsistent: ${(e as Error).message}.`, { cause: e });
  }
  const byKey = new Map<string, StorageProofJson['storageProof'][number]>();
  for (const sp of proof.storageProof) byKey.set(BigInt(sp.key).toString(16), sp);
  const out = new Map<Hex, bigint>();
  for (const key of keys) {
    const sp = byKey.get(BigInt(key).toString(16));
    if (!sp) throw new LightClientError('LC_PROOF_MISSING_KEY', `Storage proof lacks key ${key}. Request eth_getProof with every key the enclave needs.`, { details: { key } });
    let raw: Uint8Array | null;
    try {
      raw = await mptGet(storageHash, hexToBytes(key), sp.proof as Hex[]);
    } catch (e) {
      throw new LightClientError('LC_STORAGE_PROOF', `Storage proof for ${key} does not verify against the account's storageHash.`, { cause: e, details: { key } });
    }
    let value = 0n;
    if (raw !== null) {
      try {
        const v = RLP.decode(raw);
        if (!(v instanceof Uint8Array) || v.length > 32 || (v.length > 0 && v[0] === 0)) throw new Error('not a minimal RLP scalar');
        value = scalar(v);
        if (value === 0n) throw new Error('zero stored explicitly');
      } catch (e) {
        throw new LightClientError('LC_STORAGE_PROOF', `Storage value for ${key} is malformed.`, { cause: e, details: { key } });
      }
    }
    let claimed: bigint;
    try {
      claimed = BigInt(sp.value);
    } catch {
      throw new LightClientError('LC_STORAGE_PROOF', `Storage value for ${key} is not a number.`, { details: { key } });
    }
    if (claimed !== value) {
      throw new LightClientError('LC_STORAGE_PROOF', `Storage value for ${key} differs from the proven value.`, { details: { key, claimed: claimed.toString(), proven: value.toString() } });
    }
    out.set(key.toLowerCase() as Hex, value);
  }
  return out;
}

/** keccak256 of a 20-byte address (the account's secure-trie path); exported for tests. */
export const accountPath = (a: Address): Hex => keccak256(a);
