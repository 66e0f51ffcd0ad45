/**
 * AMD SEV-SNP attestation report parser.
 *
 * Spec: AMD "SEV Secure Nested Paging Firmware ABI Specification" (#56860), Table 22 "ATTESTATION_REPORT
 * Structure" (report versions 2..5), Table 3 "TCB_VERSION Structure" (Milan/Genoa) and the Turin TCB_VERSION
 * layout (FMC SPL in byte 0), and Appendix "Digital Signatures" (ECDSA P-384 with SHA-384: r and s are 72-byte
 * little-endian fields at 0x2A0 and 0x2E8). All integer fields are little-endian. The report is 0x4A0 bytes;
 * the signed region is bytes 0x000-0x29F.
 */
import { DecodeError } from '../errors.ts';
import type { SnpProduct } from './roots.ts';

/** Length of an SEV-SNP attestation report (bytes). */
export const SNP_REPORT_LEN = 0x4a0;
/**
 * Largest SEV-SNP certificate table Geode carries after a report (docs/attestation.md#snp-evidence), bytes. AMD's
 * table (VCEK or VLEK, ASK or ASVK, ARK: three DER certificates of 1.3-1.7 KiB, 24-byte entries) is under 5 KiB;
 * the cap leaves room for a host's extra entries while keeping report + table well within the transport's 16 KiB
 * evidence cap (@geode/protocol MAX_EVIDENCE_BYTES).
 */
export const SNP_MAX_CERT_TABLE_BYTES = 12 * 1024;
/** End (exclusive) of the signed region, also the signature offset. */
export const SNP_SIGNED_LEN = 0x2a0;
/** SIGNATURE_ALGO value for ECDSA P-384 with SHA-384. */
export const SNP_SIG_ALGO_ECDSA_P384_SHA384 = 1;
/** POLICY bit 19: debugging allowed. */
export const SNP_POLICY_DEBUG_BIT = 19n;

