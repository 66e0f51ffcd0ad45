import type { Abi, Account, Address, Hex } from 'viem';
import { configHash, type ConfigJson, type EthereumAnchorJson } from '@geode/protocol';
import { SimQuoteVerifierAbi, SimQuoteVerifierBytecode } from '@geode/contracts';
import type { ChainAccess } from './chain.ts';
import { ChainError, DeployRefusedError } from './errors.ts';

/** The TEE whose evidence the contract must check: the simulator's SGX quotes, or a hardware TEE's. */
export type DeployTee = 'sgx-sim' | 'sgx' | 'tdx' | 'sev-snp';
/** Every DeployTee value. */
export const DEPLOY_TEES: readonly DeployTee[] = ['sgx-sim', 'sgx', 'tdx', 'sev-snp'];

/** An already deployed on-chain attestation verifier (IAttestationVerifier) and the evidence it checks. */
export interface AttestationVerifierConfig {
  address: Address;
  /** Human name for messages (e.g. "DcapQuoteVerifier"). */
  name: string;
  /** Evidence types it verifies completely (chain of trust, signatures, TCB; docs/attestation.md#on-chain-verifiers). */
  checks: readonly DeployTee[];
}

/** The SimQuoteVerifier deployGeodeApp deploys by default checks simulated SGX quotes only. */
export const SIM_VERIFIER_CHECKS: readonly DeployTee[] = ['sgx-sim'];

/**
 * Refuse a deployment whose TEE's evidence no configured verifier checks. `verifier` undefined means the default
 * (the SimQuoteVerifier, {@link SIM_VERIFIER_CHECKS}). Pure; throws DeployRefusedError
 * (`HOST_NO_ATTESTATION_VERIFIER`) naming what is missing, TypeError for an unknown tee.
 */
export function requireVerifierFor(tee: DeployTee, verifier?: Pick<AttestationVerifierConfig, 'name' | 'checks'>): void {
  if (!DEPLOY_TEES.includes(tee)) throw new TypeError(`unknown TEE "${tee}" (one of ${DEPLOY_TEES.join(', ')})`);
  const v = verifier ?? { name: 'SimQuoteVerifier', checks: SIM_VERIFIER_CHECKS };
  if (v.checks.includes(tee)) return;
  const what = tee === 'sev-snp' ? 'an on-chain SEV-SNP report verifier (VCEK chain to the AMD ARK, report signature)' : `an on-chain DCAP verifier for ${tee.toUpperCase()} quotes (PCK chain to the Intel SGX Root CA, QE report, TCB Info)`;
  throw new DeployRefusedError(
    `Deployment refused: the configured attestation verifier (${v.name}) checks ${v.checks.join(', ') || 'nothing'}, not ${tee} evidence, so the contract could not check this enclave's quotes. Missing: ${what}. Deploy one and pass it as the attestation verifier, or use the simulator (--tee sim) for development.`,
    { tee, verifier: v.name, checks: [...v.checks] },
  );
}

/** What `deployGeodeApp` needs. */
export interface DeployOptions {
  chain: ChainAccess;
  deployer: Account;
  /** The application contract (inherits GeodeCore; constructor(bytes32[], address, address, bytes32, bytes32, address)). */
  app: { abi: Abi; bytecode: Hex };
  /** Accepted enclave measurements (0x bytes32 each, the per-TEE identity of docs/attestation.md#enclave-identity). */
  measurements: Hex[];
  /** The TEE of the enclave (default 'sgx-sim'). */
  tee?: DeployTee;
  /** An already deployed verifier; default: deploy a SimQuoteVerifier (checks 'sgx-sim' only). */
  attestationVerifier?: AttestationVerifierConfig;
  /** Simulation attestation public key, 64 bytes x||y (0x hex), for the SimQuoteVerifier (needed when it is deployed). */
  simAttestationKey?: Hex;
  /**
   * Light-client trust anchor: devnet block signer and genesis hash; or, for Ethereum's sync committee,
   * ETHEREUM_SYNC_COMMITTEE_SIGNER, ethereumAnchorHash(ethereum) and the anchor itself (sent to the enclave in init).
   */
  anchor: { signer: Address; genesisHash: Hex; ethereum?: EthereumAnchorJson };
  /** keccak256 of the canonical JSON of the client policy (opaque on-chain). */
  policyHash: Hex;
  /**
   * The deployment's admin (GeodeCore.admin, part of configHash): the only account that may open the first session
   * and activate keys that do not continue the active session's. Pass the host operator's address so the host can
   * open the first session (docs/protocol.md#handshake).
   */
  admin: Address;
}

