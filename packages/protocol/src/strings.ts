import { defineError } from './errors.ts';

/**
 * Names are bytes (docs/protocol.md#strings). Every ABI `string` the enclave reads from the chain (a public
 * request's kind, an app's names) is the exact byte string the contract hashed and stored. Both sides must agree on
 * it byte for byte, so the enclave never lets a lossy decoder choose: a WHATWG TextDecoder with default options
 * drops a leading U+FEFF ("\uFEFFpoll" would become "poll") and maps every ill-formed sequence to U+FFFD (64 bytes
 * of 0xff would become 64 U+FFFD, and so would any other 64 ill-formed bytes).
 *
 * The rule: decode as `bytes`, then UTF-8 with a fatal decoder that keeps a leading BOM. Ill-formed UTF-8
 * (RFC 3629 §3/§4: overlong forms, surrogates U+D800..U+DFFF, code points above U+10FFFF, truncated sequences,
 * stray continuation bytes) is refused with {@link InvalidUtf8Error}. For accepted bytes,
 * `new TextEncoder().encode(decodeUtf8Strict(b))` equals `b` (the round trip is exact). The contracts apply the same
 * rule before appending (packages/contracts/src/Utf8.sol), so a name the enclave would refuse never reaches it.
 */

/** Thrown for bytes that are not well-formed UTF-8 (RFC 3629). Code ENVELOPE_INVALID_UTF8. */
export class InvalidUtf8Error extends defineError({
  codes: ['ENVELOPE_INVALID_UTF8'],
  docsPath: 'protocol.md#strings',
  build: (what: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) => ({
    code: 'ENVELOPE_INVALID_UTF8',
    message: `${what} is not well-formed UTF-8 (RFC 3629). Send the name as UTF-8 text; contracts built on GeodeCore refuse such bytes with Utf8.isValid before appending.`,
    details: opts.details,
    cause: opts.cause,
  }),
}) {}

const FATAL_KEEP_BOM = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decode `bytes` as UTF-8, strictly: a leading U+FEFF is kept as a character, ill-formed input throws.
 * `what` names the field in the error message (e.g. "The public request kind").
 * Throws InvalidUtf8Error (ENVELOPE_INVALID_UTF8). Spec: RFC 3629; WHATWG Encoding "UTF-8 decode without BOM or fail".
 */
export function decodeUtf8Strict(bytes: Uint8Array, what = 'The string'): string {
  try {
    return FATAL_KEEP_BOM.decode(bytes);
  } catch (e) {
    throw new InvalidUtf8Error(what, { cause: e, details: { bytes: bytes.length } });
  }
}

/** True when `bytes` is well-formed UTF-8 (RFC 3629), the same predicate as Utf8.isValid in Solidity. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    FATAL_KEEP_BOM.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * UTF-8 bytes of a JS string that is well-formed UTF-16 (no lone surrogates), for names sent to the chain.
 * A lone surrogate has no UTF-8 form: TextEncoder (and so viem's string encoding) would silently replace it with
 * U+FFFD, and the name on-chain would differ from the one the user typed. Throws InvalidUtf8Error instead.
 */
export function encodeUtf8Strict(s: string, what = 'The string'): Uint8Array {
  if (!isWellFormedString(s)) throw new InvalidUtf8Error(what, { details: { reason: 'lone UTF-16 surrogate' } });
  return new TextEncoder().encode(s);
}

/** True when the JS string holds no lone surrogate (ECMAScript String.prototype.isWellFormed). */
export function isWellFormedString(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}
