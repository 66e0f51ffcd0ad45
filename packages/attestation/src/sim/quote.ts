/**
 * Simulated SGX DCAP quote v3 builder (the Geode dev TEE, `--tee sim`).
 *
 * The bytes follow Intel "SGX ECDSA Quote Library API", Appendix A "ECDSA Quote Format" exactly (see
 * ./layout.ts): 48-byte header, 384-byte ISV report body, u32 signature data length, ECDSA P-256 quote
 * signature r||s over SHA-256(header || body), 64-byte attestation public key x||y, 384-byte QE report, QE report
 * signature r||s by the PCK leaf key over SHA-256(QE report), QE authentication data (u16 size || bytes) and
 * certification data type 5 (u16 type || u32 size || PEM PCK leaf, PCK CA, root, NUL-terminated).
 * The QE report's REPORTDATA is SHA-256(attestation key x||y || QE auth data) || 32 zero bytes.
 *
 * Signing: deterministic ECDSA (RFC 6979) from @noble/curves `p256.sign(sha256Digest, key, { prehash: false })`,
 * with the SHA-256 digest computed by node:crypto. The same PKI and inputs therefore give the same bytes.
 * The QE report and its signature depend only on the PKI and are computed once per PKI object (cached), so a quote
 * costs one SHA-256 and one P-256 signature.
 *
 * This module imports nothing that does I/O and no X.509 library: it is safe in the trusted enclave bundle.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { SimInputError } from './errors.ts';
import type { SimulationPkiData } from './pki.ts';
import {
  ATT_KEY_TYPE_ECDSA_P256,
  BODY_ATTRIBUTES_OFFSET,
  BODY_CPU_SVN_OFFSET,
  BODY_ISV_PROD_ID_OFFSET,
  BODY_ISV_SVN_OFFSET,
  BODY_MISC_SELECT_OFFSET,
  BODY_MR_ENCLAVE_OFFSET,
  BODY_MR_SIGNER_OFFSET,
  BODY_REPORT_DATA_OFFSET,
  CERT_DATA_TYPE_PCK_CHAIN,
  HEADER_ATT_KEY_TYPE_OFFSET,
  HEADER_PCE_SVN_OFFSET,
  HEADER_QE_SVN_OFFSET,
  HEADER_QE_VENDOR_ID_OFFSET,
  HEADER_USER_DATA_OFFSET,
  HEADER_VERSION_OFFSET,
  INTEL_QE_VENDOR_ID_HEX,
  QUOTE_ATTESTATION_KEY_LEN,
  QUOTE_ATTESTATION_KEY_OFFSET,
  QUOTE_ATTRIBUTES_OFFSET,
  QUOTE_BODY_OFFSET,
  QUOTE_HEADER_LEN,
  QUOTE_ISV_PROD_ID_OFFSET,
  QUOTE_ISV_SVN_OFFSET,
  QUOTE_MR_ENCLAVE_OFFSET,
  QUOTE_MR_SIGNER_OFFSET,
  QUOTE_REPORT_DATA_OFFSET,
  QUOTE_SIGNATURE_LEN,
  QUOTE_SIGNATURE_OFFSET,
  QUOTE_SIGNED_LEN,
  QUOTE_SIG_DATA_LEN_OFFSET,
  QUOTE_VERSION_3,
  REPORT_BODY_LEN,
} from './layout.ts';

/** Default ISV ATTRIBUTES: FLAGS = INIT | MODE64BIT (0x05, DEBUG clear), XFRM = x87 | SSE (0x03). */
export const SIM_DEFAULT_ATTRIBUTES_HEX = '05000000000000000300000000000000';
/** Header user data of simulated quotes: ASCII "geode-sim", zero-padded to 20 bytes. */
export const SIM_HEADER_USER_DATA = (() => {
  const b = new Uint8Array(20);
  b.set(new TextEncoder().encode('geode-sim'));
  return b;
})();

/** Inputs of {@link buildSimQuote}. */
export interface BuildSimQuoteOptions {
  /** The simulation PKI (from `createSimulationPki` or `loadSimulationPki`). */
  pki: SimulationPkiData;
  /** MRENCLAVE, 32 bytes. */
  mrEnclave: Uint8Array;
  /** MRSIGNER, 32 bytes. */
  mrSigner: Uint8Array;
  /** REPORTDATA, 64 bytes. */
  reportData: Uint8Array;
  /** ISVPRODID, u16, default 0. */
  isvProdId?: number;
  /** ISVSVN, u16, default 0. */
  isvSvn?: number;
  /** ATTRIBUTES, 16 bytes (flags u64 LE || xfrm u64 LE); default {@link SIM_DEFAULT_ATTRIBUTES_HEX}. */
  attributes?: Uint8Array;
}