/** A deployed Geode application. */
export interface Deployment {
  contract: Address;
  verifier: Address;
  config: ConfigJson;
  configHash: Hex;
  /** Block of the application's deployment (log scans start here). */
  fromBlock: bigint;
}

async function deploy(o: DeployOptions, abi: Abi, bytecode: Hex, args: readonly unknown[]): Promise<{ address: Address; block: bigint }> {
  const wallet = o.chain.wallet(o.deployer);
  const hash = await wallet.deployContract({ abi, bytecode, args, gas: 15_000_000n });
  const r = await o.chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (r.status !== 'success' || !r.contractAddress) throw new ChainError('contract deployment reverted', { details: { hash } });
  return { address: r.contractAddress, block: r.blockNumber };
}

/**
 * Deploy the application contract with its config (Instantiate), after the attestation verifier: the given one, or
 * a new SimQuoteVerifier. First, before any transaction, refuses a TEE no verifier checks (requireVerifierFor:
 * DeployRefusedError `HOST_NO_ATTESTATION_VERIFIER`). Throws ChainError if a deployment reverts.
 */
export async function deployGeodeApp(o: DeployOptions): Promise<Deployment> {
  requireVerifierFor(o.tee ?? 'sgx-sim', o.attestationVerifier);
  let verifier: { address: Address };
  if (o.attestationVerifier) {
    verifier = { address: o.attestationVerifier.address };
  } else {
    const key = (o.simAttestationKey ?? '0x').slice(2);
    if (key.length !== 128) throw new ChainError('simAttestationKey must be 64 bytes (x||y)');
    verifier = await deploy(o, SimQuoteVerifierAbi as Abi, SimQuoteVerifierBytecode as Hex, [`0x${key.slice(0, 64)}`, `0x${key.slice(64)}`]);
  }
  const app = await deploy(o, o.app.abi, o.app.bytecode, [o.measurements, verifier.address, o.anchor.signer, o.anchor.genesisHash, o.policyHash, o.admin]);
  const config: ConfigJson = {
    chainId: o.chain.chainId.toString(),
    contract: app.address,
    measurements: o.measurements,
    attestationVerifier: verifier.address,
    lcSigner: o.anchor.signer,
    lcGenesisHash: o.anchor.genesisHash,
    policyHash: o.policyHash,
    admin: o.admin,
    ...(o.anchor.ethereum ? { ethereumAnchor: o.anchor.ethereum } : {}),
  };
  const cfgHash = configHash({ ...config, chainId: o.chain.chainId, contract: app.address, measurements: o.measurements as Hex[], attestationVerifier: verifier.address, lcSigner: o.anchor.signer, lcGenesisHash: o.anchor.genesisHash as Hex, policyHash: o.policyHash, admin: o.admin });
  const onChain = (await o.chain.publicClient.readContract({ address: app.address, abi: o.app.abi, functionName: 'configHash' })) as Hex;
  if (onChain.toLowerCase() !== cfgHash.toLowerCase()) throw new ChainError('deployed configHash differs from the protocol configHash', { details: { onChain, expected: cfgHash } });
  return { contract: app.address, verifier: verifier.address, config, configHash: cfgHash, fromBlock: app.block };
}
