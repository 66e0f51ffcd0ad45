/**
 * AWS Nitro Enclaves attestation document verification (AWS "Nitro Enclaves User Guide", "Verifying the root of
 * trust"; RFC 9052 section 4.4 for the COSE_Sign1 signature).
 *
 * Checks, in order: the document parses (./document.ts); `cabundle[0]` is the pinned AWS Nitro root (SHA-256
 * fingerprint pinned in ./roots.ts and re-checked); each `cabundle[i+1]` is issued by `cabundle[i]` and
 * `certificate` by the last bundle entry (node:crypto `checkIssued` + `verify`); every certificate is valid at the
 * verification time (default: the document's own timestamp); the ES384 signature over
 * `Sig_structure = ["Signature1", protected, h'', payload]` (encoded with cbor-x) verifies with the leaf key
 * (node:crypto, IEEE P1363 r||s).
 */
import { createHash, X509Certificate, verify as cryptoVerify } from 'node:crypto';
import { Encoder } from 'cbor-x';
import { CertExpiredError, CertNotYetValidError, ChainInvalidError, DecodeError } from '../errors.ts';
import type { Verdict } from '../types.ts';
import { parseNitroDocument, type NitroDocument } from './document.ts';
import { NitroFormatError, NitroSignatureError } from './errors.ts';
import { AWS_NITRO_ROOT_B64, AWS_NITRO_ROOT_SHA256 } from './roots.ts';

/** Options of {@link verifyNitroDocument}. */
export interface VerifyNitroOptions {
  /** Verification time, unix seconds. Default: the document's timestamp (ms / 1000). */
  now?: number;
}

const encoder = new Encoder({ useRecords: false, tagUint8Array: false } as ConstructorParameters<typeof Encoder>[0]);

let rootCache: X509Certificate | undefined;
/** The pinned AWS root, after checking the embedded DER against the pinned fingerprint. */
function awsRoot(): X509Certificate {
  if (rootCache) return rootCache;
  const der = Buffer.from(AWS_NITRO_ROOT_B64, 'base64');
  const fp = createHash('sha256').update(der).digest('hex');
  if (fp !== AWS_NITRO_ROOT_SHA256) {
    throw new ChainInvalidError('the embedded AWS Nitro root does not match its pinned SHA-256 fingerprint (library corrupted)', { details: { fingerprint: fp } });
  }
  rootCache = new X509Certificate(der);
  return rootCache;
}

/**
 * The COSE Sig_structure bytes that the document signature covers (RFC 9052 section 4.4):
 * CBOR `["Signature1", protected (bstr), external_aad = h'', payload (bstr)]`.
 */
export function nitroSigStructure(doc: Pick<NitroDocument, 'protectedBytes' | 'payloadBytes'>): Uint8Array {
  return new Uint8Array(encoder.encode(['Signature1', Buffer.from(doc.protectedBytes), Buffer.alloc(0), Buffer.from(doc.payloadBytes)]));
}

const cnOf = (c: X509Certificate) => /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1] ?? '';
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/**
 * Verifies an AWS Nitro Enclaves attestation document (COSE_Sign1, tagged or untagged).
 *
 * @param doc the document bytes (CBOR).
 * @param opts.now unix seconds for certificate validity; default the document timestamp.
 * @returns Verdict { teeType 'nitro', version 1, status 'Verified', debug (PCR0, PCR1 and PCR2 all zero, i.e. an
 *   enclave started in debug mode), measurements { pcrs: index -> lowercase hex, moduleId, userData, nonce,
 *   publicKey (hex, only the fields present) }, validFrom/validUntil (chain intersection), collateralIssuedAt
 *   (the document timestamp), simulated false }.
 * @throws DecodeError `ATTEST_DECODE` (not CBOR / truncated), NitroFormatError `ATTEST_NITRO_FORMAT` (not a Nitro
 *   document), ChainInvalidError `ATTEST_CHAIN_INVALID` (cabundle[0] is not the AWS root, broken chain),
 *   CertExpiredError `ATTEST_CERT_EXPIRED` / CertNotYetValidError `ATTEST_CERT_NOT_YET_VALID`, NitroSignatureError `ATTEST_NITRO_SIGNATURE`.
 */
