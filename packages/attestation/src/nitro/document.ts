/**
 * AWS Nitro Enclaves attestation document parser.
 *
 * Specs: RFC 9052 (CBOR Object Signing and Encryption) section 4.2 COSE_Sign1
 * `[protected: bstr, unprotected: map, payload: bstr, signature: bstr]`, tagged (CBOR tag 18, first byte 0xd2) or
 * untagged (first byte 0x84); AWS "Nitro Enclaves User Guide", "Verifying the root of trust" (attestation document
 * specification): payload map { module_id: tstr, digest: "SHA384", timestamp: uint (ms since epoch),
 * pcrs: { uint => bstr(32/48/64) } (1..32 entries), certificate: bstr (DER), cabundle: [bstr] (root first),
 * ? public_key: bstr, ? user_data: bstr, ? nonce: bstr }. CBOR is decoded with cbor-x (uint64 may be a BigInt).
 */
import { Decoder } from 'cbor-x';
import { DecodeError } from '../errors.ts';
import { NitroFormatError } from './errors.ts';

/** COSE algorithm identifier of ES384 (ECDSA P-384 with SHA-384), RFC 9053 section 2.1. */
export const COSE_ALG_ES384 = -35;

/** A parsed attestation document. Byte fields are Uint8Array; see {@link parseNitroDocument}. */
export interface NitroDocument {
  /** Whether the COSE_Sign1 carried CBOR tag 18. */
  tagged: boolean;
  /** Serialized protected header (bstr content), needed for the Sig_structure. */
  protectedBytes: Uint8Array;
  /** Protected header algorithm (label 1); always -35 after parsing. */
  alg: number;
  /** Serialized payload (bstr content), needed for the Sig_structure. */
  payloadBytes: Uint8Array;
  /** Signature r||s, 96 bytes (RFC 9053 section 2.1, ECDSA fixed-length encoding). */
  signature: Uint8Array;
  moduleId: string;
  /** Always "SHA384". */
  digest: string;
  /** Milliseconds since the Unix epoch. */
  timestampMs: number;
  /** PCR index -> value. */
  pcrs: Map<number, Uint8Array>;
  /** Leaf certificate, DER. */
  certificate: Uint8Array;
  /** CA bundle, DER, root first (cabundle[0] is the AWS root). */
  cabundle: Uint8Array[];
  publicKey?: Uint8Array;
  userData?: Uint8Array;
  nonce?: Uint8Array;
}

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false } as ConstructorParameters<typeof Decoder>[0]);

function cbor(bytes: Uint8Array, what: string): unknown {
  try {
    return decoder.decode(bytes);
  } catch (e) {
    throw new DecodeError(`Nitro attestation document: ${what} is not valid CBOR (truncated or not a COSE_Sign1)`, { cause: e, details: { what } });
  }
}

