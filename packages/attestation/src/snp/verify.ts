/**
 * AMD SEV-SNP attestation report verification.
 *
 * Checks, in order:
 * 1. the report parses (./report.ts; ABI spec #56860 Table 22);
 * 2. the VCEK (or VLEK) certificate is given and parses; its product name (1.3.6.1.4.1.3704.1.2) selects the
 *    pinned ARK (Milan, Genoa, Turin; ./roots.ts) and must agree with `opts.product` when both are given;
 * 3. chain VCEK -> ASK -> ARK (or VLEK -> ASVK -> ARK): the ARK must be the pinned ARK of that product
 *    (SHA-256 of the DER), each certificate is issued by the next (node:crypto `checkIssued` + `verify`, RSASSA-PSS
 *    SHA-384 for ASK/ARK signatures) and valid at `now` (AMD "Versioned Chip Endorsement Key (VCEK) Certificate
 *    and KDS Interface Specification" #57230, and "VLEK" section);
 * 4. the report signature: ECDSA P-384 / SHA-384 over bytes 0x000-0x29F with the VCEK/VLEK public key;
 * 5. VCEK only: hwID (1.3.6.1.4.1.3704.1.4) equals CHIP_ID (64 bytes; Turin VCEKs carry 8 bytes = CHIP_ID[0..8));
 * 6. the certificate's TCB (blSPL .3.1, teeSPL .3.2, snpSPL .3.3, ucodeSPL .3.8, Turin fmcSPL .3.9) equals
 *    REPORTED_TCB.
 *
 * No network access: the VCEK must be passed in (AMD KDS `/vcek/v1/{product}/{hwid}?blSPL=..` or the
 * extended report's certificate table).
 */
import { createHash, X509Certificate, verify as cryptoVerify } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { CertExpiredError, CertNotYetValidError, ChainInvalidError, CollateralMissingError, DecodeError } from '../errors.ts';
import type { Verdict } from '../types.ts';
import { SnpChipIdMismatchError, SnpSignatureError, SnpTcbMismatchError } from './errors.ts';
import { decodeSnpTcb, parseSnpReport, type SnpTcb } from './report.ts';
import { SNP_ROOTS, type SnpProduct } from './roots.ts';

/** Options of {@link verifySnpReport}. */
export interface VerifySnpOptions {
  /** Verification time, unix seconds. */
  now: number;
  /** VCEK or VLEK certificate, DER. Required. */
  vcekDer?: Uint8Array;
  /**
   * ASK (or ASVK) + ARK as PEM (e.g. AMD KDS `cert_chain`). Optional: the pinned ASK/ASVK of the product is used
   * when absent. Its ARK must equal the pinned ARK of the product.
   */
  certChainPem?: string;
  /** Expected product line; must match the certificate's product name when that is present. */
  product?: SnpProduct;
  /**
   * Trust root substituting the pinned AMD ARK of the product (DER, self-signed), e.g. a test PKI. Needs
   * `certChainPem` (its ASK and this ARK). Any root other than AMD's makes the verdict `simulated: true`.
   */
  trustedArkDer?: Uint8Array;
}

const OID_AMD = '1.3.6.1.4.1.3704.1';
const OID_PRODUCT_NAME = `${OID_AMD}.2`;
const OID_BL_SPL = `${OID_AMD}.3.1`;
const OID_TEE_SPL = `${OID_AMD}.3.2`;
const OID_SNP_SPL = `${OID_AMD}.3.3`;
const OID_UCODE_SPL = `${OID_AMD}.3.8`;
const OID_FMC_SPL = `${OID_AMD}.3.9`;
const OID_HWID = `${OID_AMD}.4`;

const PRODUCTS: readonly SnpProduct[] = ['Milan', 'Genoa', 'Turin'];

interface EndorsementKey {
  x509: X509Certificate;
  kind: 'VCEK' | 'VLEK';
  productName?: string;
  product?: SnpProduct;
  spl: Partial<Record<'bootloader' | 'tee' | 'snp' | 'microcode' | 'fmc', number>>;
  hwId?: Uint8Array;
}

