import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak256 } from '../store/keccak.ts';

const OUTPUT_EKM_LABEL = Buffer.from('geode.output-ekm.v2', 'ascii');

/**
 * Input keying material (32 bytes) of the ephemeral HPKE key of one output (docs/protocol.md#outputs):
 * HKDF-SHA256 (RFC 5869) with ikm = appSecret (32 bytes), salt = empty,
 * info = "geode.output-ekm.v2" (ASCII) || index (uint256 big-endian) || keccak256(aad) || recipientKey (32) ||
 * keccak256(plaintext). `index` is the output's position in the batch (a non-negative safe integer), `aad` the
 * output's HPKE additional data as bytes (protocol outputAad). Binding everything the AAD and the plaintext carry
 * means no (key, nonce) pair ever meets two different (AAD, plaintext) pairs (RFC 9180 §9.7.1; NIST SP 800-38D §8),
 * while re-processing a batch in the same session reproduces the same ciphertexts. Pure: the main thread
 * (SessionKeys.outputEphemeralIkm) and the HPKE workers (worker.ts) compute the same bytes.
 * Throws RangeError for an index that is not a non-negative safe integer.
 */
export function outputEphemeralIkm(appSecret: Uint8Array, index: number, aad: Uint8Array, recipientKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`output index must be a non-negative safe integer, not ${index}`);
  const idx = Buffer.alloc(32);
  idx.writeBigUInt64BE(BigInt(index), 24);
  const info = Buffer.concat([OUTPUT_EKM_LABEL, idx, keccak256(aad), recipientKey, keccak256(plaintext)]);
  // @noble/hashes' HKDF (the same RFC 5869 function as node:crypto's hkdfSync): per output, and hkdfSync's per-call
  // setup cost about twice its work here.
  return hkdf(sha256, appSecret, new Uint8Array(0), info, 32);
}
