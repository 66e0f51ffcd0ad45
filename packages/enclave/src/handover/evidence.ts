/**
 * Checking a handover peer's evidence inside the enclave (docs/protocol.md#handover): the check the recovery-key
 * holder runs on a restore newcomer (@geode/attestation verifyPeerAttestation), under the policy the deployment's
 * config attests to and the trust roots this platform fixes. The enclave never trusts the host's word for any of it:
 *
 * 1. The policy JSON the host supplies must hash (keccak256 of canonicalJson) to the config's policyHash.
 * 2. The evidence is an Intel DCAP quote (SGX v3, TDX v4/v5) or Geode SEV-SNP evidence (the 1184-byte report, then
 *    its certificate table; docs/protocol.md#evidence-encoding), and verifies at `now` (a light-client verified
 *    block timestamp) chained to the root this platform trusts ({@link peerTrustRoots}): on hardware only the
 *    vendors' pinned roots (Intel's SGX root; AMD's ARK of the report's product), on the simulator the simulation
 *    root. A DCAP quote's collateral and an SNP report's certificates are signed by that root's PKI, so the host can
 *    withhold them but not forge them.
 * 3. The policy accepts the verdict (TEE type, TCB status, debug off, measurement, simulation only if allowed).
 * 4. The enclave identity (SGX: mr_enclave; TDX: SHA-256(MRTD ‖ RTMR0..3); SEV-SNP: SHA-256(MEASUREMENT);
 *    docs/attestation.md#enclave-identity) is one of the config's accepted measurements: a handover to another
 *    measurement happens only when the config (whose hash the contract holds) names it.
 * 5. REPORTDATA (SNP: REPORT_DATA) is `expected || 0^32`.
 *
 * Each failure has its own code; nothing is changed by a refusal.
 */
import { bytesToHex, keccak256, toBytes, type Hex } from 'viem';
import { canonicalJson } from '@geode/protocol';
import { parsePolicy, verifyPeerAttestation, type PeerTrustRoots, type VerifiedPeerAttestation } from '@geode/attestation/peer-verifier';
import { EnclaveError } from '../errors.ts';
import type { Platform } from '../platform/platform.ts';

/** What the host supplies for verifying a peer (protocol `handoverTrust`). */
export interface PeerTrust {
  /** dcap-qvl QuoteCollateralV3 JSON object of a DCAP peer's quote; unused for an SEV-SNP peer. */
  collateral?: Record<string, unknown>;
  /** The attestation policy JSON whose canonical keccak256 is the config's policyHash. */
  policy: unknown;
}

/** What the enclave itself fixes for the check. */
export interface PeerExpectation {
  /** Config policyHash (0x bytes32). */
  policyHash: Hex;
  /** Config accepted measurements (0x bytes32, lowercase). */
  measurements: readonly Hex[];
  /** The roots evidence must chain to ({@link peerTrustRoots}); empty = the vendors' pinned roots. */
  roots: PeerTrustRoots;
  /** Verification time, unix seconds (the verified header's timestamp). */
  now: number;
}

/** The peer as verified: its 32-byte enclave identity and its report data (64 bytes, lowercase unprefixed hex). */
export interface VerifiedPeer {
  identity: Hex;
  reportData: string;
  simulated: boolean;
  /** Which evidence it attested with. */
  kind: VerifiedPeerAttestation['kind'];
}

/**
 * The roots a peer's evidence must chain to, fixed by the platform this enclave runs on and never by the host:
 * - `sgx-sim`: DCAP quotes chain to the simulation PKI's root (the simulator's peers are simulated); SEV-SNP
 *   reports to AMD's pinned ARKs.
 * - `sev-snp`: AMD's pinned ARKs, unless the platform is a test double carrying `testArkDer`
 *   (openConfigfsTsmPlatform never sets it); DCAP quotes to Intel's pinned root.
 * - `sgx`, `tdx`: the vendors' pinned roots.
 * Throws ENCLAVE_ATTESTOR_UNAVAILABLE for a simulated platform without a simulation PKI.
 */
export function peerTrustRoots(p: Platform): PeerTrustRoots {
  if (p.teeType === 'sgx-sim') {
    if (!p.simRootCaDer) throw new EnclaveError('ENCLAVE_ATTESTOR_UNAVAILABLE', 'This simulated platform has no simulation PKI to verify a handover peer against.');
    return { intelRootCaDer: p.simRootCaDer() };
  }
  if (p.teeType === 'sev-snp' && p.testArkDer) return { amdArkDer: p.testArkDer };
  return {};
}

/**
 * Steps 1–4 above on `evidence` (DCAP quote or SNP report || certificate table). Returns the verified identity and
 * report data; step 5 is the caller's (it may need the identity to compute the expected report data). Throws
 * EnclaveError ENCLAVE_HANDOVER_POLICY (policy hash differs or policy malformed), ENCLAVE_HANDOVER_EVIDENCE (the
 * evidence is of no supported kind, does not verify, or the policy refuses it: the attestation error as `cause`
 * and its code as `details.code`), ENCLAVE_HANDOVER_MEASUREMENT (identity not accepted by the config).
 */
export function verifyPeerEvidence(evidence: Uint8Array, trust: PeerTrust, expect: PeerExpectation): VerifiedPeer {
  const actualPolicyHash = keccak256(toBytes(canonicalJson(trust.policy)));
  if (actualPolicyHash !== expect.policyHash.toLowerCase()) {
    throw new EnclaveError('ENCLAVE_HANDOVER_POLICY', 'The attestation policy supplied for the handover is not the one the deployment config attests to (policyHash); pass the deployment\'s policy JSON.', { details: { expected: expect.policyHash, actual: actualPolicyHash } });
  }
  let policy;
  try {
    policy = parsePolicy(trust.policy);
  } catch (e) {
    throw new EnclaveError('ENCLAVE_HANDOVER_POLICY', `The deployment's attestation policy does not parse: ${(e as Error).message}.`, { cause: e });
  }
  let peer: VerifiedPeerAttestation;
  try {
    peer = verifyPeerAttestation(evidence, { now: expect.now, policy, collateral: trust.collateral, roots: expect.roots });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new EnclaveError('ENCLAVE_HANDOVER_EVIDENCE', `The peer's attestation evidence was refused (${code ?? 'error'}: ${(e as Error).message}); the peer is not an attested instance this deployment accepts.`, { cause: e, details: { code } });
  }
  const identity = bytesToHex(peer.identity);
  if (!expect.measurements.includes(identity)) {
    throw new EnclaveError('ENCLAVE_HANDOVER_MEASUREMENT', `The peer's measurement ${identity} is not one the deployment config accepts; a handover to another measurement needs a deployment whose config names it.`, { details: { identity } });
  }
  return { identity, reportData: peer.reportData, simulated: peer.verdict.simulated, kind: peer.kind };
}

/** Step 5: ENCLAVE_HANDOVER_BINDING unless `peer.reportData` is `expected` (0x bytes32) followed by 32 zero bytes. */
export function requireReportData(peer: VerifiedPeer, expected: Hex, what: string): void {
  const want = expected.slice(2).toLowerCase() + '00'.repeat(32);
  if (peer.reportData !== want) {
    throw new EnclaveError('ENCLAVE_HANDOVER_BINDING', `The peer's evidence does not bind ${what}; it was made for another request, deployment or message.`, { details: { expected: want, actual: peer.reportData } });
  }
}
