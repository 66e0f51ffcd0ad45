/**
 * Intel DCAP quote verification (SGX quote v3, TDX quote v4/v5): a pure function of the quote,
 * the collateral, the trust root and an explicit `now`. No clock, no network.
 *
 * Checks, in this order (each names the failure code; spec references in docs/attestation.md):
 *  1. Parse the quote (quote.ts).                                   ATTEST_DECODE / ATTEST_UNSUPPORTED_VERSION
 *  2. Root CA CRL signed by the root; PCK CRL issuer chain to the root; PCK CRL signed by its
 *     issuer; PCK chain (certification data type 5, leaf first) to the root; the PCK CRL issuer
 *     is the PCK certificate's issuer (Platform vs Processor CA); intermediates and roots not in
 *     the root CA CRL, the PCK leaf not in the PCK CRL; certificates valid at `now`, CRLs
 *     current at `now`.                  ATTEST_CHAIN_INVALID / ATTEST_CRL_INVALID / ATTEST_CERT_REVOKED /
 *                                         ATTEST_CERT_EXPIRED / ATTEST_COLLATERAL_EXPIRED
 *  3. QE report signature by the PCK leaf key.                      ATTEST_QE_REPORT_SIGNATURE
 *  4. QE report data = SHA-256(attestation key || QE auth data) || 32 zero bytes.  ATTEST_QE_REPORT_DATA
 *  5. Quote signature over header || (v5 descriptor ||) body by the attestation key.  ATTEST_QUOTE_SIGNATURE
 *  6. TCB Info and QE Identity: issuer chains to the root (TCB Signing cert not revoked), ECDSA
 *     signatures over the exact JSON bytes, issueDate <= now <= nextUpdate.
 *                                         ATTEST_COLLATERAL_SIGNATURE / ATTEST_CHAIN_INVALID / ATTEST_COLLATERAL_EXPIRED
 *  7. QE Identity: id (QE for SGX, TD_QE for TDX), MRSIGNER, ISVPRODID, masked MISCSELECT and
 *     ATTRIBUTES, ISVSVN -> QE TCB level.                           ATTEST_QE_IDENTITY_MISMATCH
 *  8. TCB Info id/version fits the quote (SGX / TDX v3), FMSPC and PCE-ID of the PCK certificate.
 *                                         ATTEST_COLLATERAL_SIGNATURE / ATTEST_FMSPC_MISMATCH / ATTEST_PCEID_MISMATCH
 *  9. Platform TCB level (16 SGX components + PCESVN, TDX TEE_TCB_SVN), TDX module identity.
 *                                         ATTEST_TCB_LEVEL_NOT_FOUND / ATTEST_TDX_MODULE_MISMATCH
 * 10. Final status = worst of platform, QE and TDX module; Revoked is refused.   ATTEST_TCB_REVOKED
 *
 * Everything in steps 2 and 6 that does not depend on `now` is memoised (cache.ts), so a warm
 * verification costs two ECDSA verifications (steps 3 and 5).
 */
import { createHash, type KeyObject } from 'node:crypto';
import {
  CertExpiredError,
  CertNotYetValidError,
  ChainInvalidError,
  CollateralExpiredError,
  CollateralSignatureError,
  CrlInvalidError,
  FmspcMismatchError,
  PceIdMismatchError,
  QeIdentityMismatchError,
  QeReportDataError,
  QeReportSignatureError,
  QuoteSignatureError,
  TcbRevokedError,
  UnsupportedVersionError,
} from '../errors.ts';
import type { Measurements, Verdict } from '../types.ts';
import { cacheKey, defaultDcapCache, memo, type DcapCache } from './cache.ts';
import { parseCollateral, parseQeIdentity, parseTcbInfo, type QeIdentity, type QuoteCollateral, type TcbInfo } from './collateral.ts';
import { parseQuote, type DcapQuote, type SgxReportBody, type TdReportBody } from './quote.ts';
import { INTEL_SGX_ROOT_CA_B64 } from './roots.ts';
import { convergeStatus, matchPlatformTcb, matchQeTcb, matchTdxModule, type IntelStatus, type TcbMatch } from './tcb.ts';
import {
  checkNotRevoked,
  p256KeyFromRaw,
  parseCert,
  parsePckExtension,
  pemToDers,
  verifyChainToRoot,
  verifyCrl,
  verifyP256Raw,
  type ParsedCert,
  type PckExtension,
  type VerifiedCrl,
  type Window,
} from './x509.ts';

