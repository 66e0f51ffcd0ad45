import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEther, type Address, type Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import pino, { type Logger } from 'pino';
import { ETHEREUM_SYNC_COMMITTEE_SIGNER, ethereumAnchorHash, type EthereumAnchorJson } from '@geode/protocol';
import { ensurePrivateDir } from '@geode/protocol/files';
import { devAccounts, devnetTransport, serveDevnet, startDevnet, type Devnet, type DevnetBeacon, type DevnetBeaconOptions, type DevnetServer } from '@geode/devnet';
import { beaconApi, beaconNetworkAnchor, chainAccessFromTransport, chainAccessFromUrl, requireVerifierFor, type ChainAccess, type DeployTee, type Deployment, type EnclaveProcess, type Host } from '@geode/host';
import { fundFromFaucet } from './connect.ts';
import { CliArgumentError, CliPortUnavailableError } from './errors.ts';
import { REPO_ROOT, defaultApp, type GeodeApp } from './apps.ts';
import type { SimulationPki } from '@geode/attestation/sim';
import type { Policy } from '@geode/attestation';
import { deployPrepared, prepareApp, rpcAnchor, startEnclave, type DeploymentAnchor } from './steps.ts';

export { REPO_ROOT, defaultApp };
// Step 1's build half and the sim policy live with the steps; re-exported here, where callers have always found them.
export { ensureAppContracts, ensureEnclaveBundle, simPolicy } from './steps.ts';

/** A running local Geode: devnet, deployed app, enclave process and host. */
export interface DevStack {
  /** The app this stack runs (its contract is deployed, its enclave bundle runs). */
  app: GeodeApp;
  /** The embedded devnet, or undefined when running against --rpc. */
  devnet: Devnet | undefined;
  /** The embedded devnet's Beacon light-client API (`lightClient: 'ethereum'`), else undefined. */
  beacon: DevnetBeacon | undefined;
  /** True when the enclave trusts its RPC (INSECURE; --insecure-trusted-rpc). */
  trustedRpc: boolean;
  chain: ChainAccess;
  deployment: Deployment;
  enclave: EnclaveProcess;
  host: Host;
  pki: SimulationPki;
  policy: Policy;
  measurement: Hex;
  dataDir: string;
  server?: DevnetServer;
  /** The control endpoint of the stack's enclave host (steps.ts startEnclave; `geode status` asks its /health). */
  controlUrl: string;
  /** Funded dev account keys users may use (account-0..n). */
  faucetKey: Hex;
  /**
   * The embedded devnet's block-signer key: fresh and random per start (never the public dev key), held by the
   * devnet. Exposed for tests of the trust anchor; undefined with --rpc.
   */
  blockSignerKey: Hex | undefined;
  stop(): Promise<void>;
}

/** Options of startDevStack. */
export interface DevStackOptions {
  /** The app to deploy and run (loadApp); default defaultApp(). */
  app?: GeodeApp;
  /**
   * The deployment's recovery key (X25519 public key, 0x bytes32; docs/protocol.md#backup), set by the admin before
   * the first session. Default: none (no backup possible).
   */
  recoveryKey?: Hex;
  /** Where sealed state and the sim PKI go; default a fresh temp dir (removed on stop). */
  dataDir?: string;
  /** Also serve JSON-RPC on this port (0 = any free port). */
  servePort?: number;
  /** Interface the JSON-RPC server listens on; default 127.0.0.1 (loopback only). */
  serveHost?: string;
  /** Progress callback for long steps. */
  progress?: (step: string) => void;
  logger?: Logger;
  /** Verification time for sim PKI validity (unix seconds). Default: now. */
  now?: number;
  /** Accounts to fund: at genesis on the embedded devnet, by transfer from the deployer with --rpc. */
  fund?: Hex[];
  /**
   * Run against an existing EVM JSON-RPC endpoint instead of the embedded devnet. A Geode devnet (`geode dev`)
   * is used with its signed headers; any other network needs `trustedRpc` (INSECURE: the enclave then believes the
   * RPC node's headers). `privateKey` pays for deployment and transactions.
   */
  rpc?: { url: string; trustedRpc?: boolean; privateKey: Hex; beacon?: { url: string; checkpoint: Hex } };
  /**
   * The enclave's TEE (default 'sgx-sim', the simulator). A hardware TEE is refused before anything starts while no
   * configured on-chain verifier checks its evidence (requireVerifierFor; docs/attestation.md#on-chain-verifiers).
   */
  tee?: DeployTee;
  /**
   * The embedded devnet's light client (docs/protocol.md#devnet-beacon): 'devnet' (default) = headers signed by the
   * devnet's block signer; 'ethereum' = Ethereum's sync-committee light client over the devnet's Beacon API (a
   * generated committee: the code path of a mainnet deployment, with no security of its own). Not with `rpc`.
   */
  lightClient?: 'devnet' | 'ethereum';
  /** With lightClient 'ethereum': the beacon chain's shape and its slot clock (`slotMs`, default 1000: a block per slot). */
  beacon?: DevnetBeaconOptions & { slotMs?: number };
  /** Host stage overlap (HostOptions.pipelined, default true). */
  pipelined?: boolean;
}

