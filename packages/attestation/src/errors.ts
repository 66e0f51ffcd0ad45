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
 * The SEV-SNP and Nitro verifiers (src/snp, src/nitro) add their own `ATTEST_SNP_*` /
 * `ATTEST_NITRO_*` subclasses of `AttestationError`.
 *
 * Documentation of each code: docs/attestation.md#errors.
 */
import { GeodeError } from '@geode/protocol';

/** Options accepted by every attestation error constructor. */
export interface AttestationErrorOptions {
  /** JSON-serialisable context (offsets, expected/actual values as hex strings, ...). */
  details?: Record<string, unknown>;
  /** Underlying error, if any. */
  cause?: unknown;
  /** Defaults to `attestation.md#errors`. */
  docsPath?: string;
}

/** Base class of every attestation and policy error. `code` starts with `ATTEST_` or `POLICY_`. */
export class AttestationError extends GeodeError {
  constructor(code: string, message: string, opts: AttestationErrorOptions = {}) {
    super(code, message, {
      details: opts.details,
      cause: opts.cause,
      docsPath: opts.docsPath ?? `attestation.md#${code.toLowerCase().replace(/_/g, '-')}`,
    });
  }
}

/** Declares a subclass of `Base` (default AttestationError) with a fixed code (used by dcap/, snp/, nitro/, sim/ and policy). */
export function fixed<C extends string>(code: C, Base: typeof AttestationError = AttestationError) {
  return class extends Base {
    static readonly code: C = code;
    declare readonly code: C;
    constructor(message: string, opts: AttestationErrorOptions = {}) {
      super(code, message, opts);
    }
  };
}

/** The evidence bytes are truncated, have a bad length field or are not in any known encoding. */
export class DecodeError extends fixed('ATTEST_DECODE') {}
/** Quote/report version, attestation key type, TEE type, body type or certification data type not supported. */
export class UnsupportedVersionError extends fixed('ATTEST_UNSUPPORTED_VERSION') {}
/** A certificate chain does not lead to the trusted root, or a certificate signature / CA constraint is wrong. */
export class ChainInvalidError extends fixed('ATTEST_CHAIN_INVALID') {}
/** A certificate of a chain is not valid at `now` any more (after its notAfter). */
export class CertExpiredError extends fixed('ATTEST_CERT_EXPIRED') {}
/** A certificate of a chain is not valid at `now` yet (before its notBefore): a wrong clock, or a back-dated check. */
export class CertNotYetValidError extends fixed('ATTEST_CERT_NOT_YET_VALID') {}
/** A certificate of a chain is listed in the CRL of its issuer. */
export class CertRevokedError extends fixed('ATTEST_CERT_REVOKED') {}
/** A CRL is malformed, not signed by the expected CA (e.g. Platform CA CRL for a Processor CA PCK), or has no nextUpdate. */
export class CrlInvalidError extends fixed('ATTEST_CRL_INVALID') {}
/** TCB Info, QE Identity or a CRL is not valid at `now` (before issueDate/thisUpdate or after nextUpdate). */
export class CollateralExpiredError extends fixed('ATTEST_COLLATERAL_EXPIRED') {}
/** TCB Info / QE Identity signature does not verify, or the collateral JSON is malformed. */
export class CollateralSignatureError extends fixed('ATTEST_COLLATERAL_SIGNATURE') {}
/** The FMSPC of the PCK certificate differs from the FMSPC of the TCB Info. */
export class FmspcMismatchError extends fixed('ATTEST_FMSPC_MISMATCH') {}
/** The PCE-ID of the PCK certificate differs from the PCE-ID of the TCB Info. */
export class PceIdMismatchError extends fixed('ATTEST_PCEID_MISMATCH') {}
/** The QE report signature does not verify with the PCK leaf key. */
export class QeReportSignatureError extends fixed('ATTEST_QE_REPORT_SIGNATURE') {}
/** QE report data is not SHA-256(attestation key || QE authentication data) followed by 32 zero bytes. */
export class QeReportDataError extends fixed('ATTEST_QE_REPORT_DATA') {}
/** The QE report does not match the QE Identity (MRSIGNER, ISVPRODID, MISCSELECT, ATTRIBUTES) or its TCB is revoked / not listed. */
export class QeIdentityMismatchError extends fixed('ATTEST_QE_IDENTITY_MISMATCH') {}
/** The quote signature (over header || body) does not verify with the attestation key. */
export class QuoteSignatureError extends fixed('ATTEST_QUOTE_SIGNATURE') {}
/** No TCB level of the TCB Info matches the platform (or the TDX module). */
export class TcbLevelNotFoundError extends fixed('ATTEST_TCB_LEVEL_NOT_FOUND') {}
/** The selected TCB level (platform, QE or TDX module) has status Revoked. */
export class TcbRevokedError extends fixed('ATTEST_TCB_REVOKED') {}
/** TDX module (MRSIGNERSEAM, SEAMATTRIBUTES, module identity TDX_nn) does not match the TCB Info. */
export class TdxModuleMismatchError extends fixed('ATTEST_TDX_MODULE_MISMATCH') {}
/** Evidence type is not recognised or no verifier is available for it. */
export class UnsupportedEvidenceError extends fixed('ATTEST_UNSUPPORTED_EVIDENCE') {}
/** Verification needs collateral (TCB Info, QE Identity, CRLs, or the SNP VCEK) that was not given. */
export class CollateralMissingError extends fixed('ATTEST_COLLATERAL_MISSING') {}
/** A collateral source (PCS/PCCS fetch) failed; never thrown by verification itself. */
export class CollateralFetchError extends fixed('ATTEST_COLLATERAL_FETCH') {}

/** Base class of policy refusals (`POLICY_*`). The evidence verified; the relying party's policy refused it. */
export class PolicyError extends AttestationError {}

const policy = <C extends string>(code: C) => fixed(code, PolicyError);

/** The policy file is malformed (schema error, unreadable file). */
export class PolicyInvalidError extends policy('POLICY_INVALID') {}
/** The TEE runs in debug mode and the policy does not allow debug. */
export class PolicyDebugError extends policy('POLICY_DEBUG') {}
/** TDX MRSERVICETD is non-zero and the policy does not allow a service TD. */
export class PolicyMrServiceTdError extends policy('POLICY_MR_SERVICETD') {}
/** The verdict's TCB status is not in the policy's accepted statuses. */
export class PolicyTcbStatusError extends policy('POLICY_TCB_STATUS') {}
/** The verdict lists an advisory ID the policy does not allow. */
export class PolicyAdvisoryError extends policy('POLICY_ADVISORY') {}
/** The collateral is older than the policy's maximum age. */
export class PolicyCollateralAgeError extends policy('POLICY_COLLATERAL_AGE') {}
/** The evidence chains to a simulation root and the policy does not allow simulation. */
export class PolicySimulationError extends policy('POLICY_SIMULATION') {}
/** A measurement (MRENCLAVE, MRSIGNER, MRTD, RTMR, SNP measurement, PCR, ...) differs from the policy. */
export class PolicyMeasurementError extends policy('POLICY_MEASUREMENT') {}
/** The report data does not match the expected value or prefix. */
export class PolicyReportDataError extends policy('POLICY_REPORT_DATA') {}
/** The evidence's TEE type is not among the policy's accepted TEE types. */
export class PolicyTeeTypeError extends policy('POLICY_TEE_TYPE') {}
/** TDX TDATTRIBUTES violate the policy (e.g. SEPT_VE_DISABLE required but not set). */
export class PolicyTdAttributesError extends policy('POLICY_TD_ATTRIBUTES') {}

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
