/**
 * X.509 helpers for DCAP: PEM chains, chain validation to a pinned root, CRLs, and the Intel
 * SGX PCK certificate extension.
 *
 * Crypto: node:crypto (`X509Certificate.verify`, `crypto.verify`); ASN.1: @peculiar/asn1-x509 /
 * @peculiar/asn1-schema and asn1js. Nothing here reads the clock: validity windows are returned
 * to the caller, which compares them with its explicit `now`.
 *
 * Specs: RFC 5280 (certificates, CRLs); Intel "SGX PCK Certificate and Certificate Revocation
 * List Profile Specification" (rev. 1.5): section 1.3 (hierarchy: Root CA -> PCK Platform CA /
 * PCK Processor CA -> PCK cert; Root CA -> TCB Signing cert) and 1.5 (SGX extensions,
 * OID 1.2.840.113741.1.13.1).
 */
import { X509Certificate, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, CertificateList } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { ChainInvalidError, CrlInvalidError, CertRevokedError, DecodeError } from '../errors.ts';

/** A validity window to be compared with `now` by the caller. Unix seconds. */
export interface Window {
  /** What the window belongs to, e.g. "PCK certificate (CN=Intel SGX PCK Certificate)". */
  what: string;
  notBefore: number;
  notAfter: number;
  /** Which error applies when `now` is outside. */
  kind: 'cert' | 'crl' | 'collateral';
}

/** A parsed certificate with the values verification needs. */
export interface ParsedCert {
  der: Uint8Array;
  x509: X509Certificate;
  publicKey: KeyObject;
  subjectCN: string;
  issuerCN: string;
  /** Normalised serial: lowercase hex without leading zeros. */
  serial: string;
  notBefore: number;
  notAfter: number;
}

const CN_RE = /(?:^|\n)CN=([^\n]*)/;

/** Strips leading zero bytes / nibbles of a hex serial and lowercases it. */
export function normSerial(hex: string): string {
  const h = hex.toLowerCase().replace(/^0+/, '');
  return h === '' ? '0' : h;
}

/**
 * Parses one DER certificate.
 * @throws ChainInvalidError if it cannot be parsed.
 */
export function parseCert(der: Uint8Array, what: string): ParsedCert {
  try {
    const x509 = new X509Certificate(der);
    const c: ParsedCert = {
      der,
      x509,
      publicKey: x509.publicKey,
      subjectCN: CN_RE.exec(x509.subject)?.[1] ?? '',
      issuerCN: CN_RE.exec(x509.issuer)?.[1] ?? '',
      serial: normSerial(x509.serialNumber),
      notBefore: Date.parse(x509.validFrom) / 1000,
      notAfter: Date.parse(x509.validTo) / 1000,
    };
    if (!Number.isFinite(c.notBefore) || !Number.isFinite(c.notAfter)) throw new Error('unreadable validity dates');
    return c;
  } catch (e) {
    throw new ChainInvalidError(`${what}: certificate cannot be parsed`, { cause: e, details: { what } });
  }
}

/**
 * Splits a PEM text into DER certificates (leaf first, as in the quote's certification data
 * type 5 and the PCS issuer-chain headers). Trailing NUL bytes are ignored.
 * @throws ChainInvalidError when no certificate is found or base64 is invalid.
 */
export function pemToDers(pem: string, what: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(pem)) !== null) out.push(new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')));
  if (out.length === 0) throw new ChainInvalidError(`${what}: no PEM certificate found`, { details: { what } });
  return out;
}

