/**
 * Intel DCAP quote parser: SGX quote v3, TDX quote v4 and v5 (ECDSA-256 with P-256).
 *
 * Layouts followed (all integers little-endian):
 * - SGX quote v3: "Intel SGX ECDSA Quote Library API" (Intel, March 2023), Appendix A.3
 *   "Quote Format": A.3.1 Quote Header (48 bytes), A.3.2 ISV Enclave Report Body (384 bytes),
 *   A.3.3 Quote Signature Data (u32 length), A.3.4 ECDSA 256-bit Quote Signature Data Structure,
 *   A.3.7 QE Certification Data (type u16, size u32, data) with type 5 = concatenated PCK cert chain PEM.
 * - TDX quote v4/v5: "Intel TDX DCAP Quoting Library API" (Intel, Rev. 0.9 / 2024), Appendix A.3
 *   "Version 4 Quote Format" (A.3.1 Header, A.3.2 TD Quote Body, A.3.8 Quote Signature Data,
 *   A.3.9 QE Report Certification Data = certification data type 6) and Appendix A.4
 *   "Version 5 Quote Format" (A.4.1 Quote Body Descriptor {type u16, size u32}; body type 1 = SGX
 *   report, 2 = TD report 1.0 (584 bytes), 3 = TD report 1.5 (648 bytes: + TEE_TCB_SVN2, MRSERVICETD)).
 *
 * The parser never verifies anything: it checks only lengths, versions and types.
 * Errors: {@link DecodeError} (`ATTEST_DECODE`) on truncation / inconsistent length fields,
 * {@link UnsupportedVersionError} (`ATTEST_UNSUPPORTED_VERSION`) on unknown version, attestation
 * key type, TEE type, body type or certification data type. Nothing else is ever thrown.
 */
import { DecodeError, UnsupportedVersionError } from '../errors.ts';

/** Quote header length (A.3.1), bytes. */
export const HEADER_LEN = 48;
/** SGX report body (ISV enclave report / QE report) length, bytes. */
export const SGX_REPORT_LEN = 384;
/** TDX TD report body v1.0 length (TDX 1.0), bytes. */
export const TD10_REPORT_LEN = 584;
/** TDX TD report body v1.5 length (TDX 1.5), bytes. */
export const TD15_REPORT_LEN = 648;
/** v5 body descriptor length (type u16 + size u32). */
export const BODY_DESCRIPTOR_LEN = 6;
/** TEE type values of the header. */
export const TEE_TYPE_SGX = 0x00000000;
export const TEE_TYPE_TDX = 0x00000081;
/** Attestation key type 2 = ECDSA-256-with-P-256 curve (the only type DCAP quotes use). */
export const ATT_KEY_TYPE_ECDSA_P256 = 2;
/** Certification data types (A.3.7 / A.3.9). */
export const CERT_TYPE_PCK_CHAIN = 5;
export const CERT_TYPE_QE_REPORT = 6;

/** A.3.1 quote header. */
export interface QuoteHeader {
  /** 3 (SGX), 4 or 5 (TDX; v4 may also carry SGX). */
  version: number;
  /** 2 = ECDSA-256 P-256. */
  attestationKeyType: number;
  /** 0 = SGX, 0x81 = TDX. In v3 this field is reserved (zero). */
  teeType: number;
  /** QE SVN (v3) / reserved (v4+). */
  qeSvn: number;
  /** PCE SVN (v3) / reserved (v4+). */
  pceSvn: number;
  /** 16 bytes, Intel QE vendor id 939a7233f79c4ca9940a0db3957f0607. */
  qeVendorId: Uint8Array;
  /** 20 bytes; first 16 bytes = QE ID for Intel QEs. */
  userData: Uint8Array;
}

/** SGX REPORTBODY (384 bytes), used both for the ISV enclave report and the QE report (SDM Vol.3D 38.15, A.3.2). */
export interface SgxReportBody {
  cpuSvn: Uint8Array; // 16
  miscSelect: number; // u32
  isvExtProdId: Uint8Array; // 16 (offset 32; reserved in older docs)
  attributes: Uint8Array; // 16 (offset 48): flags u64 LE || xfrm u64 LE
  mrEnclave: Uint8Array; // 32 (offset 64)
  mrSigner: Uint8Array; // 32 (offset 128)
  configId: Uint8Array; // 64 (offset 192)
  isvProdId: number; // u16 (offset 256)
  isvSvn: number; // u16 (offset 258)
  configSvn: number; // u16 (offset 260)
  isvFamilyId: Uint8Array; // 16 (offset 304)
  reportData: Uint8Array; // 64 (offset 320)
}