function parseEndorsementKey(der: Uint8Array): EndorsementKey {
  let x509: X509Certificate;
  let asn: Certificate;
  try {
    x509 = new X509Certificate(der);
    asn = AsnConvert.parse(der, Certificate);
  } catch (e) {
    throw new DecodeError('SEV-SNP VCEK/VLEK certificate is not a valid DER X.509 certificate', { cause: e });
  }
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x509.subject)?.[1] ?? '';
  const kind = cn === 'SEV-VLEK' ? 'VLEK' : 'VCEK';
  if (cn !== 'SEV-VCEK' && cn !== 'SEV-VLEK') {
    throw new ChainInvalidError(`SEV-SNP endorsement key certificate has CN "${cn}", expected SEV-VCEK or SEV-VLEK`, { details: { subjectCN: cn } });
  }
  const out: EndorsementKey = { x509, kind, spl: {} };
  const int = (v: Uint8Array, oid: string): number => {
    const r = asn1js.fromBER(v);
    if (r.offset === -1 || !(r.result instanceof asn1js.Integer)) throw new DecodeError(`SEV-SNP certificate extension ${oid} is not an INTEGER`);
    return r.result.valueBlock.valueDec;
  };
  for (const ext of asn.tbsCertificate.extensions ?? []) {
    const v = new Uint8Array(ext.extnValue.buffer);
    switch (ext.extnID) {
      case OID_PRODUCT_NAME: {
        const r = asn1js.fromBER(v);
        out.productName = r.offset !== -1 && r.result instanceof asn1js.IA5String ? r.result.valueBlock.value : Buffer.from(v).toString('latin1');
        const p = PRODUCTS.find((x) => out.productName!.startsWith(x));
        if (p) out.product = p;
        break;
      }
      case OID_BL_SPL: out.spl.bootloader = int(v, ext.extnID); break;
      case OID_TEE_SPL: out.spl.tee = int(v, ext.extnID); break;
      case OID_SNP_SPL: out.spl.snp = int(v, ext.extnID); break;
      case OID_UCODE_SPL: out.spl.microcode = int(v, ext.extnID); break;
      case OID_FMC_SPL: out.spl.fmc = int(v, ext.extnID); break;
      case OID_HWID: out.hwId = v; break;
    }
  }
  return out;
}

function pemCerts(pem: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g)) {
    try {
      out.push(new X509Certificate(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
    } catch (e) {
      throw new DecodeError('SEV-SNP certChainPem contains an invalid certificate', { cause: e });
    }
  }
  if (out.length === 0) throw new DecodeError('SEV-SNP certChainPem contains no PEM certificate');
  return out;
}

const cnOf = (c: X509Certificate) => /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1] ?? '';
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function productFromCpuid(fam?: number, mod?: number): SnpProduct | undefined {
  if (fam === undefined || mod === undefined) return undefined;
  if (fam === 0x19 && mod <= 0x0f) return 'Milan';
  if (fam === 0x19 && ((mod >= 0x10 && mod <= 0x1f) || (mod >= 0xa0 && mod <= 0xaf))) return 'Genoa';
  if (fam === 0x1a) return 'Turin';
  return undefined;
}

/**
 * Verifies an AMD SEV-SNP attestation report against its VCEK (or VLEK) and the pinned AMD root of the product.
 *
 * @param report the 1184-byte report (ABI spec #56860 Table 22, versions 2..5).
 * @param opts.now unix seconds at which certificates must be valid.
 * @param opts.vcekDer the VCEK/VLEK certificate (DER).
 * @param opts.certChainPem optional ASK/ASVK + ARK PEM; the ARK must be the pinned one.
 * @param opts.product optional expected product line.
 * @param opts.trustedArkDer optional substitute root (tests, simulation); the verdict is then `simulated: true`.
 * @returns Verdict with teeType 'sev-snp', status 'Verified', debug = POLICY bit 19, measurements
 *   { measurement, hostData, reportData, policy (16 hex digits, big-endian value of the u64), chipId,
 *   reportedTcb (8 bytes in report byte order), vmpl } as lowercase hex without 0x.
 * @throws DecodeError `ATTEST_DECODE` (malformed report/certificate), CollateralMissingError
 *   `ATTEST_COLLATERAL_MISSING` (no VCEK, or product unknown), ChainInvalidError `ATTEST_CHAIN_INVALID`
 *   (wrong product/ARK, broken chain), CertExpiredError `ATTEST_CERT_EXPIRED` / CertNotYetValidError
 *   `ATTEST_CERT_NOT_YET_VALID`, SnpSignatureError
 *   `ATTEST_SNP_SIGNATURE`, SnpChipIdMismatchError `ATTEST_SNP_CHIP_ID_MISMATCH`, SnpTcbMismatchError
 *   `ATTEST_SNP_TCB_MISMATCH`.
 */
