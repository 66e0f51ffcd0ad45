import bls from '@chainsafe/bls/herumi';
import type { PublicKey } from '@chainsafe/bls/types';

/**
 * BLS12-381 for the sync committee (IETF draft-irtf-cfrg-bls-signature-05, Ethereum ciphersuite
 * BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_), through ChainSafe's @chainsafe/bls with the herumi backend
 * (WebAssembly inlined in JavaScript): the enclave bundle carries it, so the measurement covers it, where the native
 * blst addon could not be bundled. Geode never implements curve arithmetic itself.
 */

/** Deserialize and subgroup-check 48-byte compressed G1 public keys; null if any key is invalid. */
export function publicKeysOf(keys: readonly Uint8Array[]): PublicKey[] | null {
  try {
    return keys.map((k) => bls.PublicKey.fromBytes(k, undefined, true));
  } catch {
    return null;
  }
}

/**
 * FastAggregateVerify (draft-irtf-cfrg-bls-signature-05 §3.3.4): `signature` (96-byte compressed G2, subgroup
 * checked) over `message` (32-byte signing root) by the aggregate of `publicKeys`. Returns false, never throws, for
 * an empty key list or an undecodable signature.
 */
export function fastAggregateVerify(publicKeys: readonly PublicKey[], message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKeys.length === 0) return false;
  try {
    return bls.Signature.fromBytes(signature, undefined, true).verifyAggregate([...publicKeys], message);
  } catch {
    return false;
  }
}
