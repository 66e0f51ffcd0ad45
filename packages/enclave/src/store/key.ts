import { EnclaveError } from '../errors.ts';

/**
 * Store keys (docs/enclave.md#store-keys): a key is a tuple of typed parts, encoded to bytes with the FoundationDB
 * tuple layer's encoding (https://github.com/apple/foundationdb/blob/main/design/tuple.md), restricted to three
 * types. The encoding is order-preserving and each part is self-delimiting, so
 *   1. byte order of encoded keys == tuple order (bytes compare lexicographically, integers numerically), and
 *   2. encode([a, b]) is a byte prefix of encode([a, b, c]): iterating a byte prefix iterates a tuple prefix.
 *
 * Part encodings (type code, then payload):
 *   - bytes  (Uint8Array): 0x01, the bytes with every 0x00 written 0x00 0xff, then 0x00.
 *   - string (UTF-8):      0x02, the UTF-8 bytes escaped the same way, then 0x00.
 *   - unsigned integer (number: safe integer >= 0, or bigint in [0, 2^64)): 0x14 for zero, else 0x14 + n followed
 *     by the n-byte big-endian magnitude (n = 1..8, no leading zero byte). Decoded as bigint.
 * The first part of every stored key is the namespace string ("geode" is the framework's, an app uses its own).
 */

/** One key part: raw bytes (user-chosen names), a string, or an unsigned integer (< 2^64). */
export type KeyPart = Uint8Array | string | number | bigint;
/** A decoded key part: integers come back as bigint. */
export type DecodedKeyPart = Uint8Array | string | bigint;

/** Largest encoded key, in bytes. Bounds the trie path (so the cost of every lookup) whatever keys users choose. */
export const KEY_MAX_BYTES = 256;

const BYTES = 0x01;
const STRING = 0x02;
const INT_ZERO = 0x14;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function badKey(message: string, details: Record<string, unknown> = {}): EnclaveError {
  return new EnclaveError('ENCLAVE_STORE_KEY', `${message} Build keys from strings, byte strings and unsigned integers, at most ${KEY_MAX_BYTES} bytes encoded.`, { details });
}

function pushEscaped(out: number[], b: Uint8Array): void {
  for (const x of b) {
    out.push(x);
    if (x === 0) out.push(0xff);
  }
  out.push(0);
}

/**
 * Encode key parts to key bytes (see the module doc for the format). Throws ENCLAVE_STORE_KEY for a part of
 * another type, a negative, fractional or >= 2^64 integer, a lone surrogate in a string, or an encoding longer
 * than KEY_MAX_BYTES.
 */
export function encodeKey(parts: readonly KeyPart[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (p instanceof Uint8Array) {
      out.push(BYTES);
      pushEscaped(out, p);
    } else if (typeof p === 'string') {
      if (/\p{Surrogate}/u.test(p)) throw badKey('A string key part is not well-formed Unicode.');
      out.push(STRING);
      pushEscaped(out, utf8.encode(p));
    } else if (typeof p === 'number' || typeof p === 'bigint') {
      if (typeof p === 'number' && !Number.isSafeInteger(p)) throw badKey(`Integer key part ${p} is not a safe integer.`);
      let v = BigInt(p);
      if (v < 0n || v >= 1n << 64n) throw badKey(`Integer key part ${v} is outside [0, 2^64).`);
      const mag: number[] = [];
      while (v > 0n) {
        mag.unshift(Number(v & 0xffn));
        v >>= 8n;
      }
      out.push(INT_ZERO + mag.length, ...mag);
    } else {
      throw badKey(`A key part of type ${typeof p} is not allowed.`);
    }
    if (out.length > KEY_MAX_BYTES) throw badKey(`The key is longer than ${KEY_MAX_BYTES} bytes.`, { length: out.length });
  }
  return new Uint8Array(out);
}

function readEscaped(b: Uint8Array, i: number): { bytes: Uint8Array; next: number } {
  const out: number[] = [];
  for (;;) {
    if (i >= b.length) throw badKey('An encoded key ends inside a byte or string part.');
    const x = b[i++]!;
    if (x !== 0) { out.push(x); continue; }
    if (b[i] === 0xff) { out.push(0); i++; continue; }
    return { bytes: new Uint8Array(out), next: i };
  }
}

/**
 * Decode key bytes made by encodeKey back to parts (integers as bigint). Throws ENCLAVE_STORE_KEY on bytes that
 * encodeKey would not produce (unknown type code, truncated part, integer with a leading zero byte).
 */
export function decodeKey(b: Uint8Array): DecodedKeyPart[] {
  const parts: DecodedKeyPart[] = [];
  let i = 0;
  while (i < b.length) {
    const t = b[i++]!;
    if (t === BYTES || t === STRING) {
      const r = readEscaped(b, i);
      i = r.next;
      if (t === BYTES) parts.push(r.bytes);
      else {
        try { parts.push(utf8Strict.decode(r.bytes)); } catch { throw badKey('A string key part is not valid UTF-8.'); }
      }
    } else if (t >= INT_ZERO && t <= INT_ZERO + 8) {
      const n = t - INT_ZERO;
      if (i + n > b.length || (n > 0 && b[i] === 0)) throw badKey('An integer key part is truncated or not minimal.');
      let v = 0n;
      for (let k = 0; k < n; k++) v = (v << 8n) | BigInt(b[i + k]!);
      parts.push(v);
      i += n;
    } else {
      throw badKey(`Unknown key part type code 0x${t.toString(16)}.`);
    }
  }
  return parts;
}