/** `--light-client` values of `geode dev` / `geode demo`. */
export const LIGHT_CLIENTS = ['devnet', 'ethereum'] as const;

/** Parse `--light-client` (devnet, ethereum). Throws CliArgumentError. */
export function lightClientOption(v: string | undefined): 'devnet' | 'ethereum' {
  const lc = v ?? 'devnet';
  if (!(LIGHT_CLIENTS as readonly string[]).includes(lc)) throw new CliArgumentError(`--light-client must be one of ${LIGHT_CLIENTS.join(', ')}, got "${v}"`);
  return lc as 'devnet' | 'ethereum';
}

/** `--tee` values of the CLI and the evidence type each means on-chain. */
export const CLI_TEES: Readonly<Record<string, DeployTee>> = { sim: 'sgx-sim', sgx: 'sgx', tdx: 'tdx', 'sev-snp': 'sev-snp' };

/** Parse `--tee` (sim, sgx, tdx, sev-snp). Throws CliArgumentError. */
export function teeOption(v: string | undefined): DeployTee {
  const t = CLI_TEES[v ?? 'sim'];
  if (!t) throw new CliArgumentError(`--tee must be one of ${Object.keys(CLI_TEES).join(', ')}, got "${v}"`);
  return t;
}

/**
 * Start everything the main job needs, in-process except the enclave (its own OS process): the chain (the embedded
 * EDR devnet, or `rpc`), then the Quartz-style steps of packages/cli/src/steps.ts in sequence, the same functions
 * `geode deploy`, `geode enclave start` and `geode handshake` run (docs/cli.md#steps): prepareApp + deployPrepared
 * (contracts, sim PKI, SimQuoteVerifier + the app's contract, deployment.json in the data dir), startEnclave (the
 * enclave process, the host and the control endpoint `geode status` asks), and its handshake.
 */
