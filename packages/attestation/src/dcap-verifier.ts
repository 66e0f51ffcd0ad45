/**
 * The DCAP verifier entry for trusted code (`@geode/attestation/dcap-verifier`): a key handover peer's evidence is
 * checked in the enclave as clients check a session quote (packages/enclave/src/handover/evidence.ts). Pure: the
 * time and the collateral are passed in; the PCS collateral fetcher (dcap/pcs.ts) and the other platforms' verifiers
 * are not reachable from here. packages/enclave/test/boundary.test.ts allows trusted code this entry.
 */
export { verifyDcapQuote, quoteMeasurements, quoteIsDebug, type VerifyDcapOptions } from './dcap/verify.ts';
export { evaluatePolicy, parsePolicy, policySchema, type Policy, type PolicyInput } from './policy.ts';
export type { Measurements, TcbStatus, TeeType, Verdict } from './types.ts';