export function verifySnpReport(report: Uint8Array, opts: VerifySnpOptions): Verdict {
  const r = parseSnpReport(report);
  const checks: string[] = [`report parsed: SEV-SNP v${r.version}`];
  if (typeof opts?.now !== 'number' || !Number.isFinite(opts.now)) {
    throw new DecodeError('verifySnpReport: opts.now (unix seconds) is required');
  }
  if (!opts.vcekDer) {
    throw new CollateralMissingError('SEV-SNP verification needs the VCEK (or VLEK) certificate: fetch it from AMD KDS or the extended report', {
      details: { chipId: r.chipId, reportedTcb: r.reportedTcb },
    });
  }
  const ek = parseEndorsementKey(opts.vcekDer);
  if (r.signingKey === 0 && ek.kind !== 'VCEK') throw new ChainInvalidError('the report is signed with a VCEK (SIGNING_KEY=0) but a VLEK certificate was given');
  if (r.signingKey === 1 && ek.kind !== 'VLEK') throw new ChainInvalidError('the report is signed with a VLEK (SIGNING_KEY=1) but a VCEK certificate was given');

  if (ek.product && opts.product && ek.product !== opts.product) {
    throw new ChainInvalidError(`the ${ek.kind} is for product ${ek.productName}, but product ${opts.product} was requested`, {
      details: { certificateProduct: ek.productName, requested: opts.product },
    });
  }
  const product = ek.product ?? opts.product ?? productFromCpuid(r.cpuidFamId, r.cpuidModId);
  if (!product) {
    throw new CollateralMissingError('cannot tell the SEV-SNP product line (Milan, Genoa, Turin): pass opts.product', { details: { productName: ek.productName } });
  }
  const amd = SNP_ROOTS[product];
  const substitute = opts.trustedArkDer !== undefined && createHash('sha256').update(opts.trustedArkDer).digest('hex') !== amd.arkSha256;
  if (substitute && opts.certChainPem === undefined) {
    throw new CollateralMissingError('SEV-SNP verification under a substitute trust root needs certChainPem (its ASK and ARK)');
  }
  const pinned = substitute ? { ...amd, ark: Buffer.from(opts.trustedArkDer!).toString('base64'), arkSha256: createHash('sha256').update(opts.trustedArkDer!).digest('hex') } : amd;
  const pinnedArk = new X509Certificate(Buffer.from(pinned.ark, 'base64'));

  // Intermediate (ASK / ASVK) and ARK.
  let inter: X509Certificate;
  let ark: X509Certificate = pinnedArk;
  if (opts.certChainPem !== undefined) {
    const certs = pemCerts(opts.certChainPem);
    const arks = certs.filter((c) => c.subject === c.issuer);
    const given = arks[0];
    if (!given || createHash('sha256').update(given.raw).digest('hex') !== pinned.arkSha256) {
      throw new ChainInvalidError(`certChainPem does not end at the ${substitute ? 'trusted substitute ARK' : `pinned AMD ARK-${product}`}`, {
        details: { product, givenRoot: given ? cnOf(given) : null },
      });
    }
    ark = given;
    const mid = certs.find((c) => c.subject !== c.issuer);
    if (!mid) throw new ChainInvalidError(`certChainPem has no ${ek.kind === 'VCEK' ? 'ASK' : 'ASVK'} certificate`);
    inter = mid;
  } else {
    inter = new X509Certificate(Buffer.from(ek.kind === 'VCEK' ? pinned.ask : pinned.asvk, 'base64'));
  }
  const chain: [X509Certificate, X509Certificate][] = [
    [ek.x509, inter],
    [inter, ark],
    [ark, ark],
  ];
  for (const [c, issuer] of chain) {
    let ok = false;
    try {
      ok = c.checkIssued(issuer) && c.verify(issuer.publicKey);
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new ChainInvalidError(`SEV-SNP chain: "${cnOf(c)}" is not issued by "${cnOf(issuer)}" (wrong product chain or forged certificate)`, {
        details: { subject: cnOf(c), issuer: cnOf(issuer), product },
      });
    }
  }
  let validFrom = -Infinity;
  let validUntil = Infinity;
  for (const c of [ek.x509, inter, ark]) {
    const nb = Date.parse(c.validFrom);
    const na = Date.parse(c.validTo);
    validFrom = Math.max(validFrom, nb);
    validUntil = Math.min(validUntil, na);
    if (opts.now * 1000 < nb || opts.now * 1000 > na) {
      throw new (opts.now * 1000 < nb ? CertNotYetValidError : CertExpiredError)(`SEV-SNP certificate "${cnOf(c)}" is not valid at ${iso(opts.now * 1000)} (valid ${iso(nb)} .. ${iso(na)})`, {
        details: { subject: cnOf(c), notBefore: iso(nb), notAfter: iso(na), now: opts.now },
      });
    }
  }
  checks.push(`${ek.kind} -> ${cnOf(inter)} -> ${cnOf(ark)} (${substitute ? 'substitute root' : 'pinned'}, ${product}) verified, valid at now`);

  // Report signature.
  let sigOk = false;
  try {
    sigOk = cryptoVerify('sha384', r.signedBytes, { key: ek.x509.publicKey, dsaEncoding: 'ieee-p1363' }, r.signatureP1363);
  } catch {
    sigOk = false;
  }
  if (!sigOk) {
    throw new SnpSignatureError(`SEV-SNP report signature does not verify with the ${ek.kind} key (report altered or wrong ${ek.kind})`, {
      details: { chipId: r.chipId },
    });
  }
  checks.push(`report signed by the ${ek.kind} (ECDSA P-384/SHA-384)`);

  if (ek.kind === 'VCEK') {
    const hw = ek.hwId;
    const chip = Buffer.from(r.chipId, 'hex');
    const expected = hw && hw.length === 8 ? chip.subarray(0, 8) : chip;
    if (!hw || !Buffer.from(hw).equals(expected)) {
      throw new SnpChipIdMismatchError('the VCEK hwID does not equal the report CHIP_ID: the VCEK belongs to another chip', {
        details: { chipId: r.chipId, hwId: hw ? Buffer.from(hw).toString('hex') : null },
      });
    }
    checks.push('VCEK hwID = CHIP_ID');
  }

  const tcb: SnpTcb = decodeSnpTcb(Buffer.from(r.reportedTcb, 'hex'), product);
  const fields: (keyof SnpTcb)[] = ['bootloader', 'tee', 'snp', 'microcode'];
  if (product === 'Turin' && ek.spl.fmc !== undefined) fields.push('fmc');
  const diff = fields.filter((f) => ek.spl[f] !== tcb[f]);
  if (diff.length > 0) {
    throw new SnpTcbMismatchError(`the ${ek.kind} TCB (${diff.join(', ')}) differs from the report REPORTED_TCB: fetch the ${ek.kind} for this TCB`, {
      details: { fields: diff, certificate: ek.spl, reported: tcb },
    });
  }
  checks.push(`${ek.kind} TCB = REPORTED_TCB (bl ${tcb.bootloader}, tee ${tcb.tee}, snp ${tcb.snp}, ucode ${tcb.microcode}${tcb.fmc !== undefined ? `, fmc ${tcb.fmc}` : ''})`);

  return {
    teeType: 'sev-snp',
    version: r.version,
    status: 'Verified',
    advisoryIds: [],
    measurements: {
      measurement: r.measurement,
      hostData: r.hostData,
      reportData: r.reportData,
      policy: r.policy.toString(16).padStart(16, '0'),
      chipId: r.chipId,
      reportedTcb: r.reportedTcb,
      vmpl: r.vmpl,
    },
    debug: r.debug,
    validFrom: iso(validFrom),
    validUntil: iso(validUntil),
    simulated: substitute,
    checks,
  };
}