/** Options of {@link verifyDcapQuote}. */
export interface VerifyDcapOptions {
  /** Verification time, unix seconds (UTC). Required: nothing reads the clock. */
  now: number;
  /**
   * Trust root, DER. Default: the pinned Intel SGX Root CA (roots/intel/IntelSGXRootCA.der).
   * Any other root (e.g. the Geode dev TEE simulation PKI) makes the verdict `simulated: true`.
   */
  rootCaDer?: Uint8Array;
  /** Memoisation of collateral/chain checks. Default: a module-level LRU. `null` disables caching. */
  cache?: DcapCache | null;
  /** Not supported: a simulation root is passed as `rootCaDer` like any other root. */
  simulationRootDer?: never;
}

const INTEL_ROOT_DER = new Uint8Array(Buffer.from(INTEL_SGX_ROOT_CA_B64, 'base64'));
const rootCache = new Map<string, ParsedCert>();

function rootFor(der: Uint8Array): ParsedCert {
  const k = createHash('sha256').update(der).digest('hex');
  let r = rootCache.get(k);
  if (!r) {
    r = parseCert(der, 'trust root');
    let selfSigned = false;
    try {
      selfSigned = r.x509.issuer === r.x509.subject && r.x509.verify(r.publicKey);
    } catch {
      selfSigned = false;
    }
    if (!selfSigned) {
      throw new ChainInvalidError('The trust root must be a self-signed CA certificate', { details: { subject: r.x509.subject } });
    }
    if (rootCache.size > 16) rootCache.clear();
    rootCache.set(k, r);
  }
  return r;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const iso = (t: number) => new Date(Math.round(t * 1000)).toISOString().replace('.000Z', 'Z');

/** Throws the code matching `w.kind` when `now` is outside `w`. */
function checkWindow(w: Window, now: number): void {
  if (now >= w.notBefore && now <= w.notAfter) return;
  const details = { what: w.what, notBefore: iso(w.notBefore), notAfter: iso(w.notAfter), now: iso(now) };
  const when = now < w.notBefore ? `not valid before ${details.notBefore}` : `expired at ${details.notAfter}`;
  if (w.kind === 'cert' && now < w.notBefore) throw new CertNotYetValidError(`${w.what} is ${when} (now ${details.now}): check the clock or --now`, { details });
  if (w.kind === 'cert') throw new CertExpiredError(`${w.what} is ${when} (now ${details.now})`, { details });
  throw new CollateralExpiredError(`${w.what} is ${when} (now ${details.now}): fetch fresh collateral`, { details });
}

interface CrlPart {
  rootCrl: VerifiedCrl;
  pckCrl: VerifiedCrl;
  /** DER of the PCK CRL issuer (Platform or Processor CA). */
  pckCrlIssuerDer: Uint8Array;
  windows: Window[];
}

function verifyCrlPart(c: QuoteCollateral, root: ParsedCert): CrlPart {
  const rootCrl = verifyCrl(Buffer.from(c.root_ca_crl, 'hex'), root, 'Root CA CRL');
  checkNotRevoked(root, rootCrl, 'Root CA');
  const chain = verifyChainToRoot(pemToDers(c.pck_crl_issuer_chain, 'PCK CRL issuer chain'), root, 'PCK CRL issuer chain');
  if (chain.certs.length !== 2) throw new ChainInvalidError('PCK CRL issuer chain must be one CA certificate under the root', { details: { length: chain.certs.length } });
  const issuer = chain.certs[0];
  checkNotRevoked(issuer, rootCrl, 'PCK CRL issuer');
  const pckCrl = verifyCrl(Buffer.from(c.pck_crl, 'hex'), issuer, 'PCK CRL');
  return {
    rootCrl,
    pckCrl,
    pckCrlIssuerDer: issuer.der,
    windows: [
      ...chain.windows,
      { what: 'Root CA CRL', notBefore: rootCrl.thisUpdate, notAfter: rootCrl.nextUpdate, kind: 'crl' },
      { what: `PCK CRL (${pckCrl.issuerCN})`, notBefore: pckCrl.thisUpdate, notAfter: pckCrl.nextUpdate, kind: 'crl' },
    ],
  };
}

interface PckPart {
  leafKey: KeyObject;
  ext: PckExtension;
  caCN: string;
  windows: Window[];
  sigChecks: number;
}

function verifyPckPart(pem: string, root: ParsedCert, crls: CrlPart): PckPart {
  const chain = verifyChainToRoot(pemToDers(pem, 'PCK certificate chain'), root, 'PCK certificate chain');
  if (chain.certs.length !== 3) throw new ChainInvalidError(`PCK certificate chain must be PCK cert, PCK CA, root; got ${chain.certs.length} certificates`, { details: { length: chain.certs.length } });
  const [leaf, ca] = chain.certs;
  if (!/^Intel SGX PCK (Platform|Processor) CA$/.test(ca.subjectCN) && root.der.length === INTEL_ROOT_DER.length && Buffer.compare(root.der, INTEL_ROOT_DER) === 0) {
    throw new ChainInvalidError(`PCK certificate issuer "${ca.subjectCN}" is neither the PCK Platform CA nor the PCK Processor CA`, { details: { issuer: ca.subjectCN } });
  }
  if (Buffer.compare(ca.der, crls.pckCrlIssuerDer) !== 0) {
    throw new CrlInvalidError(`The PCK CRL is issued by "${crls.pckCrl.issuerCN}" but the PCK certificate is issued by "${ca.subjectCN}": fetch the PCK CRL for ca=${/Processor/.test(ca.subjectCN) ? 'processor' : 'platform'}`, {
      details: { crlIssuer: crls.pckCrl.issuerCN, pckIssuer: ca.subjectCN },
    });
  }
  checkNotRevoked(ca, crls.rootCrl, 'PCK CA');
  checkNotRevoked(leaf, crls.pckCrl, 'PCK certificate');
  return { leafKey: leaf.publicKey, ext: parsePckExtension(leaf.der), caCN: ca.subjectCN, windows: chain.windows, sigChecks: chain.sigChecks };
}

interface SignedPart {
  tcbInfo: TcbInfo;
  qeIdentity: QeIdentity;
  windows: Window[];
}

function verifySignedJson(text: string, sigHex: string, chainPem: string, root: ParsedCert, rootCrl: VerifiedCrl, what: string): Window[] {
  const chain = verifyChainToRoot(pemToDers(chainPem, `${what} issuer chain`), root, `${what} issuer chain`);
  if (chain.certs.length !== 2) throw new ChainInvalidError(`${what} issuer chain must be the TCB Signing certificate under the root`, { details: { length: chain.certs.length } });
  checkNotRevoked(chain.certs[0], rootCrl, `${what} signing certificate`);
  const sig = Buffer.from(sigHex, 'hex');
  if (sig.length !== 64 || !verifyP256Raw(chain.certs[0].publicKey, Buffer.from(text, 'utf8'), sig)) {
    throw new CollateralSignatureError(`${what} signature does not verify with "${chain.certs[0].subjectCN}": the collateral was altered or its signature belongs to other bytes`, {
      details: { what, signer: chain.certs[0].subjectCN },
    });
  }
  return chain.windows;
}

function verifySignedPart(c: QuoteCollateral, root: ParsedCert, rootCrl: VerifiedCrl): SignedPart {
  const w1 = verifySignedJson(c.tcb_info, c.tcb_info_signature, c.tcb_info_issuer_chain, root, rootCrl, 'TCB Info');
  const w2 = verifySignedJson(c.qe_identity, c.qe_identity_signature, c.qe_identity_issuer_chain, root, rootCrl, 'QE Identity');
  const tcbInfo = parseTcbInfo(c.tcb_info);
  const qeIdentity = parseQeIdentity(c.qe_identity);
  return {
    tcbInfo,
    qeIdentity,
    windows: [
      ...w1,
      ...w2,
      { what: `TCB Info (FMSPC ${tcbInfo.fmspc})`, notBefore: tcbInfo.issueDate, notAfter: tcbInfo.nextUpdate, kind: 'collateral' },
      { what: `QE Identity (${qeIdentity.id})`, notBefore: qeIdentity.issueDate, notAfter: qeIdentity.nextUpdate, kind: 'collateral' },
    ],
  };
}

function checkQeIdentity(qe: SgxReportBody, id: QeIdentity, teeType: 'sgx' | 'tdx'): TcbMatch {
  const want = teeType === 'tdx' ? 'TD_QE' : 'QE';
  const fail = (msg: string, details: Record<string, unknown>) => {
    throw new QeIdentityMismatchError(`The quoting enclave does not match the QE Identity: ${msg}`, { details });
  };
  if (id.id !== want || id.version !== 2) fail(`QE Identity is ${id.id} v${id.version}, a ${teeType.toUpperCase()} quote needs ${want} v2`, { id: id.id, version: id.version });
  if (Buffer.compare(qe.mrSigner, id.mrSigner) !== 0) fail('MRSIGNER differs', { expected: hex(id.mrSigner), actual: hex(qe.mrSigner) });
  if (qe.isvProdId !== id.isvProdId) fail('ISVPRODID differs', { expected: id.isvProdId, actual: qe.isvProdId });
  if (((qe.miscSelect & id.miscselectMask) >>> 0) !== ((id.miscselect & id.miscselectMask) >>> 0)) fail('masked MISCSELECT differs', { actual: qe.miscSelect });
  for (let i = 0; i < 16; i++) {
    if ((qe.attributes[i] & id.attributesMask[i]) !== (id.attributes[i] & id.attributesMask[i])) fail('masked ATTRIBUTES differ', { actual: hex(qe.attributes), expected: hex(id.attributes) });
  }
  const m = matchQeTcb(id, qe.isvSvn);
  if (!m) fail(`QE ISVSVN ${qe.isvSvn} is below every level of the QE Identity`, { isvSvn: qe.isvSvn });
  return m as TcbMatch;
}

/** Measurements of a parsed quote body (lowercase hex, no 0x). */
export function quoteMeasurements(q: DcapQuote): Measurements {
  if (q.body.kind === 'sgx') {
    const r = q.body.report;
    return { mrEnclave: hex(r.mrEnclave), mrSigner: hex(r.mrSigner), isvProdId: r.isvProdId, isvSvn: r.isvSvn, attributes: hex(r.attributes), reportData: hex(r.reportData) };
  }
  const r: TdReportBody = q.body.report;
  const m: Measurements = {
    mrTd: hex(r.mrTd),
    mrConfigId: hex(r.mrConfigId),
    mrOwner: hex(r.mrOwner),
    mrOwnerConfig: hex(r.mrOwnerConfig),
    rtmrs: r.rtmrs.map(hex),
    tdAttributes: hex(r.tdAttributes),
    xfam: hex(r.xfam),
    teeTcbSvn: hex(r.teeTcbSvn),
    mrSeam: hex(r.mrSeam),
    mrSignerSeam: hex(r.mrSignerSeam),
    seamAttributes: hex(r.seamAttributes),
    reportData: hex(r.reportData),
  };
  if (r.mrServiceTd) m.mrServiceTd = hex(r.mrServiceTd);
  if (r.teeTcbSvn2) m.teeTcbSvn2 = hex(r.teeTcbSvn2);
  return m;
}

/** True when the quote body says debug: SGX ATTRIBUTES.DEBUG (bit 1), TDX TDATTRIBUTES.DEBUG (bit 0). */
export function quoteIsDebug(q: DcapQuote): boolean {
  return q.body.kind === 'sgx' ? (q.body.report.attributes[0] & 0x02) !== 0 : (q.body.report.tdAttributes[0] & 0x01) !== 0;
}

/**
 * Verifies an Intel DCAP quote against its collateral at time `opts.now`.
 *
 * @param quote raw quote bytes (SGX v3, TDX v4 or v5; ECDSA P-256; certification data type 5, or
 *   type 6 wrapping type 5). Trailing bytes after the signature data are tolerated and reported.
 * @param collateral dcap-qvl `QuoteCollateralV3` object (or its JSON text); see collateral.ts.
 * @param opts `now` (unix seconds), optional `rootCaDer` (default pinned Intel SGX Root CA),
 *   optional `cache`.
 * @returns a {@link Verdict}: status (worst of platform, QE, TDX module), advisory IDs,
 *   measurements, debug, validity window, FMSPC/PCE-ID, `simulated` (root is not Intel's), checks.
 *   Statuses other than UpToDate are returned, not thrown: acceptance is the policy's job.
 * @throws AttestationError subclasses, see the list at the top of this file. Never anything else
 *   for malformed input.
 */
export function verifyDcapQuote(quote: Uint8Array, collateral: QuoteCollateral | string, opts: VerifyDcapOptions): Verdict {
  const now = opts.now;
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('verifyDcapQuote: opts.now (unix seconds) is required');
  const cache = opts.cache === undefined ? defaultDcapCache : opts.cache;
  const checks: string[] = [];
  const windows: Window[] = [];

  // 1. Parse.
  const q = parseQuote(quote);
  const teeType = q.teeType;
  if ((teeType === 'sgx' && q.header.version !== 3) || (teeType === 'tdx' && q.header.version < 4)) {
    throw new UnsupportedVersionError(`${teeType.toUpperCase()} quote version ${q.header.version} is not supported (SGX: v3, TDX: v4, v5)`, { details: { version: q.header.version, teeType } });
  }
  const cert = q.signatureData.qe.certification;
  if (cert.type !== 5 || cert.pemChain === undefined) {
    throw new UnsupportedVersionError(`Certification data type ${cert.type} is not supported: the quote must embed the PCK certificate chain (type 5)`, { details: { type: cert.type } });
  }
  checks.push(`quote parsed: ${teeType.toUpperCase()} v${q.header.version}${q.trailingBytes ? ` (${q.trailingBytes} trailing bytes tolerated)` : ''}`);
  const col = typeof collateral === 'string' || !isNormalised(collateral) ? parseCollateral(collateral) : collateral;

  // 2. CRLs and PCK chain.
  const rootDer = opts.rootCaDer ?? INTEL_ROOT_DER;
  const root = rootFor(rootDer);
  const { crlKey, signedKey } = keysFor(col, rootDer);
  const crls = memo(cache, 'crls', crlKey, () => verifyCrlPart(col, root));
  const pck = memo(cache, 'pck', cacheKey('pck', crlKey, cert.data), () => verifyPckPart(cert.pemChain as string, root, crls));
  for (const w of pck.windows) checkWindow(w, now);
  for (const w of crls.windows) checkWindow(w, now);
  windows.push(...pck.windows, ...crls.windows);
  checks.push(`PCK certificate chain verified to the ${opts.rootCaDer ? 'given' : 'pinned Intel SGX'} root (${pck.caCN}), not revoked, valid at now`);

  // 3. QE report signature.
  const qe = q.signatureData.qe;
  if (!verifyP256Raw(pck.leafKey, qe.qeReportRaw, qe.qeReportSignature)) {
    throw new QeReportSignatureError('The QE report signature does not verify with the PCK certificate key: the quote was altered or its certificate chain belongs to another platform');
  }
  checks.push('QE report signed by the PCK key');

  // 4. QE report data binds the attestation key.
  const expected = createHash('sha256').update(q.signatureData.attestationKey).update(qe.qeAuthData).digest();
  const rd = qe.qeReport.reportData;
  let rdOk = Buffer.compare(rd.subarray(0, 32), expected) === 0;
  for (let i = 32; i < 64 && rdOk; i++) if (rd[i] !== 0) rdOk = false;
  if (!rdOk) {
    throw new QeReportDataError('QE report data is not SHA-256(attestation key || QE authentication data) padded with zeros: the attestation key is not the one the QE certified', {
      details: { expected: expected.toString('hex'), actual: hex(rd) },
    });
  }
  checks.push('QE report data binds the attestation key');

  // 5. Quote signature.
  const attKey = memo(cache, 'keys', hex(q.signatureData.attestationKey), () => p256KeyFromRaw(q.signatureData.attestationKey) ?? false);
  if (!attKey || !verifyP256Raw(attKey, q.signedBytes, q.signatureData.signature)) {
    throw new QuoteSignatureError('The quote signature does not verify with the attestation key: the quote header or body was altered');
  }
  checks.push('quote signed by the attestation key');

  // 6. TCB Info and QE Identity.
  const signed = memo(cache, 'signed', signedKey, () =>
    verifySignedPart(col, root, crls.rootCrl),
  );
  for (const w of signed.windows) checkWindow(w, now);
  windows.push(...signed.windows);
  const { tcbInfo, qeIdentity } = signed;
  checks.push(`TCB Info (FMSPC ${tcbInfo.fmspc}, eval ${tcbInfo.tcbEvaluationDataNumber ?? '?'}) and QE Identity signed by the TCB Signing key, current at now`);

  // 7. QE identity.
  const qeMatch = checkQeIdentity(qe.qeReport, qeIdentity, teeType);
  checks.push(`QE matches ${qeIdentity.id} identity (ISVSVN ${qe.qeReport.isvSvn}: ${qeMatch.status})`);

  // 8. TCB Info fits the quote and platform.
  if ((teeType === 'tdx' && (tcbInfo.id !== 'TDX' || tcbInfo.version < 3)) || (teeType === 'sgx' && (tcbInfo.id !== 'SGX' || tcbInfo.version < 2))) {
    throw new CollateralSignatureError(`The TCB Info is ${tcbInfo.id} v${tcbInfo.version}, which does not apply to a ${teeType.toUpperCase()} quote: fetch the ${teeType} TCB Info`, {
      details: { id: tcbInfo.id, version: tcbInfo.version, teeType },
    });
  }
  if (pck.ext.fmspc !== tcbInfo.fmspc) {
    throw new FmspcMismatchError(`The TCB Info is for FMSPC ${tcbInfo.fmspc} but the PCK certificate has FMSPC ${pck.ext.fmspc}: fetch the TCB Info for ${pck.ext.fmspc}`, {
      details: { pck: pck.ext.fmspc, tcbInfo: tcbInfo.fmspc },
    });
  }
  if (pck.ext.pceId !== tcbInfo.pceId) {
    throw new PceIdMismatchError(`The TCB Info is for PCE-ID ${tcbInfo.pceId} but the PCK certificate has ${pck.ext.pceId}`, { details: { pck: pck.ext.pceId, tcbInfo: tcbInfo.pceId } });
  }
  checks.push(`FMSPC ${pck.ext.fmspc} and PCE-ID ${pck.ext.pceId} match the TCB Info`);

  // 9. TCB levels.
  const td = q.body.kind === 'sgx' ? undefined : q.body.report;
  const platform = matchPlatformTcb(tcbInfo, pck.ext, td?.teeTcbSvn);
  checks.push(`platform TCB level #${platform.index}: ${platform.status}`);
  const matches: TcbMatch[] = [platform, qeMatch];
  if (td) {
    const mod = matchTdxModule(tcbInfo, td);
    if (mod) {
      matches.push(mod);
      checks.push(`TDX module TDX_${td.teeTcbSvn[1].toString(16).padStart(2, '0')} ISVSVN ${td.teeTcbSvn[0]}: ${mod.status}`);
    } else checks.push('TDX module matches the TCB Info tdxModule');
  }

  // 10. Converge.
  const status: IntelStatus = convergeStatus(...matches.map((m) => m.status));
  const advisoryIds = [...new Set(matches.flatMap((m) => m.advisoryIds))].sort();
  if (status === 'Revoked') {
    throw new TcbRevokedError('The platform, QE or TDX module TCB is Revoked', { details: { platform: platform.status, qe: qeMatch.status, advisoryIds } });
  }
  checks.push(`TCB status ${status}${advisoryIds.length ? ` (${advisoryIds.join(', ')})` : ''}`);

  const validFrom = Math.max(...windows.map((w) => w.notBefore));
  const validUntil = Math.min(...windows.map((w) => w.notAfter));
  const simulated = !(rootDer.length === INTEL_ROOT_DER.length && Buffer.compare(rootDer, INTEL_ROOT_DER) === 0);
  const verdict: Verdict = {
    teeType,
    version: q.header.version,
    status,
    advisoryIds,
    measurements: quoteMeasurements(q),
    debug: quoteIsDebug(q),
    validFrom: iso(validFrom),
    validUntil: iso(validUntil),
    collateralIssuedAt: iso(Math.min(tcbInfo.issueDate, qeIdentity.issueDate)),
    fmspc: pck.ext.fmspc,
    pceId: pck.ext.pceId,
    simulated,
    checks,
  };
  if (q.trailingBytes) verdict.trailingBytes = q.trailingBytes;
  return verdict;
}

const COLLATERAL_FIELDS = [
  'pck_crl_issuer_chain', 'root_ca_crl', 'pck_crl', 'tcb_info_issuer_chain', 'tcb_info',
  'tcb_info_signature', 'qe_identity_issuer_chain', 'qe_identity', 'qe_identity_signature',
] as const;
interface Keys {
  fields: string[];
  rootDer: Uint8Array;
  rootKey: string;
  crlKey: string;
  signedKey: string;
}
/**
 * Cache keys of a collateral object, memoised per object: reused only when every field is the
 * very same string (strings are immutable, so identity implies equal bytes) and the root buffer
 * is the same object with the same hash; otherwise recomputed by hashing.
 */
const keyMemo = new WeakMap<object, Keys>();
function keysFor(col: QuoteCollateral, rootDer: Uint8Array): Keys {
  const fields = COLLATERAL_FIELDS.map((f) => col[f]);
  const hit = keyMemo.get(col);
  if (hit && hit.rootDer === rootDer && hit.fields.every((v, i) => v === fields[i])) {
    if (rootDer === INTEL_ROOT_DER || createHash('sha256').update(rootDer).digest('hex') === hit.rootKey) return hit;
  }
  const rootKey = createHash('sha256').update(rootDer).digest('hex');
  const k: Keys = {
    fields,
    rootDer,
    rootKey,
    crlKey: cacheKey('crls', rootKey, col.root_ca_crl, col.pck_crl, col.pck_crl_issuer_chain),
    signedKey: cacheKey('signed', rootKey, col.root_ca_crl, col.tcb_info, col.tcb_info_signature, col.tcb_info_issuer_chain, col.qe_identity, col.qe_identity_signature, col.qe_identity_issuer_chain),
  };
  keyMemo.set(col, k);
  return k;
}

/** Fast path: the object already has the normalised shape (hex strings, PEM strings). */
function isNormalised(c: unknown): c is QuoteCollateral {
  if (c === null || typeof c !== 'object') return false;
  const o = c as Record<string, unknown>;
  return (
    typeof o.pck_crl_issuer_chain === 'string' && typeof o.root_ca_crl === 'string' && typeof o.pck_crl === 'string' &&
    typeof o.tcb_info_issuer_chain === 'string' && typeof o.tcb_info === 'string' && typeof o.tcb_info_signature === 'string' &&
    typeof o.qe_identity_issuer_chain === 'string' && typeof o.qe_identity === 'string' && typeof o.qe_identity_signature === 'string' &&
    !(o.root_ca_crl as string).startsWith('0x') && !(o.pck_crl as string).startsWith('0x')
  );
}