interface PkiCache {
  attD: Uint8Array;
  header: Uint8Array;
  attKey: Uint8Array;
  /** Everything after the attestation key: QE report, its signature, QE auth data, certification data. */
  tail: Uint8Array;
  cpuSvn: Uint8Array;
}

const cache = new WeakMap<object, PkiCache>();

const sha256 = (b: Uint8Array): Uint8Array => createHash('sha256').update(b).digest();

function hexField(h: unknown, field: string, len?: number): Uint8Array {
  if (typeof h !== 'string' || !/^0x(?:[0-9a-fA-F]{2})*$/.test(h)) {
    throw new SimInputError(`simulation PKI: field ${field} must be 0x-prefixed hex`, { details: { field } });
  }
  const b = new Uint8Array(Buffer.from(h.slice(2), 'hex'));
  if (len !== undefined && b.length !== len) {
    throw new SimInputError(`simulation PKI: field ${field} must be ${len} bytes`, { details: { field, length: b.length } });
  }
  return b;
}

/** P-256 private scalar (32 bytes) from PKCS#8 DER given as 0x-hex. */
function scalarFromPkcs8(h: unknown, field: string): Uint8Array {
  const derBytes = hexField(h, field);
  try {
    const jwk = createPrivateKey({ key: Buffer.from(derBytes), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    if (jwk.crv !== 'P-256' || typeof jwk.d !== 'string') throw new Error('not a P-256 key');
    return new Uint8Array(Buffer.from(jwk.d, 'base64url'));
  } catch (e) {
    throw new SimInputError(`simulation PKI: ${field} is not a P-256 PKCS#8 private key`, { cause: e, details: { field } });
  }
}

function u16(n: unknown, name: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffff) {
    throw new SimInputError(`buildSimQuote: ${name} must be an integer in 0..65535`, { details: { [name]: String(n) } });
  }
  return n;
}

function bytes(b: unknown, len: number, name: string): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length !== len) {
    throw new SimInputError(`buildSimQuote: ${name} must be a Uint8Array of ${len} bytes`, {
      details: { [name]: b instanceof Uint8Array ? `length ${b.length}` : typeof b },
    });
  }
  return b;
}

function prepare(pki: SimulationPkiData): PkiCache {
  const hit = cache.get(pki);
  if (hit) return hit;
  if (!pki || typeof pki !== 'object' || !pki.qe || !pki.platform || !pki.certs || !pki.keys) {
    throw new SimInputError('buildSimQuote: `pki` is not a simulation PKI (use createSimulationPki or loadSimulationPki)');
  }
  const attD = scalarFromPkcs8(pki.keys.attestation, 'keys.attestation');
  const pckD = scalarFromPkcs8(pki.keys.pckLeaf, 'keys.pckLeaf');
  const attKey = hexField(pki.attestationPublicKey, 'attestationPublicKey', QUOTE_ATTESTATION_KEY_LEN);
  const cpuSvn = hexField(pki.platform.cpuSvn, 'platform.cpuSvn', 16);
  const qeAuth = hexField(pki.qe.authData, 'qe.authData');
  const qeSvn = u16(pki.qe.isvSvn, 'qe.isvSvn');
  const pceSvn = u16(pki.platform.pceSvn, 'platform.pceSvn');

  const header = new Uint8Array(QUOTE_HEADER_LEN);
  const hv = new DataView(header.buffer);
  hv.setUint16(HEADER_VERSION_OFFSET, QUOTE_VERSION_3, true);
  hv.setUint16(HEADER_ATT_KEY_TYPE_OFFSET, ATT_KEY_TYPE_ECDSA_P256, true);
  hv.setUint16(HEADER_QE_SVN_OFFSET, qeSvn, true);
  hv.setUint16(HEADER_PCE_SVN_OFFSET, pceSvn, true);
  header.set(Buffer.from(INTEL_QE_VENDOR_ID_HEX, 'hex'), HEADER_QE_VENDOR_ID_OFFSET);
  header.set(SIM_HEADER_USER_DATA, HEADER_USER_DATA_OFFSET);

  // QE report (sgx_report_body_t).
  const qeReport = new Uint8Array(REPORT_BODY_LEN);
  const qv = new DataView(qeReport.buffer);
  qeReport.set(cpuSvn, BODY_CPU_SVN_OFFSET);
  qv.setUint32(BODY_MISC_SELECT_OFFSET, pki.qe.miscSelect >>> 0, true);
  qeReport.set(hexField(pki.qe.attributes, 'qe.attributes', 16), BODY_ATTRIBUTES_OFFSET);
  qeReport.set(hexField(pki.qe.mrEnclave, 'qe.mrEnclave', 32), BODY_MR_ENCLAVE_OFFSET);
  qeReport.set(hexField(pki.qe.mrSigner, 'qe.mrSigner', 32), BODY_MR_SIGNER_OFFSET);
  qv.setUint16(BODY_ISV_PROD_ID_OFFSET, u16(pki.qe.isvProdId, 'qe.isvProdId'), true);
  qv.setUint16(BODY_ISV_SVN_OFFSET, qeSvn, true);
  const qeHash = createHash('sha256').update(attKey).update(qeAuth).digest();
  qeReport.set(qeHash, BODY_REPORT_DATA_OFFSET); // + 32 zero bytes
  const qeSig = p256.sign(sha256(qeReport), pckD, { prehash: false });

  const certData = new TextEncoder().encode(pki.certs.pckLeaf + pki.certs.pckCa + pki.certs.rootCa + '\0');
  const tail = new Uint8Array(REPORT_BODY_LEN + 64 + 2 + qeAuth.length + 2 + 4 + certData.length);
  const tv = new DataView(tail.buffer);
  let o = 0;
  tail.set(qeReport, o);
  o += REPORT_BODY_LEN;
  tail.set(qeSig, o);
  o += 64;
  tv.setUint16(o, qeAuth.length, true);
  o += 2;
  tail.set(qeAuth, o);
  o += qeAuth.length;
  tv.setUint16(o, CERT_DATA_TYPE_PCK_CHAIN, true);
  o += 2;
  tv.setUint32(o, certData.length, true);
  o += 4;
  tail.set(certData, o);

  const entry: PkiCache = { attD, header, attKey, tail, cpuSvn };
  cache.set(pki, entry);
  return entry;
}

