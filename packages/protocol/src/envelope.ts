import { defineError } from './errors.ts';
import { EPOCH, MAX_PAYLOAD_BYTES, PAYLOAD_KIND } from './constants.ts';

/** A request payload as stored on-chain, split into its kind and body. */
export type Envelope =
  /**
   * `epoch` undefined: the legacy 0x01 form, read as epoch 0 with the epoch-less additional data (requestAad).
   * `epoch` set: the 0x03 form naming the rotation epoch it is sealed to (requestEpochAad), docs/protocol.md#rotation.
   */
  | { kind: 'private'; enc: Uint8Array; ciphertext: Uint8Array; epoch?: number }
  | { kind: 'public'; data: Uint8Array };

/** Thrown for a payload that is empty, too large, of unknown kind, or too short for its kind. */
export class EnvelopeError extends defineError({
  codes: ['ENVELOPE_INVALID'],
  docsPath: 'protocol.md#requests',
  build: (message: string) => ({ code: 'ENVELOPE_INVALID', message: `Request payload is malformed: ${message}.` }),
}) {}

/** X25519 encapsulated key length (RFC 9180 §7.1, Nenc = 32). */
export const ENC_LEN = 32;
/** AEAD tag length (AES-128-GCM / ChaCha20-Poly1305, 16 bytes). */
export const TAG_LEN = 16;

/** Length of the epoch field of a 0x03 private payload (uint32 big-endian). */
export const EPOCH_LEN = 4;

/**
 * Encode: private = 0x01 || enc(32) || ciphertext, or with an epoch 0x03 || epoch (uint32 BE) || enc(32) ||
 * ciphertext; public = 0x02 || data. Throws EnvelopeError (ENVELOPE_INVALID).
 */
export function encodeEnvelope(e: Envelope): Uint8Array {
  if (e.kind === 'private') {
    if (e.enc.length !== ENC_LEN) throw new EnvelopeError(`enc must be ${ENC_LEN} bytes`);
    if (e.epoch !== undefined) {
      if (!Number.isInteger(e.epoch) || e.epoch < 0 || e.epoch > EPOCH.max) throw new EnvelopeError(`epoch must be an integer in 0..${EPOCH.max}`);
      const out = new Uint8Array(1 + EPOCH_LEN + ENC_LEN + e.ciphertext.length);
      out[0] = PAYLOAD_KIND.privateEpoch;
      new DataView(out.buffer).setUint32(1, e.epoch, false);
      out.set(e.enc, 1 + EPOCH_LEN);
      out.set(e.ciphertext, 1 + EPOCH_LEN + ENC_LEN);
      return checkSize(out);
    }
    const out = new Uint8Array(1 + ENC_LEN + e.ciphertext.length);
    out[0] = PAYLOAD_KIND.private;
    out.set(e.enc, 1);
    out.set(e.ciphertext, 1 + ENC_LEN);
    return checkSize(out);
  }
  const out = new Uint8Array(1 + e.data.length);
  out[0] = PAYLOAD_KIND.public;
  out.set(e.data, 1);
  return checkSize(out);
}

function checkSize(b: Uint8Array): Uint8Array {
  if (b.length > MAX_PAYLOAD_BYTES) throw new EnvelopeError(`${b.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  return b;
}

/** Decode a payload. Throws EnvelopeError; never anything else. */
export function decodeEnvelope(b: Uint8Array): Envelope {
  if (b.length === 0) throw new EnvelopeError('empty');
  if (b.length > MAX_PAYLOAD_BYTES) throw new EnvelopeError(`${b.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  if (b[0] === PAYLOAD_KIND.private) {
    if (b.length < 1 + ENC_LEN + TAG_LEN) throw new EnvelopeError('private payload shorter than enc + tag');
    return { kind: 'private', enc: b.subarray(1, 1 + ENC_LEN), ciphertext: b.subarray(1 + ENC_LEN) };
  }
  if (b[0] === PAYLOAD_KIND.privateEpoch) {
    if (b.length < 1 + EPOCH_LEN + ENC_LEN + TAG_LEN) throw new EnvelopeError('epoch private payload shorter than epoch + enc + tag');
    const epoch = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(1, false);
    return { kind: 'private', epoch, enc: b.subarray(1 + EPOCH_LEN, 1 + EPOCH_LEN + ENC_LEN), ciphertext: b.subarray(1 + EPOCH_LEN + ENC_LEN) };
  }
  if (b[0] === PAYLOAD_KIND.public) return { kind: 'public', data: b.subarray(1) };
  throw new EnvelopeError(`unknown kind byte 0x${b[0]!.toString(16).padStart(2, '0')}`);
}
