import { decodeAbiParameters, encodeAbiParameters, bytesToHex, hexToBytes, type Hex } from 'viem';
import { canonicalJson } from './canonical.ts';
import { defineError, GeodeError } from './errors.ts';
import { decodeUtf8Strict, encodeUtf8Strict } from './strings.ts';

/**
 * Inner formats of request and output payloads (docs/protocol.md#payloads).
 *
 * Public request: the envelope data (after the 0x02 kind byte) is abi.encode(string kind, bytes body).
 * Solidity: `abi.encodePacked(uint8(2), abi.encode(kind, body))`.
 *
 * Framework request kinds handled by the enclave itself (never reach the app):
 * - "geode.register-key": body = abi.encode(bytes32 x25519PublicKey) — registers the sender's output key.
 *
 * Output plaintext (what the HPKE output ciphertext decrypts to): UTF-8 canonical JSON (canonical.ts) of
 * {@link OutputMessage}. An output whose ciphertext is empty (0x) is *undeliverable*: its recipient had no
 * registered output key when it was produced.
 */

/** Public request kind that registers the sender's X25519 output key. */
export const REGISTER_KEY_KIND = 'geode.register-key';

/** Thrown when a public request's data is not abi.encode(string, bytes). */
export class PublicRequestError extends defineError({
  codes: ['ENVELOPE_INVALID'],
  docsPath: 'protocol.md#payloads',
  build: (message: string) => ({ code: 'ENVELOPE_INVALID', message: `Public request is malformed: ${message}. Encode it as abi.encode(string kind, bytes body).` }),
}) {}

/**
 * abi.encode(string kind, bytes body), 0x hex. The kind is encoded as its exact UTF-8 bytes (an ABI `string` and
 * `bytes` encode alike). Throws InvalidUtf8Error (ENVELOPE_INVALID_UTF8) for a kind with a lone surrogate.
 */
export function encodePublicRequest(kind: string, body: Hex): Hex {
  return encodeAbiParameters([{ type: 'bytes' }, { type: 'bytes' }], [bytesToHex(encodeUtf8Strict(kind, 'The public request kind')), body]);
}

/**
 * Inverse of encodePublicRequest. The kind is read as `bytes` and decoded with decodeUtf8Strict (names are bytes,
 * docs/protocol.md#strings). Throws PublicRequestError (ENVELOPE_INVALID) when the data does not ABI-decode,
 * InvalidUtf8Error (ENVELOPE_INVALID_UTF8) when the kind is not well-formed UTF-8.
 */
export function decodePublicRequest(data: Hex): { kind: string; body: Hex } {
  let kindBytes: Hex;
  let body: Hex;
  try {
    [kindBytes, body] = decodeAbiParameters([{ type: 'bytes' }, { type: 'bytes' }], data);
  } catch (e) {
    throw new PublicRequestError(e instanceof Error ? e.message.split('\n')[0]! : String(e));
  }
  return { kind: decodeUtf8Strict(hexToBytes(kindBytes), 'The public request kind'), body };
}

/** Body of a "geode.register-key" request: abi.encode(bytes32 x25519PublicKey). */
export function encodeRegisterKeyBody(publicKey: Hex): Hex {
  return encodeAbiParameters([{ type: 'bytes32' }], [publicKey]);
}

/** Decoded output plaintext. `seq` is the decimal string of the request's sequence number. */
export type OutputMessage =
  | { seq: string; ok: true; message: unknown }
  | { seq: string; ok: false; error: { code: string; message: string } };

/** UTF-8 canonical JSON bytes of an output message. */
export function encodeOutputMessage(m: OutputMessage): Uint8Array {
  return new TextEncoder().encode(canonicalJson(m));
}

/** Parse output plaintext bytes. Throws GeodeError ENVELOPE_INVALID when they are not an OutputMessage. */
export function decodeOutputMessage(b: Uint8Array): OutputMessage {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b));
  } catch {
    throw new GeodeError('ENVELOPE_INVALID', 'Output plaintext is not UTF-8 JSON.', { docsPath: 'protocol.md#payloads' });
  }
  const o = v as Record<string, unknown>;
  if (!o || typeof o !== 'object' || typeof o.seq !== 'string' || typeof o.ok !== 'boolean') {
    throw new GeodeError('ENVELOPE_INVALID', 'Output plaintext is not an OutputMessage {seq, ok, ...}.', { docsPath: 'protocol.md#payloads' });
  }
  return o as OutputMessage;
}