const isBytes = (x: unknown): x is Uint8Array => x instanceof Uint8Array;
const u8 = (x: Uint8Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

function bstr(m: Map<unknown, unknown>, key: string, min: number, max: number, optional: true): Uint8Array | undefined;
function bstr(m: Map<unknown, unknown>, key: string, min: number, max: number, optional?: false): Uint8Array;
function bstr(m: Map<unknown, unknown>, key: string, min: number, max: number, optional = false): Uint8Array | undefined {
  const v = m.get(key);
  if (v === undefined || v === null) {
    if (optional) return undefined;
    throw new NitroFormatError(`Nitro attestation document: payload field ${key} is missing`, { details: { field: key } });
  }
  if (!isBytes(v) || v.length < min || v.length > max) {
    throw new NitroFormatError(`Nitro attestation document: payload field ${key} must be a byte string of ${min}..${max} bytes`, {
      details: { field: key, length: isBytes(v) ? v.length : null },
    });
  }
  return u8(v);
}

/**
 * Parses (does not verify) a Nitro attestation document.
 *
 * @param doc COSE_Sign1 bytes, tagged or untagged.
 * @throws DecodeError (`ATTEST_DECODE`) when the bytes are not one complete CBOR item (truncated, trailing data).
 * @throws NitroFormatError (`ATTEST_NITRO_FORMAT`) when the CBOR is not a COSE_Sign1 with an ES384 protected header
 *   and a payload matching the AWS attestation document specification (types, PCR count 1..32 and lengths
 *   32/48/64, certificate and cabundle entries 1..1024 bytes, public_key/user_data/nonce at most 1024 bytes).
 */
export function parseNitroDocument(doc: Uint8Array): NitroDocument {
  if (!(doc instanceof Uint8Array) || doc.length === 0) throw new DecodeError('Nitro attestation document must be a non-empty Uint8Array');
  let top = cbor(doc, 'document');
  let tagged = false;
  if (top && typeof top === 'object' && 'tag' in top && 'value' in top) {
    if ((top as { tag: unknown }).tag !== 18) {
      throw new NitroFormatError(`Nitro attestation document: CBOR tag ${(top as { tag: unknown }).tag} is not COSE_Sign1 (18)`);
    }
    tagged = true;
    top = (top as { value: unknown }).value;
  }
  if (!Array.isArray(top) || top.length !== 4) throw new NitroFormatError('Nitro attestation document is not a COSE_Sign1 array of 4 elements');
  const [prot, unprot, payload, signature] = top as unknown[];
  if (!isBytes(prot) || !isBytes(payload) || !isBytes(signature) || !(unprot instanceof Map)) {
    throw new NitroFormatError('Nitro attestation document: COSE_Sign1 elements must be [bstr, map, bstr, bstr]');
  }
  const ph = cbor(prot, 'protected header');
  const alg = ph instanceof Map ? ph.get(1) : undefined;
  if (alg !== COSE_ALG_ES384) {
    throw new NitroFormatError(`Nitro attestation document: protected header alg must be ES384 (-35), got ${String(alg)}`, { details: { alg: String(alg) } });
  }
  if (signature.length !== 96) {
    throw new NitroFormatError(`Nitro attestation document: ES384 signature must be 96 bytes, got ${signature.length}`, { details: { length: signature.length } });
  }
  const p = cbor(payload, 'payload');
  if (!(p instanceof Map)) throw new NitroFormatError('Nitro attestation document: payload is not a CBOR map');

  const moduleId = p.get('module_id');
  if (typeof moduleId !== 'string' || moduleId.length === 0) throw new NitroFormatError('Nitro attestation document: module_id must be a non-empty text string');
  const digest = p.get('digest');
  if (digest !== 'SHA384') throw new NitroFormatError(`Nitro attestation document: digest must be "SHA384", got ${String(digest)}`);
  const ts = p.get('timestamp');
  const timestampMs = typeof ts === 'bigint' ? Number(ts) : ts;
  if (typeof timestampMs !== 'number' || !Number.isSafeInteger(timestampMs) || timestampMs <= 0) {
    throw new NitroFormatError('Nitro attestation document: timestamp must be a positive integer (ms)');
  }
  const rawPcrs = p.get('pcrs');
  if (!(rawPcrs instanceof Map) || rawPcrs.size < 1 || rawPcrs.size > 32) {
    throw new NitroFormatError('Nitro attestation document: pcrs must be a map of 1..32 entries');
  }
  const pcrs = new Map<number, Uint8Array>();
  for (const [k, v] of rawPcrs) {
    const idx = typeof k === 'bigint' ? Number(k) : k;
    if (typeof idx !== 'number' || !Number.isInteger(idx) || idx < 0 || idx > 31) throw new NitroFormatError('Nitro attestation document: PCR index must be 0..31');
    if (!isBytes(v) || ![32, 48, 64].includes(v.length)) throw new NitroFormatError(`Nitro attestation document: PCR${idx} must be 32, 48 or 64 bytes`);
    pcrs.set(idx, u8(v));
  }
  const certificate = bstr(p, 'certificate', 1, 1024);
  const bundle = p.get('cabundle');
  if (!Array.isArray(bundle) || bundle.length < 1) throw new NitroFormatError('Nitro attestation document: cabundle must be a non-empty array');
  const cabundle = bundle.map((c, i) => {
    if (!isBytes(c) || c.length < 1 || c.length > 1024) throw new NitroFormatError(`Nitro attestation document: cabundle[${i}] must be 1..1024 bytes`);
    return u8(c);
  });
  return {
    tagged,
    protectedBytes: u8(prot),
    alg,
    payloadBytes: u8(payload),
    signature: u8(signature),
    moduleId,
    digest,
    timestampMs,
    pcrs,
    certificate,
    cabundle,
    publicKey: bstr(p, 'public_key', 1, 1024, true),
    userData: bstr(p, 'user_data', 0, 1024, true),
    nonce: bstr(p, 'nonce', 0, 1024, true),
  };
}
