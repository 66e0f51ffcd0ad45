import { existsSync, mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keccak256, parseEther, toBytes, type Abi, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import pino, { type Logger } from 'pino';
import { canonicalJson } from '@geode/protocol';
import { devAccounts, devnetTransport, serveDevnet, startDevnet, type Devnet, type DevnetServer } from '@geode/devnet';
import { chainAccessFromTransport, deployGeodeApp, EnclaveProcess, Host, type ChainAccess, type Deployment } from '@geode/host';
import { createSimulationPki, type SimulationPki } from '@geode/attestation/sim/index';
import { measureEnclave, buildEnclave } from '@geode/enclave/build';
import { ComputationsAbi, ComputationsBytecode } from '@geode/contracts/generated/artifacts';
import { parsePolicy, type Policy } from '@geode/attestation/policy';

/** Repository root (the CLI runs from source). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
/** The computations app's enclave bundle, built by `npm run build`. */
export const ENCLAVE_BUNDLE = join(REPO_ROOT, 'dist/enclave/computations.mjs');
const ENCLAVE_ENTRY = join(REPO_ROOT, 'apps/computations/src/enclave/main.ts');

/** A running local Geode: devnet, deployed app, enclave process and host. */
export interface DevStack {
  devnet: Devnet;
  chain: ChainAccess;
  deployment: Deployment;
  enclave: EnclaveProcess;
  host: Host;
  pki: SimulationPki;
  policy: Policy;
  measurement: Hex;
  dataDir: string;
  server?: DevnetServer;
  /** Funded dev account keys users may use (account-0..n). */
  faucetKey: Hex;
  stop(): Promise<void>;
}

/** Options of startDevStack. */
export interface DevStackOptions {
  /** Where sealed state and the sim PKI go; default a fresh temp dir (removed on stop). */
  dataDir?: string;
  /** Also serve JSON-RPC on this port (0 = any free port). */
  servePort?: number;
  /** Progress callback for long steps. */
  progress?: (step: string) => void;
  logger?: Logger;
  /** Verification time for sim PKI validity (unix seconds). Default: now. */
  now?: number;
  /** Funded accounts beyond the dev accounts. */
  fund?: Hex[];
}

/** The default client policy for the simulated TEE: this exact measurement, UpToDate TCB, simulation allowed explicitly. */
export function simPolicy(measurement: Hex): Policy {
  return parsePolicy({ teeTypes: ['sgx'], acceptedStatuses: ['UpToDate'], allowSimulation: true, sgx: { mrEnclave: [measurement.slice(2)] } });
}

/**
 * Start everything the main job needs, in-process except the enclave (its own OS process): the EDR devnet,
 * a simulation PKI, the contracts (SimQuoteVerifier + Computations), the enclave and the host, handshake done.
 */
export async function startDevStack(o: DevStackOptions = {}): Promise<DevStack> {
  const progress = o.progress ?? (() => undefined);
  const log = o.logger ?? pino({ level: 'warn' });
  const tempDir = o.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'geode-'));
  const dataDir = o.dataDir ?? tempDir!;
  mkdirSync(join(dataDir, 'enclave'), { recursive: true });

  progress('enclave bundle');
  const measurement = existsSync(ENCLAVE_BUNDLE) ? measureEnclave(ENCLAVE_BUNDLE) : (await buildEnclave({ entry: ENCLAVE_ENTRY, outfile: ENCLAVE_BUNDLE })).measurement;

  progress('devnet');
  const accounts = devAccounts(8);
  const fund = [...accounts.map((a) => a.address), ...(o.fund ?? [])].map((address) => ({ address, balance: parseEther('1000000') }));
  const devnet = await startDevnet({ fund });
  const chain = chainAccessFromTransport({ chainId: devnet.chainId, transport: devnetTransport(devnet), onNewHead: (cb) => devnet.onNewHead(cb) });
  const server = o.servePort !== undefined ? await serveDevnet(devnet, { port: o.servePort }) : undefined;

  progress('simulation PKI');
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const pki = await createSimulationPki({ now: now - 86_400, validityDays: 3650 });
  const pkiFile = join(dataDir, 'sim-pki.json');
  writeFileSync(pkiFile, JSON.stringify(pki), { mode: 0o600 });

  progress('contracts');
  const policy = simPolicy(measurement);
  const deployer = privateKeyToAccount(accounts[0]!.privateKey);
  const operator = privateKeyToAccount(accounts[1]!.privateKey);
  const deployment = await deployGeodeApp({
    chain,
    deployer,
    app: { abi: ComputationsAbi as Abi, bytecode: ComputationsBytecode as Hex },
    measurements: [measurement],
    simAttestationKey: pki.attestationPublicKey,
    anchor: { signer: devnet.blockSigner, genesisHash: devnet.genesisHash },
    policyHash: keccak256(toBytes(canonicalJson(policy))),
  });

  progress('enclave and handshake');
  const enclave = new EnclaveProcess({ bundle: ENCLAVE_BUNDLE, dataDir: join(dataDir, 'enclave'), simPki: pkiFile, onLog: (l) => log.debug({ enclave: l }) });
  enclave.start();
  const host = new Host({ chain, operator, contract: deployment.contract, config: deployment.config, enclave, fromBlock: deployment.fromBlock, logger: log });
  await host.ensureSession();
  await host.start();

  return {
    devnet, chain, deployment, enclave, host, pki, policy, measurement, dataDir, server,
    faucetKey: accounts[2]!.privateKey,
    async stop() {
      await host.stop();
      await enclave.stop();
      await server?.close();
      await devnet.close();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}
