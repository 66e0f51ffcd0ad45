import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, parseEther, toBytes, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import pino, { type Logger } from 'pino';
import { canonicalJson, ETHEREUM_SYNC_COMMITTEE_SIGNER, ethereumAnchorHash, TRUSTED_RPC_SIGNER, type EthereumAnchorJson } from '@geode/protocol';
import { ensurePrivateDir, writeFileAtomic } from '@geode/protocol/files';
import { devAccounts, devnetTransport, serveDevnet, startDevnet, type Devnet, type DevnetBeacon, type DevnetBeaconOptions, type DevnetServer } from '@geode/devnet';
import { beaconApi, beaconNetworkAnchor, chainAccessFromTransport, chainAccessFromUrl, deployGeodeApp, devnetAnchor, EnclaveProcess, Host, requireVerifierFor, setRecoveryKey, type ChainAccess, type DeployTee, type Deployment } from '@geode/host';
import { fundFromFaucet } from './connect.ts';
import { CliAppError, CliArgumentError, CliPortUnavailableError } from './errors.ts';
import { REPO_ROOT, appContract, loadApp, type GeodeApp } from './apps.ts';
import { createSimulationPki, type SimulationPki } from '@geode/attestation/sim';
import { measureEnclave, buildEnclave } from '@geode/enclave/build';
import { buildContracts } from '@geode/contracts/build';
import { parsePolicy, type Policy } from '@geode/attestation';

export { REPO_ROOT };

/**
 * The app `geode dev`/`geode demo` run without --app: the repository's package.json `"geode": { "defaultApp": dir }`
 * (a repository setting, so no framework file names an app). Throws CliAppError when it is not set.
 */
export function defaultApp(): GeodeApp {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { geode?: { defaultApp?: string } };
  const dir = pkg.geode?.defaultApp;
  if (!dir) throw new CliAppError('no --app given and the repository\'s package.json sets no "geode.defaultApp"');
  return loadApp(join(REPO_ROOT, dir), REPO_ROOT);
}

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

/** Newest modification time (ms) of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The measurement of `app`'s enclave bundle (app.bundle), rebuilding it first when it is missing or older than any
 * source it is built from (the app's src/ and the trusted framework packages), so a measured enclave is always the
 * current code. Returns mr_enclave (0x hex). Throws esbuild's error when the entry does not build.
 */
export async function ensureEnclaveBundle(app: GeodeApp = defaultApp()): Promise<Hex> {
  const sources = [join(app.dir, 'src'), ...['packages/enclave/src', 'packages/protocol/src', 'packages/attestation/src'].map((d) => join(REPO_ROOT, d))];
  const stale = !existsSync(app.bundle) || statSync(app.bundle).mtimeMs < Math.max(...sources.map(newestMtime));
  return stale ? (await buildEnclave({ entry: app.enclaveEntry, outfile: app.bundle })).measurement : measureEnclave(app.bundle);
}

/**
 * Compile `app`'s contracts (and the framework's) when their generated module is missing or stale
 * (packages/contracts/src/build.ts skips whatever is current), so an app made by `geode init` runs without a
 * separate `npm run build`. Throws ContractsCompileError on a Solidity error.
 */
export async function ensureAppContracts(app: GeodeApp): Promise<void> {
  await buildContracts({ log: () => undefined, apps: [app.dir] });
}

/** The default client policy for the simulated TEE: this exact measurement, UpToDate TCB, simulation allowed explicitly. */
export function simPolicy(measurement: Hex): Policy {
  return parsePolicy({ teeTypes: ['sgx'], acceptedStatuses: ['UpToDate'], allowSimulation: true, sgx: { mrEnclave: [measurement.slice(2)] } });
}

/**
 * Start everything the main job needs, in-process except the enclave (its own OS process): the EDR devnet,
 * a simulation PKI, the contracts (SimQuoteVerifier + the app's contract), the enclave and the host, handshake done.
 */