/**
 * Builds a simulated SGX DCAP quote v3 (layout in ./layout.ts) for an enclave with the given identity and report
 * data, signed by the PKI's attestation key, with the PKI's QE report and PCK chain. The ISV report body's CPUSVN
 * is the platform's CPUSVN; MISCSELECT, CONFIGID, CONFIGSVN, ISVEXTPRODID, ISVFAMILYID are zero.
 *
 * Verifies with `verifyDcapQuote(quote, pki.collateral(), { now, rootCaDer: pki.rootCaDer })` for `now` inside the
 * PKI validity, with status UpToDate. Deterministic (RFC 6979) for equal inputs and PKI.
 *
 * @returns the quote bytes (length 1014 + 32 + 6 + PEM chain length + 1).
 * @throws SimInputError (`ATTEST_SIM_INPUT`) on wrong input lengths, out-of-range integers or a malformed PKI.
 */
export function buildSimQuote(opts: BuildSimQuoteOptions): Uint8Array {
  const c = prepare(opts.pki);
  const mrEnclave = bytes(opts.mrEnclave, 32, 'mrEnclave');
  const mrSigner = bytes(opts.mrSigner, 32, 'mrSigner');
  const reportData = bytes(opts.reportData, 64, 'reportData');
  const attributes =
    opts.attributes === undefined ? Buffer.from(SIM_DEFAULT_ATTRIBUTES_HEX, 'hex') : bytes(opts.attributes, 16, 'attributes');
  const isvProdId = u16(opts.isvProdId ?? 0, 'isvProdId');
  const isvSvn = u16(opts.isvSvn ?? 0, 'isvSvn');

  const quote = new Uint8Array(QUOTE_ATTESTATION_KEY_OFFSET + QUOTE_ATTESTATION_KEY_LEN + c.tail.length);
  const v = new DataView(quote.buffer);
  quote.set(c.header, 0);
  const b = QUOTE_BODY_OFFSET;
  quote.set(c.cpuSvn, b + BODY_CPU_SVN_OFFSET);
  quote.set(attributes, QUOTE_ATTRIBUTES_OFFSET);
  quote.set(mrEnclave, QUOTE_MR_ENCLAVE_OFFSET);
  quote.set(mrSigner, QUOTE_MR_SIGNER_OFFSET);
  v.setUint16(QUOTE_ISV_PROD_ID_OFFSET, isvProdId, true);
  v.setUint16(QUOTE_ISV_SVN_OFFSET, isvSvn, true);
  quote.set(reportData, QUOTE_REPORT_DATA_OFFSET);
  v.setUint32(QUOTE_SIG_DATA_LEN_OFFSET, QUOTE_SIGNATURE_LEN + QUOTE_ATTESTATION_KEY_LEN + c.tail.length, true);
  const sig = p256.sign(sha256(quote.subarray(0, QUOTE_SIGNED_LEN)), c.attD, { prehash: false });
  quote.set(sig, QUOTE_SIGNATURE_OFFSET);
  quote.set(c.attKey, QUOTE_ATTESTATION_KEY_OFFSET);
  quote.set(c.tail, QUOTE_ATTESTATION_KEY_OFFSET + QUOTE_ATTESTATION_KEY_LEN);
  return quote;
}