/** Runs a node:crypto predicate; an OpenSSL exception counts as false. */
function safe(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** A chain checked to the pinned root (time-independent part). */
export interface VerifiedChain {
  /** Leaf first; the last element is the trusted root. */
  certs: ParsedCert[];
  /** One window per certificate. */
  windows: Window[];
  /** Number of signature verifications performed. */
  sigChecks: number;
}

/**
 * Verifies a certificate chain (leaf first) up to `root`, without time checks:
 * every certificate is signed by the next one (or by the root), issuer/subject names chain,
 * issuers are CA certificates, and the chain does not end at another self-signed root.
 * The root itself may be included (it must then be byte-identical to `root`) or omitted.
 *
 * @returns the parsed chain with the pinned root appended, and each certificate's validity window.
 * @throws ChainInvalidError on any failure.
 */
export function verifyChainToRoot(ders: Uint8Array[], root: ParsedCert, what: string): VerifiedChain {
  let list = ders;
  if (list.length > 0 && sameBytes(list[list.length - 1], root.der)) list = list.slice(0, -1);
  if (list.length === 0) throw new ChainInvalidError(`${what}: chain has no certificate below the root`, { details: { what } });
  if (list.length > 4) throw new ChainInvalidError(`${what}: chain too long (${list.length})`, { details: { what } });
  const certs = list.map((d, i) => parseCert(d, `${what} [${i}]`));
  const all = [...certs, root];
  let sigChecks = 0;
  for (let i = 0; i < certs.length; i++) {
    const c = certs[i];
    const issuer = all[i + 1];
    if (c.x509.issuer === c.x509.subject && i === certs.length - 1) {
      throw new ChainInvalidError(`${what}: chain ends at a self-signed certificate "${c.subjectCN}" that is not the trusted root`, {
        details: { what, subject: c.x509.subject },
      });
    }
    if (!safe(() => c.x509.checkIssued(issuer.x509))) {
      throw new ChainInvalidError(`${what}: "${c.subjectCN}" is not issued by "${issuer.subjectCN}"`, { details: { what, index: i } });
    }
    if (!safe(() => issuer.x509.ca)) throw new ChainInvalidError(`${what}: issuer "${issuer.subjectCN}" is not a CA certificate`, { details: { what, index: i + 1 } });
    sigChecks++;
    if (!safe(() => c.x509.verify(issuer.publicKey))) {
      throw new ChainInvalidError(`${what}: signature of "${c.subjectCN}" does not verify with "${issuer.subjectCN}"`, { details: { what, index: i } });
    }
  }
  return {
    certs: all,
    windows: all.map((c) => ({ what: `${what}: certificate "${c.subjectCN}"`, notBefore: c.notBefore, notAfter: c.notAfter, kind: 'cert' as const })),
    sigChecks,
  };
}

/** A CRL whose signature was verified. */
export interface VerifiedCrl {
  issuerCN: string;
  thisUpdate: number;
  nextUpdate: number;
  /** Normalised revoked serials. */
  revoked: Set<string>;
}

/**
 * Parses a DER CRL (RFC 5280 5.1) and verifies its signature (ECDSA-with-SHA256) with `issuer`.
 * @throws CrlInvalidError when malformed, without nextUpdate, or not signed by `issuer`.
 */
export function verifyCrl(der: Uint8Array, issuer: ParsedCert, what: string): VerifiedCrl {
  let crl: CertificateList;
  try {
    crl = AsnConvert.parse(der, CertificateList);
  } catch (e) {
    throw new CrlInvalidError(`${what}: CRL cannot be parsed`, { cause: e, details: { what } });
  }
  const tbsRaw = (crl as unknown as { tbsCertListRaw?: ArrayBuffer }).tbsCertListRaw;
  if (!tbsRaw) throw new CrlInvalidError(`${what}: CRL has no signed part`, { details: { what } });
  let ok = false;
  try {
    ok = cryptoVerify('sha256', new Uint8Array(tbsRaw), issuer.publicKey, new Uint8Array(crl.signature));
  } catch {
    ok = false;
  }
  if (!ok) throw new CrlInvalidError(`${what}: CRL signature does not verify with "${issuer.subjectCN}" (wrong CRL for this CA?)`, { details: { what, expectedIssuer: issuer.subjectCN } });
  const tbs = crl.tbsCertList;
  if (!tbs.nextUpdate) throw new CrlInvalidError(`${what}: CRL has no nextUpdate`, { details: { what } });
  const revoked = new Set<string>();
  for (const r of tbs.revokedCertificates ?? []) revoked.add(normSerial(Buffer.from(r.userCertificate).toString('hex')));
  return {
    issuerCN: issuer.subjectCN,
    thisUpdate: tbs.thisUpdate.getTime().getTime() / 1000,
    nextUpdate: tbs.nextUpdate.getTime().getTime() / 1000,
    revoked,
  };
}

/**
 * Throws when `cert` is listed in `crl`.
 * @throws CertRevokedError
 */
export function checkNotRevoked(cert: ParsedCert, crl: VerifiedCrl, what: string): void {
  if (crl.revoked.has(cert.serial)) {
    throw new CertRevokedError(`${what}: certificate "${cert.subjectCN}" (serial ${cert.serial}) is revoked by the ${crl.issuerCN} CRL`, {
      details: { what, serial: cert.serial, crlIssuer: crl.issuerCN },
    });
  }
}

/** Values of the Intel SGX extension of a PCK certificate (PCK Cert Profile 1.5). */
export interface PckExtension {
  /** 16 bytes hex. */
  ppid: string;
  /** 16 SGX TCB component SVNs (OIDs ...13.1.2.1 - .2.16). */
  sgxComponents: number[];
  /** PCESVN (...13.1.2.17). */
  pceSvn: number;
  /** CPUSVN (...13.1.2.18), hex. */
  cpuSvn: string;
  /** PCE-ID (...13.1.3), 2 bytes hex. */
  pceId: string;
  /** FMSPC (...13.1.4), 6 bytes hex. */
  fmspc: string;
  /** SGX type (...13.1.5): 0 standard, 1 scalable, 2 scalable with integrity. */
  sgxType: number;
}

const SGX_EXT_OID = '1.2.840.113741.1.13.1';

function seqItems(block: asn1js.AsnType, what: string): [string, asn1js.AsnType][] {
  if (!(block instanceof asn1js.Sequence)) throw new DecodeError(`${what}: SEQUENCE expected`);
  return block.valueBlock.value.map((item) => {
    if (!(item instanceof asn1js.Sequence) || item.valueBlock.value.length !== 2 || !(item.valueBlock.value[0] instanceof asn1js.ObjectIdentifier)) {
      throw new DecodeError(`${what}: {OID, value} expected`);
    }
    return [(item.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString(), item.valueBlock.value[1]];
  });
}

function octets(v: asn1js.AsnType | undefined, len: number, what: string): string {
  if (!(v instanceof asn1js.OctetString)) throw new DecodeError(`${what}: OCTET STRING expected`);
  const b = Buffer.from(v.valueBlock.valueHexView);
  if (b.length !== len) throw new DecodeError(`${what}: ${len} bytes expected, got ${b.length}`);
  return b.toString('hex');
}

function integer(v: asn1js.AsnType | undefined, what: string): number {
  if (!(v instanceof asn1js.Integer) && !(v instanceof asn1js.Enumerated)) throw new DecodeError(`${what}: INTEGER expected`);
  const n = (v as asn1js.Integer).valueBlock.valueDec;
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffff) throw new DecodeError(`${what}: out of range`);
  return n;
}

/**
 * Extracts the Intel SGX extension (OID 1.2.840.113741.1.13.1) of a PCK certificate.
 * @throws ChainInvalidError when the extension is missing, duplicated or malformed (the PCK
 *   certificate is then not a valid PCK certificate).
 */
export function parsePckExtension(der: Uint8Array): PckExtension {
  try {
    const cert = AsnConvert.parse(der, Certificate);
    const exts = (cert.tbsCertificate.extensions ?? []).filter((e) => e.extnID === SGX_EXT_OID);
    if (exts.length !== 1) throw new DecodeError(`PCK certificate must have exactly one SGX extension, found ${exts.length}`);
    const parsed = asn1js.fromBER(exts[0].extnValue.buffer);
    if (parsed.offset === -1) throw new DecodeError('SGX extension is not DER');
    const top = new Map(seqItems(parsed.result, 'SGX extension'));
    const tcb = top.get(`${SGX_EXT_OID}.2`);
    if (!tcb) throw new DecodeError('SGX extension has no TCB');
    const tcbMap = new Map(seqItems(tcb, 'SGX TCB'));
    const sgxComponents: number[] = [];
    for (let i = 1; i <= 16; i++) sgxComponents.push(integer(tcbMap.get(`${SGX_EXT_OID}.2.${i}`), `SGX TCB comp ${i}`));
    return {
      ppid: octets(top.get(`${SGX_EXT_OID}.1`), 16, 'PPID'),
      sgxComponents,
      pceSvn: integer(tcbMap.get(`${SGX_EXT_OID}.2.17`), 'PCESVN'),
      cpuSvn: octets(tcbMap.get(`${SGX_EXT_OID}.2.18`), 16, 'CPUSVN'),
      pceId: octets(top.get(`${SGX_EXT_OID}.3`), 2, 'PCE-ID'),
      fmspc: octets(top.get(`${SGX_EXT_OID}.4`), 6, 'FMSPC'),
      sgxType: integer(top.get(`${SGX_EXT_OID}.5`), 'SGX type'),
    };
  } catch (e) {
    if (e instanceof ChainInvalidError) throw e;
    throw new ChainInvalidError(`PCK certificate SGX extension is invalid: ${(e as Error).message}`, { cause: e });
  }
}

const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/**
 * Builds a P-256 public key from 64 raw bytes x||y (quote attestation key encoding).
 * @returns null when the point is not on the curve.
 */
export function p256KeyFromRaw(xy: Uint8Array): KeyObject | null {
  try {
    return createPublicKey({ key: Buffer.concat([P256_SPKI_PREFIX, Buffer.from([4]), xy]), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

/** ECDSA P-256/SHA-256 verify of a raw 64-byte r||s signature (IEEE P1363). Never throws. */
export function verifyP256Raw(key: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}