/** TDX TD Quote Body (A.3.2; v1.5 adds teeTcbSvn2 and mrServiceTd). */
export interface TdReportBody {
  teeTcbSvn: Uint8Array; // 16
  mrSeam: Uint8Array; // 48
  mrSignerSeam: Uint8Array; // 48
  seamAttributes: Uint8Array; // 8
  tdAttributes: Uint8Array; // 8
  xfam: Uint8Array; // 8
  mrTd: Uint8Array; // 48
  mrConfigId: Uint8Array; // 48
  mrOwner: Uint8Array; // 48
  mrOwnerConfig: Uint8Array; // 48
  rtmrs: [Uint8Array, Uint8Array, Uint8Array, Uint8Array]; // 4 x 48
  reportData: Uint8Array; // 64
  /** TD 1.5 only. */
  teeTcbSvn2?: Uint8Array; // 16
  /** TD 1.5 only. */
  mrServiceTd?: Uint8Array; // 48
}

export type QuoteBody =
  | { kind: 'sgx'; report: SgxReportBody }
  | { kind: 'td10'; report: TdReportBody }
  | { kind: 'td15'; report: TdReportBody };

/** Certification data (A.3.7): type + raw data. For type 5, `pemChain` holds the text. */
export interface CertificationData {
  type: number;
  data: Uint8Array;
  /** Type 5 only: the PEM chain as text (leaf first). */
  pemChain?: string;
}

/** QE report part of the signature data (inline in v3, inside certification data type 6 in v4/v5). */
export interface QeReportCertificationData {
  /** Raw 384-byte QE report (the signed bytes). */
  qeReportRaw: Uint8Array;
  qeReport: SgxReportBody;
  /** 64 bytes r||s, big-endian each (ECDSA P-256 over SHA-256(qeReportRaw)). */
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** Inner certification data (type 5 expected). */
  certification: CertificationData;
}

/** A.3.4 / A.3.8 signature data. */
export interface QuoteSignatureData {
  /** 64 bytes r||s over header || (descriptor ||) body. */
  signature: Uint8Array;
  /** 64 bytes x||y of the P-256 attestation key (uncompressed point without the 0x04 prefix). */
  attestationKey: Uint8Array;
  qe: QeReportCertificationData;
  /** Outer certification data type: 5 for v3, 6 for v4/v5. */
  outerCertType: number;
}

/** A fully parsed DCAP quote. Byte fields are views into the input (do not mutate the input). */
export interface DcapQuote {
  header: QuoteHeader;
  /** v5 only: body descriptor. */
  bodyDescriptor?: { type: number; size: number };
  body: QuoteBody;
  /** The bytes covered by the quote signature: header || (descriptor ||) body. */
  signedBytes: Uint8Array;
  /** Declared signature data length (u32). */
  signatureDataLength: number;
  signatureData: QuoteSignatureData;
  /** Bytes after the signature data, tolerated (some generators pad quotes). */
  trailingBytes: number;
  /** Convenience: 'sgx' or 'tdx'. */
  teeType: 'sgx' | 'tdx';
}

/** Bounds-checked little-endian reader. Every read failure is an `ATTEST_DECODE`. */
class Reader {
  off = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length, start = 0) {
    this.off = start;
  }
  need(n: number, field: string): void {
    if (n < 0 || this.off + n > this.end) {
      throw new DecodeError(`DCAP quote truncated: ${field} needs ${n} bytes at offset ${this.off}, ${Math.max(0, this.end - this.off)} left`, {
        details: { field, offset: this.off, needed: n, available: Math.max(0, this.end - this.off) },
      });
    }
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.buf[this.off] | (this.buf[this.off + 1] << 8);
    this.off += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const b = this.buf;
    const o = this.off;
    const v = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
    this.off += 4;
    return v;
  }
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
}