export async function startDevStack(o: DevStackOptions = {}): Promise<DevStack> {
  requireVerifierFor(o.tee ?? 'sgx-sim');
  const app = o.app ?? defaultApp();
  const progress = o.progress ?? (() => undefined);
  const log = o.logger ?? pino({ level: 'warn' });
  const prepared = await prepareApp(app, progress);
  const tempDir = o.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'geode-'));
  const dataDir = o.dataDir ?? tempDir!;
  ensurePrivateDir(dataDir); // holds the sim PKI's attestation key, the operator key and the enclave's sealed files

  let devnet: Devnet | undefined;
  let beacon: DevnetBeacon | undefined;
  let chain: ChainAccess;
  let anchor: DeploymentAnchor;
  let deployerKey: Hex;
  let operatorKey: Hex | undefined;
  let faucetKey: Hex;
  let server: DevnetServer | undefined;
  let blockSignerKey: Hex | undefined;
  const accounts = devAccounts(8);
  if (o.rpc && o.lightClient === 'ethereum') throw new CliArgumentError('--light-client ethereum runs the embedded devnet\'s beacon chain; with --rpc pass --beacon <url> --checkpoint <root> instead');
  if (o.rpc) {
    progress(`connecting to ${o.rpc.url}`);
    // Ethereum's sync-committee light client (docs/protocol.md#ethereum-light-client): on mainnet (chain 1) the pinned
    // mainnet anchor from the checkpoint; on another chain (e.g. a `geode dev --light-client ethereum` devnet) the
    // genesis validators root, fork schedule and preset its Beacon API describes (beaconNetworkAnchor).
    let ethereum: EthereumAnchorJson | undefined;
    let chainId = 0n;
    if (o.rpc.beacon) {
      const probe = await chainAccessFromUrl(o.rpc.url);
      chainId = probe.chainId;
      await probe.close();
      ethereum = chainId === 1n
        ? (await import('@geode/enclave/ethereum')).mainnetAnchor(o.rpc.beacon.checkpoint) as EthereumAnchorJson
        : await beaconNetworkAnchor(o.rpc.beacon.url, o.rpc.beacon.checkpoint, `chain-${chainId}`);
    }
    chain = await chainAccessFromUrl(o.rpc.url, { trustedRpc: o.rpc.trustedRpc, ethereum: ethereum && { anchor: ethereum, beacon: beaconApi(o.rpc.beacon!.url), pollMs: chainId === 1n ? 12_000 : 1000 } });
    anchor = ethereum
      ? { signer: ETHEREUM_SYNC_COMMITTEE_SIGNER, genesisHash: ethereumAnchorHash(ethereum), ethereum }
      : await rpcAnchor(chain, o.rpc.url, !!o.rpc.trustedRpc);
    deployerKey = o.rpc.privateKey;
    faucetKey = o.rpc.privateKey;
    if (o.fund?.length) {
      progress('funding the identities');
      for (const address of o.fund) await fundFromFaucet(chain, faucetKey, address as Address, parseEther('10'));
    }
  } else {
    progress('devnet');
    const fund = [...accounts.map((a) => a.address), ...(o.fund ?? [])].map((address) => ({ address, balance: parseEther('1000000') }));
    blockSignerKey = generatePrivateKey();
    const slotMs = o.beacon?.slotMs ?? 1000;
    const ethereumLc = o.lightClient === 'ethereum';
    // The beacon chain's finality needs blocks after a request's: the devnet then also mines one block per slot.
    const d = await startDevnet({ fund, blockSignerKey, ...(ethereumLc ? { blockIntervalMs: slotMs } : {}) });
    devnet = d;
    if (ethereumLc) {
      // Loaded on demand: Lodestar and BLS cost every other CLI command nothing.
      beacon = (await import('@geode/devnet/beacon')).devnetBeacon(d, o.beacon);
      // The checkpoint is the beacon block of genesis: the enclave bootstraps from it and follows every period since.
      const ethereum = await beacon.anchor(0n);
      chain = chainAccessFromTransport({ chainId: d.chainId, transport: devnetTransport(d), onNewHead: (cb) => d.onNewHead(cb), ethereum: { anchor: ethereum, beacon, pollMs: slotMs } });
      anchor = { signer: ETHEREUM_SYNC_COMMITTEE_SIGNER, genesisHash: ethereumAnchorHash(ethereum), ethereum };
    } else {
      chain = chainAccessFromTransport({ chainId: d.chainId, transport: devnetTransport(d), onNewHead: (cb) => d.onNewHead(cb) });
      anchor = { signer: d.blockSigner, genesisHash: d.genesisHash };
    }
    server = o.servePort !== undefined ? await serveOrExplain(d, o.servePort, o.serveHost ?? '127.0.0.1', beacon) : undefined;
    deployerKey = accounts[0]!.privateKey;
    // Dev account 1, funded at genesis, is the operator (test/harness/crash.ts restarts hosts with it).
    operatorKey = accounts[1]!.privateKey;
    faucetKey = accounts[2]!.privateKey;
  }

  const now = o.now ?? Math.floor(Date.now() / 1000);
  // The enclave judges a handover peer's evidence at its verified block's timestamp (docs/protocol.md#handover), and
  // the embedded devnet's clock starts at its pinned genesis time: the PKI's windows cover both clocks.
  const pkiNow = devnet ? Math.min(now, Number((await chain.publicClient.getBlock({ blockNumber: 0n })).timestamp)) : now;
  const rpcUrl = o.rpc?.url ?? server?.url ?? '';
  const deployed = await deployPrepared({ prepared, chain, rpcUrl, deployerKey, anchor, trustedRpc: !!o.rpc?.trustedRpc, dataDir, now: pkiNow, operatorKey, recoveryKey: o.recoveryKey, progress });

  progress('enclave and handshake');
  const running = await startEnclave({ dataDir, logger: log, chain, pipelined: o.pipelined });
  try {
    await running.handshake();
  } catch (e) {
    await running.stop();
    throw e;
  }

  return {
    app, devnet, beacon, chain, deployment: deployed.deployment, enclave: running.enclave, host: running.host, pki: deployed.pki, policy: deployed.policy,
    measurement: prepared.measurement, dataDir, server, faucetKey, blockSignerKey, controlUrl: running.url,
    trustedRpc: !!o.rpc?.trustedRpc,
    async stop() {
      await running.stop();
      await server?.close();
      await devnet?.close();
      await chain.close();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

/** CLI options shared by `geode demo` and `geode dev` for running against an existing endpoint. */
export interface RpcCliOptions { rpc?: string; insecureTrustedRpc?: boolean; privateKey?: string; beacon?: string; checkpoint?: string; lightClient?: string }

/** Turn --rpc / --insecure-trusted-rpc / --private-key (or GEODE_PRIVATE_KEY) into DevStackOptions.rpc. Throws CliArgumentError. */
export function rpcOption(o: RpcCliOptions): DevStackOptions['rpc'] {
  if (!o.rpc) {
    if (o.insecureTrustedRpc) throw new CliArgumentError('--insecure-trusted-rpc only applies with --rpc <url>');
    if (o.beacon || o.checkpoint) throw new CliArgumentError('--beacon and --checkpoint only apply with --rpc <url> (an Ethereum execution node)');
    return undefined;
  }
  if (!o.beacon !== !o.checkpoint) throw new CliArgumentError('--beacon <url> and --checkpoint <root> go together (the Ethereum light client needs both)');
  if (o.beacon && o.insecureTrustedRpc) throw new CliArgumentError('--insecure-trusted-rpc is not needed with --beacon/--checkpoint: the enclave verifies the chain itself');
  if (o.beacon && !/^https?:\/\/.+/.test(o.beacon)) throw new CliArgumentError(`--beacon must be an http(s):// Beacon API URL, got "${o.beacon}"`);
  if (o.checkpoint && !/^0x[0-9a-fA-F]{64}$/.test(o.checkpoint)) throw new CliArgumentError('--checkpoint must be a 0x-prefixed 32-byte beacon block root (a recent finalized checkpoint)');
  if (!/^(https?|wss?):\/\/.+/.test(o.rpc)) throw new CliArgumentError(`--rpc must be an http(s):// or ws(s):// URL, got "${o.rpc}"`);
  const key = o.privateKey ?? process.env.GEODE_PRIVATE_KEY;
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) throw new CliArgumentError('--rpc needs a funded account: pass --private-key 0x<64 hex> or set GEODE_PRIVATE_KEY');
  return { url: o.rpc, trustedRpc: !!o.insecureTrustedRpc, privateKey: key as Hex, ...(o.beacon ? { beacon: { url: o.beacon, checkpoint: o.checkpoint!.toLowerCase() as Hex } } : {}) };
}

/** Add the --rpc options to a command. */
export function withRpcOptions<T extends { option(flags: string, desc: string): T }>(c: T): T {
  return c
    .option('--rpc <url>', 'run against this EVM JSON-RPC endpoint instead of the embedded devnet')
    .option('--insecure-trusted-rpc', 'INSECURE, testing only: let the enclave believe the RPC node (networks with no Geode light client)')
    .option('--private-key <hex>', 'funded account that deploys and pays with --rpc (or GEODE_PRIVATE_KEY)')
    .option('--beacon <url>', 'Ethereum: Beacon API node for the enclave\'s sync-committee light client (with --checkpoint; mainnet, or a `geode dev --light-client ethereum` devnet)')
    .option('--checkpoint <root>', 'Ethereum: weak-subjectivity checkpoint (recent finalized beacon block root) the enclave bootstraps from')
    .option('--light-client <kind>', 'embedded devnet: devnet (default: headers signed by its block signer) or ethereum (Ethereum\'s sync-committee light client over the devnet\'s Beacon API, with a generated committee: no security, the code path of mainnet)');
}

/**
 * serveDevnet on host:port; a listen failure (port taken, privileged, foreign address) closes the devnet and
 * throws CliPortUnavailableError (code, remedy, docs link) instead of the raw socket error.
 */
async function serveOrExplain(d: Devnet, port: number, host: string, beacon?: DevnetBeacon): Promise<DevnetServer> {
  try {
    return await serveDevnet(d, { port, host, beacon });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((e as NodeJS.ErrnoException).syscall !== 'listen' || !code) throw e;
    await d.close();
    throw new CliPortUnavailableError(host, port, code, e);
  }
}
