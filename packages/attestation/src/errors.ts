/**
 * Typed errors of the attestation library.
 *
 * Every failure of parsing, cryptographic verification or policy evaluation throws a
 * subclass of {@link AttestationError} (itself a `GeodeError` from `@geode/protocol`) with a
 * stable `code`. Callers and tests branch on `code` (or `instanceof`), never on messages.
 *
 * Two families:
 * - `ATTEST_*`: the evidence or its collateral is malformed, unsupported or does not verify
 *   (thrown by `verify*` functions and parsers).
 * - `POLICY_*`: the evidence verified but the relying party's policy refuses it (thrown by
 *   `evaluatePolicy`, see policy.ts). `PolicyError` extends `AttestationError`.
 *
 * Every class is declared with @geode/protocol's defineError. The SEV-SNP and Nitro verifiers (src/snp, src/nitro) add their own `ATTEST_SNP_*` /
 * `ATTEST_NITRO_*` subclasses of `AttestationError`.
 *
 * Documentation of each code: docs/attestation.md#errors.
 */
import { defineError } from '@geode/protocol';

/** Options accepted by every attestation error constructor. */
export interface AttestationErrorOptions {
  /** JSON-serialisable context (offsets, expected/actual values as hex strings, ...). */
  details?: Record<string, unknown>;
  /** Underlying error, if any. */
  cause?: unknown;
  /** Defaults to `attestation.md#errors`. */
  docsPath?: string;
}

/** Base class of every attestation and policy error. `code` starts with `ATTEST_` or `POLICY_`; docsPath defaults to the code's section of docs/attestation.md. */
export class AttestationError extends defineError({
  build: (code: string, message: string, opts: AttestationErrorOptions = {}) => ({
    code,
    message,
    details: opts.details,
    cause: opts.cause,
    docsPath: opts.docsPath ?? `attestation.md#${code.toLowerCase().replace(/_/g, '-')}`,
  }),
}) {}

/** The evidence bytes are truncated, have a bad length field or are not in any known encoding. */
export class DecodeError extends defineError({ code: 'ATTEST_DECODE', base: AttestationError }) {}
/** Quote/report version, attestation key type, TEE type, body type or certification data type not supported. */
export class UnsupportedVersionError extends defineError({ code: 'ATTEST_UNSUPPORTED_VERSION', base: AttestationError }) {}
/** A certificate chain does not lead to the trusted root, or a certificate signature / CA constraint is wrong. */
export class ChainInvalidError extends defineError({ code: 'ATTEST_CHAIN_INVALID', base: AttestationError }) {}
/** A certificate of a chain is not valid at `now` any more (after its notAfter). */
export class CertExpiredError extends defineError({ code: 'ATTEST_CERT_EXPIRED', base: AttestationError }) {}
/** A certificate of a chain is not valid at `now` yet (before its notBefore): a wrong clock, or a back-dated check. */
export class CertNotYetValidError extends defineError({ code: 'ATTEST_CERT_NOT_YET_VALID', base: AttestationError }) {}
/** A certificate of a chain is listed in the CRL of its issuer. */
export class CertRevokedError extends defineError({ code: 'ATTEST_CERT_REVOKED', base: AttestationError }) {}
/** A CRL is malformed, not signed by the expected CA (e.g. Platform CA CRL for a Processor CA PCK), or has no nextUpdate. */
export class CrlInvalidError extends defineError({ code: 'ATTEST_CRL_INVALID', base: AttestationError }) {}
/** TCB Info, QE Identity or a CRL is not valid at `now` (before issueDate/thisUpdate or after nextUpdate). */
export class CollateralExpiredError extends defineError({ code: 'ATTEST_COLLATERAL_EXPIRED', base: AttestationError }) {}
/** TCB Info / QE Identity signature does not verify, or the collateral JSON is malformed. */
export class CollateralSignatureError extends defineError({ code: 'ATTEST_COLLATERAL_SIGNATURE', base: AttestationError }) {}
/** The FMSPC of the PCK certificate differs from the FMSPC of the TCB Info. */
export class FmspcMismatchError extends defineError({ code: 'ATTEST_FMSPC_MISMATCH', base: AttestationError }) {}
/** The PCE-ID of the PCK certificate differs from the PCE-ID of the TCB Info. */
export class PceIdMismatchError extends defineError({ code: 'ATTEST_PCEID_MISMATCH', base: AttestationError }) {}
/** The QE report signature does not verify with the PCK leaf key. */
export class QeReportSignatureError extends defineError({ code: 'ATTEST_QE_REPORT_SIGNATURE', base: AttestationError }) {}
/** QE report data is not SHA-256(attestation key || QE authentication data) followed by 32 zero bytes. */
export class QeReportDataError extends defineError({ code: 'ATTEST_QE_REPORT_DATA', base: AttestationError }) {}
/** The QE report does not match the QE Identity (MRSIGNER, ISVPRODID, MISCSELECT, ATTRIBUTES) or its TCB is revoked / not listed. */
export class QeIdentityMismatchError extends defineError({ code: 'ATTEST_QE_IDENTITY_MISMATCH', base: AttestationError }) {}
/** The quote signature (over header || body) does not verify with the attestation key. */
export class QuoteSignatureError extends defineError({ code: 'ATTEST_QUOTE_SIGNATURE', base: AttestationError }) {}
/** No TCB level of the TCB Info matches the platform (or the TDX module). */
export class TcbLevelNotFoundError extends defineError({ code: 'ATTEST_TCB_LEVEL_NOT_FOUND', base: AttestationError }) {}
/** The selected TCB level (platform, QE or TDX module) has status Revoked. */
export class TcbRevokedError extends defineError({ code: 'ATTEST_TCB_REVOKED', base: AttestationError }) {}
/** TDX module (MRSIGNERSEAM, SEAMATTRIBUTES, module identity TDX_nn) does not match the TCB Info. */
export class TdxModuleMismatchError extends defineError({ code: 'ATTEST_TDX_MODULE_MISMATCH', base: AttestationError }) {}
/** Evidence type is not recognised or no verifier is available for it. */
export class UnsupportedEvidenceError extends defineError({ code: 'ATTEST_UNSUPPORTED_EVIDENCE', base: AttestationError }) {}
/** Verification needs collateral (TCB Info, QE Identity, CRLs, or the SNP VCEK) that was not given. */
export class CollateralMissingError extends defineError({ code: 'ATTEST_COLLATERAL_MISSING', base: AttestationError }) {}
/** A collateral source (PCS/PCCS fetch) failed; never thrown by verification itself. */
export class CollateralFetchError extends defineError({ code: 'ATTEST_COLLATERAL_FETCH', base: AttestationError }) {}