export async function startDevStack(o: DevStackOptions = {}): Promise<DevStack> {
  requireVerifierFor(o.tee ?? 'sgx-sim');
  const app = o.app ?? defaultApp();
  const progress = o.progress ?? (() => undefined);
  const log = o.logger ?? pino({ level: 'warn' });
  progress(`${app.name}: contracts and enclave bundle`);
  await ensureAppContracts(app);
  const appArtifact = await appContract(app);
  const measurement = await ensureEnclaveBundle(app);
  const tempDir = o.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'geode-'));
  const dataDir = o.dataDir ?? tempDir!;
  ensurePrivateDir(dataDir); // holds the sim PKI's attestation key and the enclave's sealed files
  ensurePrivateDir(join(dataDir, 'enclave'));


  let devnet: Devnet | undefined;
  let beacon: DevnetBeacon | undefined;
  let chain: ChainAccess;
  let anchor: { signer: Address; genesisHash: Hex; ethereum?: EthereumAnchorJson };
  let deployer: PrivateKeyAccount;
  let operator: PrivateKeyAccount;
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
    const published = ethereum ? null : await devnetAnchor(chain);
    if (ethereum) {
      anchor = { signer: ETHEREUM_SYNC_COMMITTEE_SIGNER, genesisHash: ethereumAnchorHash(ethereum), ethereum };
    } else if (o.rpc.trustedRpc) {
      const genesis = await chain.publicClient.getBlock({ blockNumber: 0n });
      anchor = { signer: TRUSTED_RPC_SIGNER, genesisHash: genesis.hash };
    } else if (published) {
      anchor = { signer: published.blockSigner, genesisHash: published.genesisHash };
    } else {
      throw new CliArgumentError(`${o.rpc.url} is not a Geode devnet and no light client exists for it yet; pass --insecure-trusted-rpc to let the enclave trust this RPC node (testing only)`);
    }
    deployer = privateKeyToAccount(o.rpc.privateKey);
    const operatorKey = generatePrivateKey();
    operator = privateKeyToAccount(operatorKey);
    faucetKey = o.rpc.privateKey;
    progress('funding the operator and identities');
    for (const address of [operator.address, ...(o.fund ?? [])]) await fundFromFaucet(chain, faucetKey, address as Address, parseEther('10'));
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
    deployer = privateKeyToAccount(accounts[0]!.privateKey);
    operator = privateKeyToAccount(accounts[1]!.privateKey);
    faucetKey = accounts[2]!.privateKey;
  }

  progress('simulation PKI');
  const now = o.now ?? Math.floor(Date.now() / 1000);
  // The enclave judges a handover peer's evidence at its verified block's timestamp (docs/protocol.md#handover), and
  // the embedded devnet's clock starts at its pinned genesis time: the PKI's windows cover both clocks.
  const pkiStart = devnet ? Math.min(now, Number((await chain.publicClient.getBlock({ blockNumber: 0n })).timestamp)) : now;
  const pki = await createSimulationPki({ now: pkiStart - 86_400, validityDays: 3650 });
  const pkiFile = join(dataDir, 'sim-pki.json');
  writeFileAtomic(pkiFile, JSON.stringify(pki)); // holds the simulated attestation key

  progress('contracts');
  const policy = simPolicy(measurement);
  const deployment = await deployGeodeApp({
    chain,
    deployer,
    app: appArtifact,
    measurements: [measurement],
    simAttestationKey: pki.attestationPublicKey,
    anchor,
    policyHash: keccak256(toBytes(canonicalJson(policy))),
    // The host's operator is the admin: it opens the first session; restarts re-activate the same keys (anyone may).
    admin: operator.address,
  });

  if (o.recoveryKey) await setRecoveryKey(chain, operator, deployment.contract, o.recoveryKey);

  progress('enclave and handshake');
  const enclave = new EnclaveProcess({ bundle: app.bundle, dataDir: join(dataDir, 'enclave'), simPki: pkiFile, onLog: (l) => log.debug({ enclave: l }) });
  enclave.start();
  const host = new Host({ chain, operator, contract: deployment.contract, config: deployment.config, enclave, fromBlock: deployment.fromBlock, logger: log, ...(o.pipelined === undefined ? {} : { pipelined: o.pipelined }) });
  await host.ensureSession();
  await host.start();

  return {
    app, devnet, beacon, chain, deployment, enclave, host, pki, policy, measurement, dataDir, server, faucetKey, blockSignerKey,
    trustedRpc: !!o.rpc?.trustedRpc,
    async stop() {
      await host.stop();
      await enclave.stop();
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
