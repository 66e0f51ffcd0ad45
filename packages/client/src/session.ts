import { bytesToHex, getAbiItem, hexToBytes, type Address, type Hex, type PublicClient } from 'viem';
import { sessionKeysReportData, TRUSTED_RPC_SIGNER } from '@geode/protocol';
import { verifyDcapQuote } from '@geode/attestation/dcap/verify';
import { detectEvidence, verifyAttestation } from '@geode/attestation';
import { enclaveIdentityOf } from '@geode/attestation/identity';
import type { QuoteCollateral } from '@geode/attestation/dcap/collateral';
import { evaluatePolicy, type Policy } from '@geode/attestation/policy';
import type { Verdict } from '@geode/attestation/types';
import { GeodeCoreAbi } from '@geode/contracts/generated/artifacts';
import { NoSessionError, SessionBindingError, TrustedRpcDeploymentError } from './errors.ts';

/** An enclave session the client has verified and will encrypt to. */
export interface TrustedSession {
  sessionId: bigint;
  /** X25519 HPKE public key of the enclave (0x, 32 bytes). */
  encPubKey: Hex;
  /** Address of the enclave's commitment signing key. */
  signer: Address;
  /** mr_enclave (0x, 32 bytes). */
  measurement: Hex;
  /** The attestation verdict the policy accepted. */
  verdict: Verdict;
  /** True when the quote chains to a simulation root (no hardware protection). */
  simulated: boolean;
  /** True when the deployment's enclave trusts its RPC node (INSECURE, no light client). */
  trustedRpc: boolean;
  quote: Hex;
}

/** Trust inputs for verifying a session's quote. */
export interface TrustOptions {
  publicClient: PublicClient;
  chainId: bigint;
  contract: Address;
  /** Collateral for the quote (dcap-qvl JSON shape). */
  collateral: QuoteCollateral;
  /** Root CA the PCK chain must end at (DER). Default: the pinned Intel SGX Root CA. Simulation: the sim root. */
  rootCaDer?: Uint8Array;
  /** SEV-SNP: ARK (DER) substituting AMD's pinned root, e.g. a test PKI (the verdict is then simulated). */
  amdArkDer?: Uint8Array;
  policy: Policy;
  /** Verification time, unix seconds. */
  now: number;
  /** INSECURE: accept a deployment whose enclave trusts its RPC (no light client). Default false. */
  allowTrustedRpc?: boolean;
}

const ACTIVATED = getAbiItem({ abi: GeodeCoreAbi, name: 'SessionActivated' });

/**
 * Fetch the contract's active session and verify it before anything is sent:
 * the SessionSetPubKey quote verifies (DCAP, at `now`), the policy accepts the verdict (measurement, TCB status,
 * debug off, simulation only if allowed), the quote's mr_enclave is the session's and is accepted by the contract,
 * and report_data binds this chain id, contract, nonce, encryption key and signer (protocol sessionKeysReportData).
 * A deployment with the trusted-RPC anchor (no light client) is refused unless `allowTrustedRpc`.
 * Throws NoSessionError, TrustedRpcDeploymentError, SessionBindingError, or the attestation/policy error (ATTEST_*, POLICY_*).
 */
export async function verifyActiveSession(o: TrustOptions): Promise<TrustedSession> {
  const [id, s] = (await o.publicClient.readContract({ address: o.contract, abi: GeodeCoreAbi, functionName: 'activeSession' })) as unknown as [
    bigint,
    { nonce: Hex; encPubKey: Hex; signer: Address; status: bigint; mrEnclave: Hex },
  ];
  if (id === 0n) throw new NoSessionError(o.contract);
  const lcSigner = (await o.publicClient.readContract({ address: o.contract, abi: GeodeCoreAbi, functionName: 'lcSigner' })) as Address;
  if (lcSigner.toLowerCase() === TRUSTED_RPC_SIGNER && !o.allowTrustedRpc) throw new TrustedRpcDeploymentError(o.contract);
  const logs = await o.publicClient.getLogs({ address: o.contract, event: ACTIVATED, args: { sessionId: id }, fromBlock: 0n, toBlock: 'latest' });
  const log = logs.at(-1);
  if (!log) throw new SessionBindingError('no SessionActivated event for the active session', { sessionId: id.toString() });
  const quote = (log.args as { quote: Hex }).quote;
  // SGX and TDX quotes are checked against DCAP collateral; an SEV-SNP report carries its certificate table
  // (docs/attestation.md#snp-evidence) and chains to AMD's pinned ARK, or to `amdArkDer` when a test PKI is trusted.
  const evidence = hexToBytes(quote);
  const verdict = detectEvidence(evidence).kind === 'dcap'
    ? verifyDcapQuote(evidence, o.collateral, { now: o.now, rootCaDer: o.rootCaDer })
    : await verifyAttestation(evidence, { now: o.now, roots: { amdArkDer: o.amdArkDer } });
  evaluatePolicy(verdict, o.policy, { now: o.now });
  const mr = bytesToHex(enclaveIdentityOf(verdict));
  if (mr.toLowerCase() !== s.mrEnclave.toLowerCase()) throw new SessionBindingError('quote measurement differs from the session measurement', { quote: mr, session: s.mrEnclave });
  const accepted = (await o.publicClient.readContract({ address: o.contract, abi: GeodeCoreAbi, functionName: 'isAcceptedMeasurement', args: [s.mrEnclave] })) as boolean;
  if (!accepted) throw new SessionBindingError('the contract does not accept the session measurement', { mrEnclave: s.mrEnclave });
  const expected = sessionKeysReportData(o.chainId, o.contract, s.nonce, s.encPubKey, s.signer).slice(2) + '00'.repeat(32);
  if ((verdict.measurements.reportData ?? '').toLowerCase() !== expected) {
    throw new SessionBindingError('report_data does not bind this chain, contract, nonce and keys', { expected, actual: verdict.measurements.reportData });
  }
  return { sessionId: id, encPubKey: s.encPubKey, signer: s.signer, measurement: s.mrEnclave, verdict, simulated: verdict.simulated, quote, trustedRpc: lcSigner.toLowerCase() === TRUSTED_RPC_SIGNER };
}