/** Decoded TCB_VERSION. `fmc` is only defined for Turin. */
export interface SnpTcb {
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

/** Parsed report. Byte fields are lowercase hex without 0x (as AMD tools print). */
export interface SnpReport {
  /** VERSION (0x00), 2..5. */
  version: number;
  /** GUEST_SVN (0x04). */
  guestSvn: number;
  /** POLICY (0x08) as a number. */
  policy: bigint;
  /** FAMILY_ID (0x10, 16 bytes), IMAGE_ID (0x20, 16 bytes). */
  familyId: string;
  imageId: string;
  /** VMPL (0x30). */
  vmpl: number;
  /** SIGNATURE_ALGO (0x34); 1 = ECDSA P-384/SHA-384. */
  signatureAlgo: number;
  /** CURRENT_TCB (0x38), 8 bytes in report byte order. */
  currentTcb: string;
  /** PLATFORM_INFO (0x40). */
  platformInfo: bigint;
  /** Flags word (0x48): bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 2-4 SIGNING_KEY (0 VCEK, 1 VLEK, 7 none). */
  authorKeyEn: boolean;
  maskChipKey: boolean;
  signingKey: number;
  /** REPORT_DATA (0x50, 64 bytes). */
  reportData: string;
  /** MEASUREMENT (0x90, 48 bytes). */
  measurement: string;
  /** HOST_DATA (0xC0, 32 bytes). */
  hostData: string;
  /** ID_KEY_DIGEST (0xE0, 48), AUTHOR_KEY_DIGEST (0x110, 48), REPORT_ID (0x140, 32), REPORT_ID_MA (0x160, 32). */
  idKeyDigest: string;
  authorKeyDigest: string;
  reportId: string;
  reportIdMa: string;
  /** REPORTED_TCB (0x180), 8 bytes in report byte order. */
  reportedTcb: string;
  /** CPUID family/model/stepping (0x188..0x18A), v3+ only. */
  cpuidFamId?: number;
  cpuidModId?: number;
  cpuidStep?: number;
  /** CHIP_ID (0x1A0, 64 bytes). */
  chipId: string;
  /** COMMITTED_TCB (0x1E0), LAUNCH_TCB (0x1F0), 8 bytes each in report byte order. */
  committedTcb: string;
  launchTcb: string;
  /** CURRENT_BUILD/MINOR/MAJOR (0x1E8..0x1EA), COMMITTED_BUILD/MINOR/MAJOR (0x1EC..0x1EE). */
  currentBuild: number;
  currentMinor: number;
  currentMajor: number;
  committedBuild: number;
  committedMinor: number;
  committedMajor: number;
  /** LAUNCH_MIT_VECTOR (0x1F8) and CURRENT_MIT_VECTOR (0x200), v5+ only. */
  launchMitVector?: bigint;
  currentMitVector?: bigint;
  /** Signature r and s as 48-byte big-endian hex (converted from the 72-byte little-endian fields). */
  signatureR: string;
  signatureS: string;
  /** True when the DEBUG policy bit (19) is set. */
  debug: boolean;
  /** The signed bytes 0x000-0x29F (a view into the input). */
  signedBytes: Uint8Array;
  /** Raw signature r||s, 96 bytes big-endian (IEEE P1363), for node:crypto verify. */
  signatureP1363: Uint8Array;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Decodes a TCB_VERSION (8 bytes, report byte order) for a product (Turin has a different layout). */
export function decodeSnpTcb(tcb: Uint8Array, product: SnpProduct): SnpTcb {
  if (tcb.length !== 8) throw new DecodeError('SEV-SNP TCB_VERSION must be 8 bytes');
  if (product === 'Turin') {
    return { fmc: tcb[0]!, bootloader: tcb[1]!, tee: tcb[2]!, snp: tcb[3]!, microcode: tcb[7]! };
  }
  return { bootloader: tcb[0]!, tee: tcb[1]!, snp: tcb[6]!, microcode: tcb[7]! };
}

/** 72-byte little-endian ECDSA component -> 48-byte big-endian; upper 24 bytes must be zero. */
function leComponent(b: Uint8Array, name: string): Uint8Array {
  for (let i = 48; i < 72; i++) {
    if (b[i] !== 0) throw new DecodeError(`SEV-SNP report signature ${name} does not fit P-384 (non-zero high bytes)`, { details: { component: name } });
  }
  return Uint8Array.from(b.subarray(0, 48)).reverse();
}

/**
 * Parses an SEV-SNP attestation report (ABI spec #56860 Table 22). Does not verify anything.
 *
 * @param report exactly 0x4A0 (1184) bytes; longer inputs are refused (no trailing data).
 * @throws DecodeError (`ATTEST_DECODE`) when the input is not a Uint8Array of 1184 bytes, VERSION is not 2..5,
 *   SIGNATURE_ALGO is not 1 (ECDSA P-384/SHA-384), or the signature components exceed 48 bytes.
 */
export function parseSnpReport(report: Uint8Array): SnpReport {
  if (!(report instanceof Uint8Array)) throw new DecodeError('SEV-SNP report must be a Uint8Array');
  if (report.length !== SNP_REPORT_LEN) {
    throw new DecodeError(`SEV-SNP report must be ${SNP_REPORT_LEN} bytes, got ${report.length} (truncated or not an attestation report)`, {
      details: { length: report.length },
    });
  }
  const v = new DataView(report.buffer, report.byteOffset, report.byteLength);
  const version = v.getUint32(0x00, true);
  if (version < 2 || version > 5) {
    throw new DecodeError(`SEV-SNP report version ${version} is not supported (expected 2..5); is this an SNP report?`, { details: { version } });
  }
  const signatureAlgo = v.getUint32(0x34, true);
  if (signatureAlgo !== SNP_SIG_ALGO_ECDSA_P384_SHA384) {
    throw new DecodeError(`SEV-SNP report SIGNATURE_ALGO ${signatureAlgo} is not ECDSA P-384/SHA-384 (1)`, { details: { signatureAlgo } });
  }
  const r = leComponent(report.subarray(0x2a0, 0x2e8), 'r');
  const s = leComponent(report.subarray(0x2e8, 0x330), 's');
  const policy = v.getBigUint64(0x08, true);
  const flags = v.getUint32(0x48, true);
  const b = (o: number, n: number) => hex(report.subarray(o, o + n));
  const sig = new Uint8Array(96);
  sig.set(r, 0);
  sig.set(s, 48);
  return {
    version,
    guestSvn: v.getUint32(0x04, true),
    policy,
    familyId: b(0x10, 16),
    imageId: b(0x20, 16),
    vmpl: v.getUint32(0x30, true),
    signatureAlgo,
    currentTcb: b(0x38, 8),
    platformInfo: v.getBigUint64(0x40, true),
    authorKeyEn: (flags & 1) !== 0,
    maskChipKey: (flags & 2) !== 0,
    signingKey: (flags >>> 2) & 7,
    reportData: b(0x50, 64),
    measurement: b(0x90, 48),
    hostData: b(0xc0, 32),
    idKeyDigest: b(0xe0, 48),
    authorKeyDigest: b(0x110, 48),
    reportId: b(0x140, 32),
    reportIdMa: b(0x160, 32),
    reportedTcb: b(0x180, 8),
    ...(version >= 3 ? { cpuidFamId: report[0x188]!, cpuidModId: report[0x189]!, cpuidStep: report[0x18a]! } : {}),
    chipId: b(0x1a0, 64),
    committedTcb: b(0x1e0, 8),
    currentBuild: report[0x1e8]!,
    currentMinor: report[0x1e9]!,
    currentMajor: report[0x1ea]!,
    committedBuild: report[0x1ec]!,
    committedMinor: report[0x1ed]!,
    committedMajor: report[0x1ee]!,
    launchTcb: b(0x1f0, 8),
    ...(version >= 5 ? { launchMitVector: v.getBigUint64(0x1f8, true), currentMitVector: v.getBigUint64(0x200, true) } : {}),
    signatureR: hex(r),
    signatureS: hex(s),
    debug: ((policy >> SNP_POLICY_DEBUG_BIT) & 1n) === 1n,
    signedBytes: report.subarray(0, SNP_SIGNED_LEN),
    signatureP1363: sig,
  };
}
