/**
 * Geode's SEV-SNP evidence bytes (docs/attestation.md#snp-evidence): the 1184-byte ATTESTATION_REPORT followed by
 * the certificate table the platform returned with it (configfs-tsm `auxblob`; ./certs.ts), or the report alone.
 * The report's fixed length makes the split unambiguous. Verification:
 *
 * 1. Split at SNP_REPORT_LEN; a table longer than SNP_MAX_CERT_TABLE_BYTES is refused before it is parsed
 *    (ATTEST_DECODE), a malformed one too (ATTEST_DECODE).
 * 2. The VCEK (or VLEK) is `opts.vcekDer` when given, else the table's; neither is ATTEST_COLLATERAL_MISSING.
 * 3. The ASK/ARK are `opts.certChainPem` when given, else the table's ASK and ARK when it has both, else the pinned
 *    ASK of the product (./roots.ts).
 * 4. verifySnpReport (./verify.ts): the chain must end at AMD's pinned ARK of the product, or at
 *    `opts.trustedArkDer` (a test root: the verdict is then `simulated`). The table is host-supplied bytes: it only
 *    saves a KDS round trip, it proves nothing the pinned root does not.
 */
import { DecodeError } from '../errors.ts';
import type { Verdict } from '../types.ts';
import { parseSnpCertTable, type SnpCertificates } from './certs.ts';
import { SNP_MAX_CERT_TABLE_BYTES, SNP_REPORT_LEN } from './report.ts';
import type { SnpProduct } from './roots.ts';
import { verifySnpReport } from './verify.ts';

/** SNP evidence split into its report (1184 bytes) and its certificate table's certificates (null: no table). */
export interface SnpEvidence { report: Uint8Array; certificates: SnpCertificates | null }

/**
 * Step 1. Throws DecodeError (`ATTEST_DECODE`) for fewer than 1184 bytes, a table over SNP_MAX_CERT_TABLE_BYTES or a
 * malformed table.
 */
export function splitSnpEvidence(bytes: Uint8Array): SnpEvidence {
  if (bytes.length < SNP_REPORT_LEN) throw new DecodeError(`SEV-SNP evidence must start with a ${SNP_REPORT_LEN}-byte report, got ${bytes.length} bytes`, { details: { length: bytes.length } });
  const report = bytes.subarray(0, SNP_REPORT_LEN);
  const table = bytes.subarray(SNP_REPORT_LEN);
  if (table.length === 0) return { report, certificates: null };
  if (table.length > SNP_MAX_CERT_TABLE_BYTES) {
    throw new DecodeError(`SEV-SNP certificate table is ${table.length} bytes, more than the ${SNP_MAX_CERT_TABLE_BYTES} Geode accepts: it is not the platform's table`, { details: { length: table.length, max: SNP_MAX_CERT_TABLE_BYTES } });
  }
  return { report, certificates: parseSnpCertTable(table) };
}

/** Options of {@link verifySnpEvidence}. */
export interface VerifySnpEvidenceOptions {
  /** Verification time, unix seconds. */
  now: number;
  /** VCEK/VLEK (DER) replacing the table's, e.g. fetched from AMD KDS. */
  vcekDer?: Uint8Array;
  /** ASK (or ASVK) + ARK, PEM, replacing the table's. */
  certChainPem?: string;
  /** Expected product line. */
  product?: SnpProduct;
  /** A test root replacing AMD's pinned ARK (the verdict is then `simulated`). Never from the party that sent the evidence. */
  trustedArkDer?: Uint8Array;
}

const pem = (der: Uint8Array): string => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

/**
 * Steps 1-4 on Geode SNP evidence bytes. Returns verifySnpReport's Verdict (teeType 'sev-snp'). Throws DecodeError
 * `ATTEST_DECODE`, CollateralMissingError `ATTEST_COLLATERAL_MISSING` (no VCEK/VLEK in the table or the options),
 * and every error of verifySnpReport (`ATTEST_CHAIN_INVALID`, `ATTEST_SNP_SIGNATURE`, `ATTEST_CERT_*`, ...).
 */
export function verifySnpEvidence(bytes: Uint8Array, opts: VerifySnpEvidenceOptions): Verdict {
  const { report, certificates: t } = splitSnpEvidence(bytes);
  const tableChain = t?.ask && t.ark ? pem(t.ask) + pem(t.ark) : undefined;
  return verifySnpReport(report, {
    now: opts.now,
    vcekDer: opts.vcekDer ?? t?.vcek ?? t?.vlek,
    certChainPem: opts.certChainPem ?? tableChain,
    product: opts.product,
    trustedArkDer: opts.trustedArkDer,
  });
}