function u16At(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
function u32At(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
}

/**
 * Parses a 384-byte SGX REPORTBODY (Intel SDM Vol. 3D, 38.15 REPORT; quote v3 A.3.2).
 * @throws DecodeError if `raw` is not exactly 384 bytes.
 */
export function parseSgxReportBody(raw: Uint8Array): SgxReportBody {
  if (raw.length !== SGX_REPORT_LEN) throw new DecodeError(`SGX report body must be 384 bytes, got ${raw.length}`, { details: { length: raw.length } });
  return {
    cpuSvn: raw.subarray(0, 16),
    miscSelect: u32At(raw, 16),
    isvExtProdId: raw.subarray(32, 48),
    attributes: raw.subarray(48, 64),
    mrEnclave: raw.subarray(64, 96),
    mrSigner: raw.subarray(128, 160),
    configId: raw.subarray(192, 256),
    isvProdId: u16At(raw, 256),
    isvSvn: u16At(raw, 258),
    configSvn: u16At(raw, 260),
    isvFamilyId: raw.subarray(304, 320),
    reportData: raw.subarray(320, 384),
  };
}

/**
 * Parses a TDX TD quote body: 584 bytes (TD 1.0) or 648 bytes (TD 1.5)
 * (TDX DCAP Quoting Library API A.3.2 and A.4.2).
 * @throws DecodeError on any other length.
 */
export function parseTdReportBody(raw: Uint8Array): TdReportBody {
  if (raw.length !== TD10_REPORT_LEN && raw.length !== TD15_REPORT_LEN) {
    throw new DecodeError(`TD report body must be 584 or 648 bytes, got ${raw.length}`, { details: { length: raw.length } });
  }
  const s = (o: number, n: number) => raw.subarray(o, o + n);
  const body: TdReportBody = {
    teeTcbSvn: s(0, 16),
    mrSeam: s(16, 48),
    mrSignerSeam: s(64, 48),
    seamAttributes: s(112, 8),
    tdAttributes: s(120, 8),
    xfam: s(128, 8),
    mrTd: s(136, 48),
    mrConfigId: s(184, 48),
    mrOwner: s(232, 48),
    mrOwnerConfig: s(280, 48),
    rtmrs: [s(328, 48), s(376, 48), s(424, 48), s(472, 48)],
    reportData: s(520, 64),
  };
  if (raw.length === TD15_REPORT_LEN) {
    body.teeTcbSvn2 = s(584, 16);
    body.mrServiceTd = s(600, 48);
  }
  return body;
}

function parseCertificationData(r: Reader, field: string, allowed: readonly number[]): CertificationData {
  const type = r.u16(`${field}.type`);
  const size = r.u32(`${field}.size`);
  if (!allowed.includes(type)) {
    // Types 1..7 exist in the spec; anything else is garbage rather than an unsupported feature.
    if (type >= 1 && type <= 7) {
      throw new UnsupportedVersionError(`Certification data type ${type} is not supported here (supported: ${allowed.join(', ')})`, {
        details: { field, type },
      });
    }
    throw new DecodeError(`Unknown certification data type ${type}`, { details: { field, type, offset: r.off - 6 } });
  }
  const data = r.bytes(size, `${field}.data`);
  const cd: CertificationData = { type, data };
  if (type === CERT_TYPE_PCK_CHAIN) cd.pemChain = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  return cd;
}

function parseQeReportPart(r: Reader, field: string): Omit<QeReportCertificationData, 'certification'> {
  const qeReportRaw = r.bytes(SGX_REPORT_LEN, `${field}.qeReport`);
  const qeReportSignature = r.bytes(64, `${field}.qeReportSignature`);
  const authLen = r.u16(`${field}.qeAuthData.size`);
  const qeAuthData = r.bytes(authLen, `${field}.qeAuthData`);
  return { qeReportRaw, qeReport: parseSgxReportBody(qeReportRaw), qeReportSignature, qeAuthData };
}

/**
 * Parses a DCAP quote (SGX v3, TDX v4/v5; v4/v5 with an SGX body are parsed too).
 *
 * @param bytes raw quote bytes (binary, not hex).
 * @returns the parsed quote; byte fields are subarrays of `bytes`.
 * @throws DecodeError (`ATTEST_DECODE`) truncated quote, body size mismatch, a length field
 *   pointing past its container, or an inner structure not filling its declared length.
 * @throws UnsupportedVersionError (`ATTEST_UNSUPPORTED_VERSION`) version not 3/4/5, attestation
 *   key type not 2 (ECDSA P-256), TEE type not 0/0x81, v5 body type not 1/2/3, certification
 *   data type not 5 (v3) / 6 wrapping 5 (v4, v5).
 */
export function parseQuote(bytes: Uint8Array): DcapQuote {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('DCAP quote must be a Uint8Array');
  const r = new Reader(bytes);
  const version = r.u16('header.version');
  const attestationKeyType = r.u16('header.attestationKeyType');
  const teeType = r.u32('header.teeType');
  const qeSvn = r.u16('header.qeSvn');
  const pceSvn = r.u16('header.pceSvn');
  const qeVendorId = r.bytes(16, 'header.qeVendorId');
  const userData = r.bytes(20, 'header.userData');
  const header: QuoteHeader = { version, attestationKeyType, teeType, qeSvn, pceSvn, qeVendorId, userData };

  if (version !== 3 && version !== 4 && version !== 5) {
    throw new UnsupportedVersionError(`DCAP quote version ${version} is not supported (supported: 3, 4, 5)`, { details: { version } });
  }
  if (attestationKeyType !== ATT_KEY_TYPE_ECDSA_P256) {
    throw new UnsupportedVersionError(`Attestation key type ${attestationKeyType} is not supported (only 2 = ECDSA-256 P-256)`, {
      details: { attestationKeyType },
    });
  }
  if (teeType !== TEE_TYPE_SGX && teeType !== TEE_TYPE_TDX) {
    throw new UnsupportedVersionError(`TEE type 0x${teeType.toString(16)} is not supported (0 = SGX, 0x81 = TDX)`, { details: { teeType } });
  }
  if (version === 3 && teeType !== TEE_TYPE_SGX) {
    throw new UnsupportedVersionError('Quote v3 must have TEE type SGX (0)', { details: { version, teeType } });
  }

  let body: QuoteBody;
  let bodyDescriptor: DcapQuote['bodyDescriptor'];
  if (version === 5) {
    const type = r.u16('bodyDescriptor.type');
    const size = r.u32('bodyDescriptor.size');
    bodyDescriptor = { type, size };
    const expected = type === 1 ? SGX_REPORT_LEN : type === 2 ? TD10_REPORT_LEN : type === 3 ? TD15_REPORT_LEN : -1;
    if (expected < 0) throw new UnsupportedVersionError(`Quote v5 body type ${type} is not supported (1 SGX, 2 TD 1.0, 3 TD 1.5)`, { details: { type } });
    if ((type === 1) !== (teeType === TEE_TYPE_SGX)) {
      throw new DecodeError(`Quote v5 body type ${type} does not match TEE type 0x${teeType.toString(16)}`, { details: { type, teeType } });
    }
    if (size !== expected) throw new DecodeError(`Quote v5 body type ${type} must be ${expected} bytes, descriptor says ${size}`, { details: { type, size, expected } });
    const raw = r.bytes(size, 'body');
    body = type === 1 ? { kind: 'sgx', report: parseSgxReportBody(raw) } : { kind: type === 2 ? 'td10' : 'td15', report: parseTdReportBody(raw) };
  } else if (teeType === TEE_TYPE_SGX) {
    body = { kind: 'sgx', report: parseSgxReportBody(r.bytes(SGX_REPORT_LEN, 'body')) };
  } else {
    body = { kind: 'td10', report: parseTdReportBody(r.bytes(TD10_REPORT_LEN, 'body')) };
  }
  const signedBytes = bytes.subarray(0, r.off);

  const sigLen = r.u32('signatureData.length');
  r.need(sigLen, 'signatureData');
  const sigEnd = r.off + sigLen;
  const s = new Reader(bytes, sigEnd, r.off);
  const signature = s.bytes(64, 'signatureData.signature');
  const attestationKey = s.bytes(64, 'signatureData.attestationKey');
  let qe: QeReportCertificationData;
  let outerCertType: number;
  if (version === 3) {
    const part = parseQeReportPart(s, 'signatureData');
    const certification = parseCertificationData(s, 'signatureData.certificationData', [1, 2, 3, 4, 5]);
    outerCertType = certification.type;
    qe = { ...part, certification };
  } else {
    const outer = parseCertificationData(s, 'signatureData.certificationData', [CERT_TYPE_QE_REPORT]);
    outerCertType = outer.type;
    const innerStart = s.off - outer.data.length;
    const inner = new Reader(bytes, s.off, innerStart);
    const part = parseQeReportPart(inner, 'qeReportCertificationData');
    const certification = parseCertificationData(inner, 'qeReportCertificationData.certificationData', [1, 2, 3, 4, 5]);
    if (inner.off !== inner.end) {
      throw new DecodeError(`QE report certification data has ${inner.end - inner.off} unexplained bytes`, { details: { extra: inner.end - inner.off } });
    }
    qe = { ...part, certification };
  }
  if (s.off !== sigEnd) {
    throw new DecodeError(`Quote signature data declares ${sigLen} bytes but its content uses ${s.off - (sigEnd - sigLen)}`, {
      details: { declared: sigLen, used: s.off - (sigEnd - sigLen) },
    });
  }
  return {
    header,
    bodyDescriptor,
    body,
    signedBytes,
    signatureDataLength: sigLen,
    signatureData: { signature, attestationKey, qe, outerCertType },
    trailingBytes: bytes.length - sigEnd,
    teeType: teeType === TEE_TYPE_TDX ? 'tdx' : 'sgx',
  };
}
