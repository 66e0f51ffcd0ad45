/**
 * Shared result types of the attestation library.
 *
 * Verification (crypto + collateral, in dcap/, snp/, nitro/) produces a `Verdict`;
 * a separate policy (policy.ts) decides acceptance from a Verdict. Verification never
 * reads the wall clock or the network: time is always passed in.
 */

/** Which TEE produced the evidence. */
export type TeeType = 'sgx' | 'tdx' | 'sev-snp' | 'nitro';

/** Intel TCB status strings as they appear in TCB Info / QE Identity (Intel PCS API v4). */
export type TcbStatus =
  | 'UpToDate'
  | 'SWHardeningNeeded'
  | 'ConfigurationNeeded'
  | 'ConfigurationAndSWHardeningNeeded'
  | 'OutOfDate'
  | 'OutOfDateConfigurationNeeded'
  | 'Revoked'
  /** AMD SEV-SNP and AWS Nitro have no TCB status from collateral: the chain verified. */
  | 'Verified';

/**
 * Measurements, all as lowercase hex without 0x. Only the fields the TEE type has are set.
 * SGX: mrEnclave, mrSigner, isvProdId, isvSvn, attributes, reportData (64 bytes).
 * TDX: mrTd, mrConfigId, mrOwner, mrOwnerConfig, rtmr0..3 (as rtmrs), mrServiceTd (v5 TD 1.5 only), tdAttributes, xfam, teeTcbSvn, reportData,
 *      plus the TDX module's mrSeam, mrSignerSeam, seamAttributes and (TD 1.5) teeTcbSvn2.
 * SEV-SNP: measurement (48 bytes), hostData, reportData (64 bytes), policy (hex of u64 LE->BE number), chipId, reportedTcb, vmpl.
 * Nitro: pcrs (index -> hex), moduleId, userData, nonce, publicKey.
 */
export interface Measurements {
  mrEnclave?: string;
  mrSigner?: string;
  isvProdId?: number;
  isvSvn?: number;
  attributes?: string;
  mrTd?: string;
  mrConfigId?: string;
  mrOwner?: string;
  mrOwnerConfig?: string;
  rtmrs?: string[];
  mrServiceTd?: string;
  tdAttributes?: string;
  xfam?: string;
  teeTcbSvn?: string;
  teeTcbSvn2?: string;
  mrSeam?: string;
  mrSignerSeam?: string;
  seamAttributes?: string;
  measurement?: string;
  hostData?: string;
  policy?: string;
  chipId?: string;
  reportedTcb?: string;
  vmpl?: number;
  pcrs?: Record<number, string>;
  moduleId?: string;
  userData?: string;
  nonce?: string;
  publicKey?: string;
  reportData?: string;
}

/** Outcome of cryptographic verification (before policy). */
export interface Verdict {
  teeType: TeeType;
  /** Quote/report/document format version (DCAP quote version, SNP report version, 1 for Nitro). */
  version: number;
  /** Worst of platform, QE and TDX module status (DCAP); 'Verified' for SNP/Nitro. */
  status: TcbStatus;
  /** Intel advisory IDs for the selected TCB levels, sorted, de-duplicated. */
  advisoryIds: string[];
  measurements: Measurements;
  /** True when the TEE runs in debug mode (SGX ATTRIBUTES.DEBUG, TDX TDATTRIBUTES.DEBUG, SNP policy DEBUG bit, Nitro all-zero PCRs). */
  debug: boolean;
  /** Validity window of the evidence and its collateral, ISO-8601 UTC: latest notBefore/issueDate .. earliest notAfter/nextUpdate. */
  validFrom?: string;
  validUntil?: string;
  /** Oldest collateral issue date, ISO-8601 (for the policy's maximum collateral age). */
  collateralIssuedAt?: string;
  /** DCAP only: FMSPC (hex, 6 bytes) and PCE-ID (hex, 2 bytes) from the PCK certificate. */
  fmspc?: string;
  pceId?: string;
  /** True when the chain ends at the Geode simulation root instead of a hardware vendor root. */
  simulated: boolean;
  /** Bytes after the signed structure that were tolerated (DCAP quotes padded by some generators). */
  trailingBytes?: number;
  /** Human-readable list of the checks that passed, in order (for `geode attest verify`). */
  checks: string[];
}
