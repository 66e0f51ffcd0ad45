import type { Abi, Account, Address, Hex } from 'viem';
import { configHash, type ConfigJson, type EthereumAnchorJson } from '@geode/protocol';
import { SimQuoteVerifierAbi, SimQuoteVerifierBytecode } from '@geode/contracts/generated/artifacts';
import type { ChainAccess } from './chain.ts';
import { ChainError } from './errors.ts';

/** What `deployGeodeApp` needs. */
export interface DeployOptions {
  chain: ChainAccess;
  deployer: Account;
  /** The application contract (inherits GeodeCore; constructor(bytes32[], address, address, bytes32, bytes32)). */
  app: { abi: Abi; bytecode: Hex };
  /** Accepted enclave measurements (mr_enclave, 0x bytes32). */
  measurements: Hex[];
  /** Simulation attestation public key, 64 bytes x||y (0x hex), for the SimQuoteVerifier. */
  simAttestationKey: Hex;
  /**
   * Light-client trust anchor: devnet block signer and genesis hash; or, for Ethereum's sync committee,
   * ETHEREUM_SYNC_COMMITTEE_SIGNER, ethereumAnchorHash(ethereum) and the anchor itself (sent to the enclave in init).
   */
  anchor: { signer: Address; genesisHash: Hex; ethereum?: EthereumAnchorJson };
  /** keccak256 of the canonical JSON of the client policy (opaque on-chain). */
  policyHash: Hex;
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
  const hash = await wallet.deployContract({ abi, bytecode, args: args as never, gas: 15_000_000n } as never);
  const r = await o.chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (r.status !== 'success' || !r.contractAddress) throw new ChainError('contract deployment reverted', { details: { hash } });
  return { address: r.contractAddress, block: r.blockNumber };
}

/**
 * Deploy the simulation attestation verifier and the application contract with its config (Instantiate).
 * Throws ChainError if a deployment reverts.
 */
export async function deployGeodeApp(o: DeployOptions): Promise<Deployment> {
  const key = o.simAttestationKey.slice(2);
  if (key.length !== 128) throw new ChainError('simAttestationKey must be 64 bytes (x||y)');
  const verifier = await deploy(o, SimQuoteVerifierAbi as Abi, SimQuoteVerifierBytecode as Hex, [`0x${key.slice(0, 64)}`, `0x${key.slice(64)}`]);
  const app = await deploy(o, o.app.abi, o.app.bytecode, [o.measurements, verifier.address, o.anchor.signer, o.anchor.genesisHash, o.policyHash]);
  const config: ConfigJson = {
    chainId: o.chain.chainId.toString(),
    contract: app.address,
    measurements: o.measurements,
    attestationVerifier: verifier.address,
    lcSigner: o.anchor.signer,
    lcGenesisHash: o.anchor.genesisHash,
    policyHash: o.policyHash,
    ...(o.anchor.ethereum ? { ethereumAnchor: o.anchor.ethereum } : {}),
  };
  const cfgHash = configHash({ ...config, chainId: o.chain.chainId, contract: app.address, measurements: o.measurements as Hex[], attestationVerifier: verifier.address, lcSigner: o.anchor.signer, lcGenesisHash: o.anchor.genesisHash as Hex, policyHash: o.policyHash });
  const onChain = (await o.chain.publicClient.readContract({ address: app.address, abi: o.app.abi, functionName: 'configHash' })) as Hex;
  if (onChain.toLowerCase() !== cfgHash.toLowerCase()) throw new ChainError('deployed configHash differs from the protocol configHash', { details: { onChain, expected: cfgHash } });
  return { contract: app.address, verifier: verifier.address, config, configHash: cfgHash, fromBlock: app.block };
}
