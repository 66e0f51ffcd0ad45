/**
 * Checking a handover peer's evidence inside the enclave (docs/protocol.md#handover): the same verification a client
 * runs on a session quote (@geode/attestation verifyDcapQuote + evaluatePolicy), under the policy the deployment's
 * config attests to. The enclave never trusts the host's word for any of it:
 *
 * 1. The policy JSON the host supplies must hash (keccak256 of canonicalJson) to the config's policyHash.
 * 2. The quote verifies as an Intel DCAP quote at `now` (a light-client verified block timestamp), chained to the
 *    root this platform trusts: Intel's pinned SGX root on hardware, the simulation root on the simulator.
 *    The collateral is signed by that root's PKI, so the host can withhold it but not forge it.
 * 3. The policy accepts the verdict (TEE type, TCB status, debug off, measurement, simulation only if allowed).
 * 4. The enclave identity (SGX: mr_enclave; TDX: SHA-256(MRTD ‖ RTMR0..3), docs/attestation.md#enclave-identity)
 *    is one of the config's accepted measurements: a handover to another measurement happens only when the config
 *    (whose hash the contract holds) names it.
 * 5. REPORTDATA is `expected || 0^32`.
 *
 * Each failure has its own code; nothing is changed by a refusal.
 */
import { bytesToHex, keccak256, toBytes, type Hex } from 'viem';
import { canonicalJson } from '@geode/protocol';
import { verifyDcapQuote } from '@geode/attestation/dcap-verifier';
import { evaluatePolicy, parsePolicy } from '@geode/attestation/dcap-verifier';
import { enclaveIdentityOf } from '@geode/attestation/evidence';
import type { Verdict } from '@geode/attestation/dcap-verifier';
import { EnclaveError } from '../errors.ts';

/** What the host supplies for verifying a peer (protocol `handoverTrust`). */
export interface PeerTrust {
  /** dcap-qvl QuoteCollateralV3 JSON object. */
  collateral: Record<string, unknown>;
  /** The attestation policy JSON whose canonical keccak256 is the config's policyHash. */
  policy: unknown;
}

/** What the enclave itself fixes for the check. */
export interface PeerExpectation {
  /** Config policyHash (0x bytes32). */
  policyHash: Hex;
  /** Config accepted measurements (0x bytes32, lowercase). */
  measurements: readonly Hex[];
  /** Root CA (DER) the quote must chain to; undefined = Intel's pinned SGX Root CA. */
  rootCaDer: Uint8Array | undefined;
  /** Verification time, unix seconds (the verified header's timestamp). */
  now: number;
}

/** The peer as verified: its 32-byte enclave identity and its report data (64 bytes, lowercase unprefixed hex). */
export interface VerifiedPeer {
  identity: Hex;
  reportData: string;
  simulated: boolean;
}

/**
 * Steps 1–4 above on `quote` (DCAP bytes). Returns the verified identity and report data; step 5 is the caller's
 * (it may need the identity to compute the expected report data). Throws EnclaveError ENCLAVE_HANDOVER_POLICY (policy
 * hash differs or policy malformed), ENCLAVE_HANDOVER_EVIDENCE (quote does not verify, or the policy refuses it, the
 * attestation error as `cause`), ENCLAVE_HANDOVER_MEASUREMENT (identity not accepted by the config).
 */
export function verifyPeerEvidence(quote: Uint8Array, trust: PeerTrust, expect: PeerExpectation): VerifiedPeer {
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
  let verdict: Verdict;
  try {
    verdict = verifyDcapQuote(quote, trust.collateral as never, { now: expect.now, rootCaDer: expect.rootCaDer, cache: null });
    evaluatePolicy(verdict, policy, { now: expect.now });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new EnclaveError('ENCLAVE_HANDOVER_EVIDENCE', `The peer's attestation evidence was refused (${code ?? 'error'}: ${(e as Error).message}); the peer is not an attested instance this deployment accepts.`, { cause: e, details: { code } });
  }
  // DCAP verdicts only (verifyDcapQuote above): SGX mr_enclave, or TDX SHA-256(MRTD ‖ RTMR0..3).
  let identity: Hex;
  try {
    identity = bytesToHex(enclaveIdentityOf(verdict));
  } catch (e) {
    throw new EnclaveError('ENCLAVE_HANDOVER_EVIDENCE', `The peer's ${verdict.teeType} evidence carries no enclave identity: ${(e as Error).message}.`, { cause: e });
  }
  if (!expect.measurements.includes(identity)) {
    throw new EnclaveError('ENCLAVE_HANDOVER_MEASUREMENT', `The peer's measurement ${identity} is not one the deployment config accepts; a handover to another measurement needs a deployment whose config names it.`, { details: { identity } });
  }
  return { identity, reportData: (verdict.measurements.reportData ?? '').toLowerCase(), simulated: verdict.simulated };
}

/** Step 5: ENCLAVE_HANDOVER_BINDING unless `peer.reportData` is `expected` (0x bytes32) followed by 32 zero bytes. */
export function requireReportData(peer: VerifiedPeer, expected: Hex, what: string): void {
  const want = expected.slice(2).toLowerCase() + '00'.repeat(32);
  if (peer.reportData !== want) {
    throw new EnclaveError('ENCLAVE_HANDOVER_BINDING', `The peer's evidence does not bind ${what}; it was made for another request, deployment or message.`, { details: { expected: want, actual: peer.reportData } });
  }
}