export function verifyNitroDocument(doc: Uint8Array, opts: VerifyNitroOptions = {}): Verdict {
  const d = parseNitroDocument(doc);
  const checks = [`document parsed: COSE_Sign1 (${d.tagged ? 'tagged' : 'untagged'}), ES384, module ${d.moduleId}`];
  // Rounded to whole milliseconds: fractional seconds from an ISO time (t / 1000) do not survive * 1000 exactly.
  const nowMs = opts.now === undefined ? d.timestampMs : Math.round(opts.now * 1000);
  if (!Number.isFinite(nowMs)) throw new DecodeError('verifyNitroDocument: opts.now must be a number of unix seconds');

  const root = awsRoot();
  let certs: X509Certificate[];
  try {
    certs = [...d.cabundle, d.certificate].map((der) => new X509Certificate(der));
  } catch (e) {
    throw new NitroFormatError('Nitro attestation document: certificate or cabundle entry is not a DER X.509 certificate', { cause: e });
  }
  if (!Buffer.from(d.cabundle[0]!).equals(root.raw)) {
    throw new ChainInvalidError(`Nitro cabundle[0] ("${cnOf(certs[0]!)}") is not the pinned AWS Nitro Enclaves root`, {
      details: { fingerprint: createHash('sha256').update(d.cabundle[0]!).digest('hex') },
    });
  }
  for (let i = 1; i < certs.length; i++) {
    const c = certs[i]!;
    const issuer = certs[i - 1]!;
    let ok = false;
    try {
      ok = issuer.ca && c.checkIssued(issuer) && c.verify(issuer.publicKey);
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new ChainInvalidError(`Nitro chain: "${cnOf(c)}" is not issued by "${cnOf(issuer)}"`, { details: { index: i, subject: cnOf(c), issuer: cnOf(issuer) } });
    }
  }
  let validFrom = -Infinity;
  let validUntil = Infinity;
  for (const c of certs) {
    const nb = Date.parse(c.validFrom);
    const na = Date.parse(c.validTo);
    validFrom = Math.max(validFrom, nb);
    validUntil = Math.min(validUntil, na);
    if (nowMs < nb || nowMs > na) {
      throw new (nowMs < nb ? CertNotYetValidError : CertExpiredError)(`Nitro certificate "${cnOf(c)}" is not valid at ${new Date(nowMs).toISOString()} (valid ${iso(nb)} .. ${iso(na)})`, {
        details: { subject: cnOf(c), notBefore: iso(nb), notAfter: iso(na), nowMs },
      });
    }
  }
  checks.push(`certificate -> ${certs.length - 1} cabundle certificates -> AWS Nitro root (pinned) verified, valid at ${new Date(nowMs).toISOString()}`);

  const leaf = certs[certs.length - 1]!;
  let sigOk = false;
  try {
    sigOk = cryptoVerify('sha384', nitroSigStructure(d), { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, d.signature);
  } catch {
    sigOk = false;
  }
  if (!sigOk) throw new NitroSignatureError('Nitro attestation document signature (ES384 over the COSE Sig_structure) does not verify with the leaf certificate key');
  checks.push('COSE_Sign1 ES384 signature verified with the enclave certificate');

  const pcrs: Record<number, string> = {};
  for (const [i, v] of [...d.pcrs].sort((a, b) => a[0] - b[0])) pcrs[i] = hex(v);
  const zero = (i: number) => d.pcrs.get(i)?.every((b) => b === 0) ?? false;
  const debug = zero(0) && zero(1) && zero(2);
  return {
    teeType: 'nitro',
    version: 1,
    status: 'Verified',
    advisoryIds: [],
    measurements: {
      pcrs,
      moduleId: d.moduleId,
      ...(d.userData ? { userData: hex(d.userData) } : {}),
      ...(d.nonce ? { nonce: hex(d.nonce) } : {}),
      ...(d.publicKey ? { publicKey: hex(d.publicKey) } : {}),
    },
    debug,
    validFrom: iso(validFrom),
    validUntil: iso(validUntil),
    collateralIssuedAt: new Date(d.timestampMs).toISOString(),
    simulated: false,
    checks,
  };
}
