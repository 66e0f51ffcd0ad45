/**
 * The peer verifier entry for trusted code (`@geode/attestation/peer-verifier`): a key handover peer's evidence, DCAP
 * quote or SEV-SNP report, is checked in the enclave the way the recovery-key holder checks a restore newcomer
 * (./peer.ts). Pure: time, collateral and roots are passed in; the PCS collateral fetcher (dcap/pcs.ts), AMD KDS and
 * the Nitro verifier are not reachable from here. packages/enclave/test/boundary.test.ts allows trusted code this entry.
 */
export { verifyPeerAttestation, type PeerAttestationOptions, type PeerTrustRoots, type VerifiedPeerAttestation } from './peer.ts';
export { classifyEvidence, type EvidenceClass, type EvidenceKind } from './kind.ts';
export { evaluatePolicy, parsePolicy, policySchema, type Policy, type PolicyInput } from './policy.ts';
export type { Measurements, TcbStatus, TeeType, Verdict } from './types.ts';