/**
 * The bytes covered by the quote signature: `quote[0 .. 432)` = header || ISV report body (a view, not a copy).
 * The on-chain verifier checks the P-256 signature (EIP-7951) over SHA-256 of these bytes.
 * @throws SimInputError when the quote is shorter than 564 bytes.
 */
export function simQuoteSignedMessage(quote: Uint8Array): Uint8Array {
  checkQuoteLen(quote);
  return quote.subarray(0, QUOTE_SIGNED_LEN);
}

/** SHA-256 of {@link simQuoteSignedMessage} (32 bytes), the digest passed to the P-256 precompile. */
export function simQuoteSignedDigest(quote: Uint8Array): Uint8Array {
  return sha256(simQuoteSignedMessage(quote));
}

/** Fields an on-chain simulation verifier reads from a quote (views into the quote bytes). */
export interface SimQuoteFields {
  /** Header || ISV report body, 432 bytes. */
  signedMessage: Uint8Array;
  /** ECDSA signature r||s, 64 bytes (quote[436..500)). */
  signature: Uint8Array;
  /** Attestation public key x||y, 64 bytes (quote[500..564)). */
  attestationKey: Uint8Array;
  /** MRENCLAVE, 32 bytes (quote[112..144)). */
  mrEnclave: Uint8Array;
  /** MRSIGNER, 32 bytes (quote[176..208)). */
  mrSigner: Uint8Array;
  /** REPORTDATA, 64 bytes (quote[368..432)). */
  reportData: Uint8Array;
  /** ATTRIBUTES, 16 bytes (quote[96..112)). */
  attributes: Uint8Array;
  isvProdId: number;
  isvSvn: number;
}

/**
 * Reads the fixed-offset fields of an SGX quote v3 (no verification). Mirrors what the Solidity simulation
 * verifier does.
 * @throws SimInputError when the quote is shorter than 564 bytes.
 */
export function readSimQuoteFields(quote: Uint8Array): SimQuoteFields {
  checkQuoteLen(quote);
  const v = new DataView(quote.buffer, quote.byteOffset, quote.byteLength);
  return {
    signedMessage: quote.subarray(0, QUOTE_SIGNED_LEN),
    signature: quote.subarray(QUOTE_SIGNATURE_OFFSET, QUOTE_SIGNATURE_OFFSET + QUOTE_SIGNATURE_LEN),
    attestationKey: quote.subarray(QUOTE_ATTESTATION_KEY_OFFSET, QUOTE_ATTESTATION_KEY_OFFSET + QUOTE_ATTESTATION_KEY_LEN),
    mrEnclave: quote.subarray(QUOTE_MR_ENCLAVE_OFFSET, QUOTE_MR_ENCLAVE_OFFSET + 32),
    mrSigner: quote.subarray(QUOTE_MR_SIGNER_OFFSET, QUOTE_MR_SIGNER_OFFSET + 32),
    reportData: quote.subarray(QUOTE_REPORT_DATA_OFFSET, QUOTE_REPORT_DATA_OFFSET + 64),
    attributes: quote.subarray(QUOTE_ATTRIBUTES_OFFSET, QUOTE_ATTRIBUTES_OFFSET + 16),
    isvProdId: v.getUint16(QUOTE_ISV_PROD_ID_OFFSET, true),
    isvSvn: v.getUint16(QUOTE_ISV_SVN_OFFSET, true),
  };
}

/**
 * Checks only the quote signature against an expected attestation key, exactly like the on-chain simulation
 * verifier: the quote's embedded key must equal `attestationKey` (64 bytes x||y) and the P-256 signature at
 * 436..500 must verify over SHA-256(quote[0..432)). Returns false on any mismatch (never throws for bad bytes).
 */
export function checkSimQuoteSignature(quote: Uint8Array, attestationKey: Uint8Array): boolean {
  if (!(quote instanceof Uint8Array) || quote.length < QUOTE_ATTESTATION_KEY_OFFSET + QUOTE_ATTESTATION_KEY_LEN) return false;
  if (!(attestationKey instanceof Uint8Array) || attestationKey.length !== 64) return false;
  const f = readSimQuoteFields(quote);
  if (!Buffer.from(f.attestationKey).equals(Buffer.from(attestationKey))) return false;
  const pub = new Uint8Array(65);
  pub[0] = 4;
  pub.set(attestationKey, 1);
  try {
    return p256.verify(f.signature, sha256(f.signedMessage), pub, { prehash: false, lowS: false });
  } catch {
    return false;
  }
}

function checkQuoteLen(quote: Uint8Array): void {
  if (!(quote instanceof Uint8Array) || quote.length < QUOTE_ATTESTATION_KEY_OFFSET + QUOTE_ATTESTATION_KEY_LEN) {
    throw new SimInputError('simulated quote: expected at least 564 bytes (header, body, signature, attestation key)', {
      details: { length: quote instanceof Uint8Array ? quote.length : null },
    });
  }
}
