/**
 * @geode/attestation: verification of TEE evidence (Intel DCAP SGX/TDX quotes, AMD SEV-SNP
 * reports, AWS Nitro documents), relying-party policy, and the dev TEE simulation.
 *
 * Typical use:
 *   const verdict = await verifyAttestation(evidence, { collateral, now });   // crypto + collateral
 *   evaluatePolicy(verdict, loadPolicy('policy.yaml'), { now });              // acceptance
 *
 * See docs/attestation.md.
 */
export * from './types.ts';
export * from './errors.ts';
export { evaluatePolicy, loadPolicy, parsePolicy, policySchema, type Policy, type PolicyInput } from './policy.ts';
export { verifyPeerAttestation, type PeerAttestationOptions, type PeerTrustRoots, type VerifiedPeerAttestation } from './peer.ts';
export { classifyEvidence, type EvidenceClass } from './kind.ts';
export { detectEvidence, verifyAttestation, type DetectedEvidence, type EvidenceKind, type VerifyAttestationOptions } from './verify.ts';
export { verifyDcapQuote, quoteMeasurements, quoteIsDebug, type VerifyDcapOptions } from './dcap/verify.ts';
export { parseQuote, type DcapQuote, type QuoteHeader, type SgxReportBody, type TdReportBody, type QuoteBody } from './dcap/quote.ts';
export {
  parseCollateral,
  collateralFromPcsBodies,
  extractJsonValueText,
  parseTcbInfo,
  parseQeIdentity,
  type QuoteCollateral,
  type PcsBodies,
  type TcbInfo,
  type QeIdentity,
} from './dcap/collateral.ts';
export { createDcapCache, defaultDcapCache, type DcapCache } from './dcap/cache.ts';
export { PcsCollateralSource, collateralKeyForQuote, INTEL_PCS_URL, type CollateralKey, type CollateralSourceOptions, type FetchFn } from './dcap/pcs.ts';
export { intelSgxRootCaDer, INTEL_SGX_ROOT_CA_SHA256 } from './dcap/roots.ts';
export { enclaveIdentityOf, sgxEnclaveIdentity, tdxEnclaveIdentity, snpEnclaveIdentity } from './identity.ts';
export * as snp from './snp/index.ts';
export * as sim from './sim/index.ts';