/** Base class of policy refusals (`POLICY_*`). The evidence verified; the relying party's policy refused it. */
export class PolicyError extends AttestationError {}

/** The policy file is malformed (schema error, unreadable file). */
export class PolicyInvalidError extends defineError({ code: 'POLICY_INVALID', base: PolicyError }) {}
/** The TEE runs in debug mode and the policy does not allow debug. */
export class PolicyDebugError extends defineError({ code: 'POLICY_DEBUG', base: PolicyError }) {}
/** TDX MRSERVICETD is non-zero and the policy does not allow a service TD. */
export class PolicyMrServiceTdError extends defineError({ code: 'POLICY_MR_SERVICETD', base: PolicyError }) {}
/** The verdict's TCB status is not in the policy's accepted statuses. */
export class PolicyTcbStatusError extends defineError({ code: 'POLICY_TCB_STATUS', base: PolicyError }) {}
/** The verdict lists an advisory ID the policy does not allow. */
export class PolicyAdvisoryError extends defineError({ code: 'POLICY_ADVISORY', base: PolicyError }) {}
/** The collateral is older than the policy's maximum age. */
export class PolicyCollateralAgeError extends defineError({ code: 'POLICY_COLLATERAL_AGE', base: PolicyError }) {}
/** The evidence chains to a simulation root and the policy does not allow simulation. */
export class PolicySimulationError extends defineError({ code: 'POLICY_SIMULATION', base: PolicyError }) {}
/** A measurement (MRENCLAVE, MRSIGNER, MRTD, RTMR, SNP measurement, PCR, ...) differs from the policy. */
export class PolicyMeasurementError extends defineError({ code: 'POLICY_MEASUREMENT', base: PolicyError }) {}
/** The report data does not match the expected value or prefix. */
export class PolicyReportDataError extends defineError({ code: 'POLICY_REPORT_DATA', base: PolicyError }) {}
/** The evidence's TEE type is not among the policy's accepted TEE types. */
export class PolicyTeeTypeError extends defineError({ code: 'POLICY_TEE_TYPE', base: PolicyError }) {}
/** TDX TDATTRIBUTES violate the policy (e.g. SEPT_VE_DISABLE required but not set). */
export class PolicyTdAttributesError extends defineError({ code: 'POLICY_TD_ATTRIBUTES', base: PolicyError }) {}

/** Every stable code defined in this file. */
export const ATTEST_ERROR_CODES = [
  'ATTEST_DECODE', 'ATTEST_UNSUPPORTED_VERSION', 'ATTEST_CHAIN_INVALID', 'ATTEST_CERT_EXPIRED', 'ATTEST_CERT_NOT_YET_VALID',
  'ATTEST_CERT_REVOKED', 'ATTEST_CRL_INVALID', 'ATTEST_COLLATERAL_EXPIRED', 'ATTEST_COLLATERAL_SIGNATURE',
  'ATTEST_FMSPC_MISMATCH', 'ATTEST_PCEID_MISMATCH', 'ATTEST_QE_REPORT_SIGNATURE', 'ATTEST_QE_REPORT_DATA',
  'ATTEST_QE_IDENTITY_MISMATCH', 'ATTEST_QUOTE_SIGNATURE', 'ATTEST_TCB_LEVEL_NOT_FOUND', 'ATTEST_TCB_REVOKED', 'ATTEST_TDX_MODULE_MISMATCH',
  'ATTEST_UNSUPPORTED_EVIDENCE', 'ATTEST_COLLATERAL_MISSING', 'ATTEST_COLLATERAL_FETCH',
  'POLICY_INVALID', 'POLICY_DEBUG', 'POLICY_MR_SERVICETD', 'POLICY_TCB_STATUS', 'POLICY_ADVISORY',
  'POLICY_COLLATERAL_AGE', 'POLICY_SIMULATION', 'POLICY_MEASUREMENT', 'POLICY_REPORT_DATA', 'POLICY_TEE_TYPE', 'POLICY_TD_ATTRIBUTES',
] as const;

/** True when `e` is an attestation/policy error (also across module copies, by code prefix). */
export function isAttestationError(e: unknown): e is AttestationError {
  if (e instanceof AttestationError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && (code.startsWith('ATTEST_') || code.startsWith('POLICY_'));
}
