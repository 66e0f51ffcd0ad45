/**
 * One check of a peer's evidence for every relying party that must decide whether bytes come from an attested
 * instance of an accepted enclave: an enclave checking a key handover peer (packages/enclave/src/handover/evidence.ts)
 * and the recovery-key holder checking a restore newcomer (packages/cli/src/backup.ts). Pure: time, collateral, policy
 * and trust roots are passed in; nothing is fetched. Steps:
 *
 * 1. Classify the bytes (./kind.ts): a DCAP quote (SGX v3, TDX v4/v5) or Geode SEV-SNP evidence (report, then its
 *    certificate table; docs/attestation.md#snp-evidence). Anything else is ATTEST_UNSUPPORTED_EVIDENCE.
 * 2. DCAP: verifyDcapQuote at `now` with `collateral` (ATTEST_COLLATERAL_MISSING without), chained to
 *    `roots.intelRootCaDer` or Intel's pinned SGX root. SEV-SNP: verifySnpEvidence at `now`, VCEK and ASK/ARK from
 *    the table, chained to `roots.amdArkDer` or AMD's pinned ARK of the product.
 * 3. evaluatePolicy(verdict, policy, now): TEE type, TCB status, debug, measurements, simulation.
 * 4. The enclave identity of the verdict (./identity.ts: SGX mr_enclave; TDX SHA-256(MRTD ‖ RTMR0..3); SEV-SNP
 *    SHA-256(MEASUREMENT)), which the caller compares with the deployment's accepted measurements.
 *
 * The roots are the caller's decision, never the sender's: an enclave takes them from its platform
 * (packages/enclave/src/platform/platform.ts peerTrustRoots), the holder from the deployment.
 */
import { parseCollateral } from './dcap/collateral.ts';
import { verifyDcapQuote } from './dcap/verify.ts';
import { CollateralMissingError, UnsupportedEvidenceError } from './errors.ts';
import { enclaveIdentityOf } from './identity.ts';
import { classifyEvidence } from './kind.ts';
import { evaluatePolicy, type Policy } from './policy.ts';
import { verifySnpEvidence } from './snp/evidence.ts';
import type { Verdict } from './types.ts';

/** Trust roots replacing the vendors' pinned ones (the simulator's or a test PKI's). Absent: the pinned roots. */
export interface PeerTrustRoots {
  /** Intel root CA (DER) DCAP quotes must chain to; absent = Intel's pinned SGX Root CA. */
  intelRootCaDer?: Uint8Array;
  /** AMD ARK (DER) SEV-SNP VCEK chains must end at; absent = AMD's pinned ARK of the report's product. */
  amdArkDer?: Uint8Array;
}

/** Options of {@link verifyPeerAttestation}. */
export interface PeerAttestationOptions {
  /** Verification time, unix seconds. */
  now: number;
  /** The relying party's parsed policy (parsePolicy). */
  policy: Policy;
  /** DCAP collateral (dcap-qvl QuoteCollateralV3 object or JSON); unused for SEV-SNP. */
  collateral?: unknown;
  roots?: PeerTrustRoots;
}

/** A verified, policy-accepted peer. */
export interface VerifiedPeerAttestation {
  kind: 'dcap' | 'sev-snp';
  verdict: Verdict;
  /** The 32-byte enclave identity (step 4). */
  identity: Uint8Array;
  /** REPORTDATA / REPORT_DATA, 64 bytes as 128 lowercase hex digits. */
  reportData: string;
}

/**
 * Steps 1-4 above. Throws UnsupportedEvidenceError `ATTEST_UNSUPPORTED_EVIDENCE` (step 1), CollateralMissingError
 * `ATTEST_COLLATERAL_MISSING`, the DCAP / SNP verifiers' `ATTEST_*` errors (step 2), the policy's `POLICY_*`
 * errors (step 3), DecodeError `ATTEST_DECODE` (step 4: a verdict without its TEE's identity fields).
 */
export function verifyPeerAttestation(evidence: Uint8Array, o: PeerAttestationOptions): VerifiedPeerAttestation {
  const c = classifyEvidence(evidence);
  let verdict: Verdict;
  if (c?.kind === 'dcap') {
    if (o.collateral === undefined) throw new CollateralMissingError('A DCAP quote needs its collateral (TCB Info, QE Identity, CRLs) to be verified: pass the deployment\'s collateral');
    verdict = verifyDcapQuote(evidence, parseCollateral(o.collateral), { now: o.now, rootCaDer: o.roots?.intelRootCaDer, cache: null });
  } else if (c?.kind === 'sev-snp') {
    verdict = verifySnpEvidence(evidence, { now: o.now, trustedArkDer: o.roots?.amdArkDer });
  } else {
    throw new UnsupportedEvidenceError(`The evidence is ${c ? `${c.kind} evidence` : 'neither a DCAP quote nor an SEV-SNP report'}; a Geode peer attests with a DCAP quote (SGX, TDX) or an SEV-SNP report`, { details: { length: evidence.length, kind: c?.kind ?? null } });
  }
  evaluatePolicy(verdict, o.policy, { now: o.now });
  return { kind: c.kind, verdict, identity: enclaveIdentityOf(verdict), reportData: (verdict.measurements.reportData ?? '').toLowerCase() };
}
