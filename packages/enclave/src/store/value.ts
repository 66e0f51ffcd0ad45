import { assertPlainJson, canonicalJson } from '@geode/protocol';
import { EnclaveError } from '../errors.ts';

/**
 * Store values (docs/enclave.md#store-values): plain JSON data (null, booleans, finite numbers, strings, arrays,
 * plain objects; no bigint, undefined, class instances) encoded as the UTF-8 bytes of the protocol's canonical JSON
 * (object keys sorted by UTF-16 code units, no whitespace, numbers as ECMAScript Number::toString). These bytes are
 * what the state root commits to (docs/protocol.md#state-root).
 *
 * Why canonical JSON and not CBOR: the protocol already defines it (policy hash, outputs), any language reproduces
 * it with a sorted-keys JSON serialiser, and cbor-x does not promise RFC 8949 §4.2 deterministic encoding.
 */

/** Largest encoded value, in bytes. Bounds what one set() costs to hash, seal and store. */
export const VALUE_MAX_BYTES = 64 * 1024;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Canonical bytes of `v`. Throws ENCLAVE_STORE_VALUE if `v` is not plain JSON data or encodes to more than
 * VALUE_MAX_BYTES.
 */
export function encodeValue(v: unknown): Uint8Array {
  try {
    assertPlainJson(v);
  } catch (e) {
    throw new EnclaveError('ENCLAVE_STORE_VALUE', `A stored value must be plain JSON data: ${(e as Error).message}. Store numbers, strings, booleans, null, arrays and plain objects (bigints as decimal strings).`, { cause: e });
  }
  const b = utf8.encode(canonicalJson(v));
  if (b.length > VALUE_MAX_BYTES) {
    throw new EnclaveError('ENCLAVE_STORE_VALUE', `A stored value encodes to ${b.length} bytes, more than ${VALUE_MAX_BYTES}. Split it over several keys.`, { details: { length: b.length } });
  }
  return b;
}

/** Inverse of encodeValue: a fresh copy of the value. Throws ENCLAVE_SEAL_CORRUPT on bytes that are not UTF-8 JSON. */
export function decodeValue(b: Uint8Array): unknown {
  try {
    return JSON.parse(utf8Strict.decode(b));
  } catch (e) {
    throw new EnclaveError('ENCLAVE_SEAL_CORRUPT', 'A stored value is not UTF-8 JSON although its record authenticated; the store was written by an incompatible build. Start from an empty data directory.', { cause: e });
  }
}
