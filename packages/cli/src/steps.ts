/**
 * The Quartz-style steps one by one against any EVM endpoint (docs/cli.md#steps), each a function the commands
 * call and tests drive:
 *
 * 1. deployApp: the app's contracts and enclave bundle are built, a simulation PKI is made, the verifier and the
 *    app contract are deployed with --private-key, and `<data-dir>/deployment.json` is written (everything a client
 *    and `geode enclave start` need), with the operator key (the deployment's admin) in `operator-key.json`;
 * 2. startEnclave: the enclave process (sealed files in `<data-dir>/enclave`) and the host for that deployment, and
 *    a loopback control endpoint (`<data-dir>/control.json`) that `geode handshake` and `geode status` talk to;
 * 3. handshake (through the control endpoint): the session handshake, then the host relays batches;
 * 4. status: the active session, its attested measurement and verdict, committedSeq against requestCount, and the
 *    enclave and host health.
 *
 * The data dir holds keys (operator key, sim attestation key, sealed enclave files): created 0700, files 0600.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { bytesToHex, hexToBytes, keccak256, parseEther, toBytes, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { bytes32, canonicalJson, configJson, defineError, GeodeError, hex, TRUSTED_RPC_SIGNER, uint, type EthereumAnchorJson } from '@geode/protocol';
import { parseCollateral, parsePolicy, type Policy } from '@geode/attestation';
import { ensurePrivateDir, writeFileAtomic } from '@geode/protocol/files';
import {
  chainAccessFromUrl, deliverRestore, deployGeodeApp, devnetAnchor, EnclaveProcess, exportBackup, Host, requestHandover, setRecoveryKey, type ChainAccess, type Deployment,
} from '@geode/host';
import { verifyActiveSession } from '@geode/client';
import { GeodeCoreAbi } from '@geode/contracts';
import { createSimulationPki, type SimulationPki } from '@geode/attestation/sim';
import { REPO_ROOT, appContract, defaultApp, loadApp, trustedSourceDirs, type GeodeApp } from './apps.ts';
import { buildEnclave, measureEnclave } from '@geode/enclave/build';
import { buildContracts } from '@geode/contracts/build';
import { fundFromFaucet } from './connect.ts';
import { CliArgumentError } from './errors.ts';

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
  const sources = trustedSourceDirs(app);
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

/** `<data-dir>/deployment.json`: one deployment of one app, as `geode deploy` wrote it. */
export const deploymentFileSchema = z.object({
  /** Absolute path of the app folder. */
  app: z.string(),
  rpcUrl: z.string(),
  trustedRpc: z.boolean(),
  chainId: z.string(),
  contract: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  verifier: z.string(),
  /** The deployment config (ConfigJson) the contract was instantiated with; the enclave attests to its hash. */
  config: configJson,
  configHash: z.string(),
  fromBlock: z.string(),
  /** The accepted measurement (mr_enclave, 0x hex) of the app's sim bundle. */
  measurement: z.string(),
  /** The client policy clients verify the session against. */
  policy: z.unknown(),
  simRootCaDer: z.string(),
  collateral: z.record(z.string(), z.string()),
  /** The operator (admin) address; its key is in operator-key.json. */
  operator: z.string(),
});
export type DeploymentFile = z.infer<typeof deploymentFileSchema>;

/** The step's data dir is missing a file an earlier step writes (e.g. no deployment.json before `geode deploy`). */
export class CliStepError extends defineError({
  codes: ['CLI_STEP_MISSING'],
  docsPath: 'cli.md#steps',
  build: (message: string) => ({ code: 'CLI_STEP_MISSING', message: `${message}. Run the steps in order: geode deploy, geode enclave start, geode handshake (docs/cli.md#steps).` }),
}) {}

function readJson<T>(file: string, schema: z.ZodType<T>, what: string): T {
  if (!existsSync(file)) throw new CliStepError(`${file} does not exist (${what})`);
  const r = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!r.success) throw new CliStepError(`${file} is not a valid ${what}`);
  return r.data;
}

/** Read `<dataDir>/deployment.json`. Throws CliStepError. */
export function readDeployment(dataDir: string): DeploymentFile {
  return readJson(join(dataDir, 'deployment.json'), deploymentFileSchema, 'deployment file written by `geode deploy`');
}

/** The light-client anchor a deployment is instantiated with (GeodeCore's lcSigner, lcGenesisHash, Ethereum anchor). */
export interface DeploymentAnchor { signer: Address; genesisHash: Hex; ethereum?: EthereumAnchorJson }

/**
 * The anchor for a chain reached over JSON-RPC without an Ethereum light client: with `trustedRpc` (INSECURE) the
 * trusted-RPC signer and the RPC's genesis; else the anchor a Geode devnet publishes (geode_devnetInfo). Throws
 * CliArgumentError for any other endpoint (no light client exists for it).
 */
export async function rpcAnchor(chain: ChainAccess, url: string, trustedRpc: boolean): Promise<DeploymentAnchor> {
  if (trustedRpc) return { signer: TRUSTED_RPC_SIGNER, genesisHash: (await chain.publicClient.getBlock({ blockNumber: 0n })).hash };
  const published = await devnetAnchor(chain);
  if (published) return { signer: published.blockSigner, genesisHash: published.genesisHash };
  throw new CliArgumentError(`${url} is not a Geode devnet and no light client exists for it yet; pass --insecure-trusted-rpc to let the enclave trust this RPC node (testing only)`);
}

/** An app ready to deploy: its contract compiled and its enclave bundle current (prepareApp). */
export interface PreparedApp {
  app: GeodeApp;
  artifact: Awaited<ReturnType<typeof appContract>>;
  /** mr_enclave of the app's sim bundle (0x hex). */
  measurement: Hex;
}

/**
 * Step 1, first half: compile the app's contracts and (re)build its enclave bundle when stale. Throws
 * ContractsCompileError, esbuild's error, or CliAppError for a broken app. Touches no chain.
 */
export async function prepareApp(app: GeodeApp, progress: (step: string) => void = () => undefined): Promise<PreparedApp> {
  progress(`${app.name}: contracts and enclave bundle`);
  await ensureAppContracts(app);
  const artifact = await appContract(app);
  return { app, artifact, measurement: await ensureEnclaveBundle(app) };
}

/** Options of deployPrepared: step 1 on a chain the caller holds. */
export interface DeployPreparedOptions {
  prepared: PreparedApp;
  chain: ChainAccess;
  /** Recorded in deployment.json for `geode enclave start` and clients ('' when the chain is in-process only). */
  rpcUrl: string;
  /** Key of the funded account that pays for the deployment (and funds a generated operator). */
  deployerKey: Hex;
  anchor: DeploymentAnchor;
  /** INSECURE: the enclave believes the RPC node's headers. Recorded in deployment.json. */
  trustedRpc?: boolean;
  dataDir: string;
  /** The sim PKI's validity starts a day before this (unix seconds). Default now. */
  now?: number;
  /** The operator (the deployment's admin, which pays for sessions and commitments); default a new key funded with 10 ETH. */
  operatorKey?: Hex;
  /** The deployment's recovery key (X25519 public key, 0x bytes32; docs/protocol.md#backup), set by the admin before the first session. Default: none (no backup). */
  recoveryKey?: Hex;
  progress?: (step: string) => void;
}

/** What step 1 leaves: deployment.json's content and the live values a caller in the same process goes on with. */
export interface DeployedApp {
  file: DeploymentFile;
  deployment: Deployment;
  pki: SimulationPki;
  policy: Policy;
}

/**
 * Step 1, second half: make the simulation PKI, deploy the sim verifier and the app contract, and write
 * `<dataDir>/sim-pki.json`, `operator-key.json` and `deployment.json` (0600 in a 0700 dir). Throws ChainError when a
 * deployment reverts.
 */
export async function deployPrepared(o: DeployPreparedOptions): Promise<DeployedApp> {
  const progress = o.progress ?? (() => undefined);
  const { app, artifact, measurement } = o.prepared;
  ensurePrivateDir(o.dataDir);
  progress('simulation PKI');
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const pki = await createSimulationPki({ now: now - 86_400, validityDays: 3650 });
  writeFileAtomic(join(o.dataDir, 'sim-pki.json'), JSON.stringify(pki)); // holds the simulated attestation key
  const operatorKey = o.operatorKey ?? generatePrivateKey();
  const operator = privateKeyToAccount(operatorKey);
  writeFileAtomic(join(o.dataDir, 'operator-key.json'), JSON.stringify({ privateKey: operatorKey }));
  if (!o.operatorKey) {
    progress('funding the operator');
    await fundFromFaucet(o.chain, o.deployerKey, operator.address, parseEther('10'));
  }
  progress('contracts');
  const policy = simPolicy(measurement);
  const deployment = await deployGeodeApp({
    chain: o.chain, deployer: privateKeyToAccount(o.deployerKey), app: artifact, measurements: [measurement],
    simAttestationKey: pki.attestationPublicKey, anchor: o.anchor, policyHash: keccak256(toBytes(canonicalJson(policy))),
    // The operator is the admin: it opens the first session; restarts re-activate the same keys (anyone may).
    admin: operator.address,
  });
  if (o.recoveryKey) {
    progress('recovery key');
    await setRecoveryKey(o.chain, operator, deployment.contract, o.recoveryKey);
  }
  const file: DeploymentFile = {
    app: app.dir, rpcUrl: o.rpcUrl, trustedRpc: !!o.trustedRpc, chainId: o.chain.chainId.toString(), contract: deployment.contract, verifier: deployment.verifier,
    config: deployment.config, configHash: deployment.configHash, fromBlock: deployment.fromBlock.toString(), measurement, policy,
    simRootCaDer: bytesToHex(pki.rootCaDer), collateral: { ...pki.collateral() }, operator: operator.address,
  };
  writeFileAtomic(join(o.dataDir, 'deployment.json'), JSON.stringify(file, null, 2));
  return { file, deployment, pki, policy };
}

/** Options of deployApp. */
export interface DeployAppOptions {
  app: GeodeApp;
  rpcUrl: string;
  /** Key of a funded account: pays for the deployment and funds the operator. */
  privateKey: Hex;
  /** INSECURE: the enclave believes the RPC node's headers (networks with no Geode light client). */
  trustedRpc?: boolean;
  dataDir: string;
  /** Verification time for the sim PKI (unix seconds). Default now. */
  now?: number;
  /** The deployment's recovery key (X25519 public key, 0x bytes32; docs/protocol.md#backup). Default: none (no backup). */
  recoveryKey?: Hex;
  progress?: (step: string) => void;
}

/**
 * Step 1 (`geode deploy`): build, deploy and write `<dataDir>/deployment.json`, `operator-key.json`, `sim-pki.json`.
 * Throws CliArgumentError when the endpoint is neither a Geode devnet nor allowed with trustedRpc, ChainError when a
 * deployment reverts, CliAppError for a broken app.
 */
export async function deployApp(o: DeployAppOptions): Promise<DeploymentFile> {
  const progress = o.progress ?? (() => undefined);
  const prepared = await prepareApp(o.app, progress);
  ensurePrivateDir(o.dataDir);
  progress(`connecting to ${o.rpcUrl}`);
  const chain = await chainAccessFromUrl(o.rpcUrl, { trustedRpc: o.trustedRpc });
  try {
    const anchor = await rpcAnchor(chain, o.rpcUrl, !!o.trustedRpc);
    return (await deployPrepared({ prepared, chain, rpcUrl: o.rpcUrl, deployerKey: o.privateKey, anchor, trustedRpc: o.trustedRpc, dataDir: o.dataDir, now: o.now, recoveryKey: o.recoveryKey, progress })).file;
  } finally {
    await chain.close();
  }
}

/** `<data-dir>/control.json`: where a running `geode enclave start` listens (loopback only). */
const controlSchema = z.object({ pid: z.number(), url: z.string().url() });

/** A running step 2: enclave process, host and control endpoint. */
export interface RunningEnclave {
  enclave: EnclaveProcess;
  host: Host;
  chain: ChainAccess;
  /** The control endpoint's base URL (http://127.0.0.1:<port>). */
  url: string;
  /**
   * Step 3 in this process: the session handshake (host.ensureSession), then the host relays batches. What the
   * control endpoint's `POST /handshake` runs. Throws the handshake's GeodeError (also reported by `GET /health`).
   */
  handshake(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of startEnclave. */
export interface StartEnclaveOptions {
  dataDir: string;
  logger?: Logger;
  /** The chain to relay on (e.g. the dev stack's in-process devnet); default: connect to deployment.json's rpcUrl. Not closed by stop(). */
  chain?: ChainAccess;
  /** Host stage overlap (HostOptions.pipelined; default the host's). */
  pipelined?: boolean;
}

/**
 * Step 2 (`geode enclave start`): start the enclave process and a host for the deployment in `dataDir`, and serve
 * the control endpoint on 127.0.0.1 (any free port, recorded in control.json): `POST /handshake` runs the session
 * handshake and starts relaying; `GET /health` reports the enclave's and the host's state. Throws CliStepError when
 * `geode deploy` has not run for this data dir.
 */
export async function startEnclave(o: StartEnclaveOptions): Promise<RunningEnclave> {
  const d = readDeployment(o.dataDir);
  const { privateKey } = readJson(join(o.dataDir, 'operator-key.json'), z.object({ privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/) }), 'operator key written by `geode deploy`');
  const log = o.logger ?? pino({ level: 'warn' });
  const { bundle } = loadApp(d.app, REPO_ROOT);
  if (!existsSync(bundle)) throw new CliStepError(`the enclave bundle ${bundle} is missing (geode deploy builds it)`);
  ensurePrivateDir(join(o.dataDir, 'enclave'));
  const chain = o.chain ?? await chainAccessFromUrl(d.rpcUrl, { trustedRpc: d.trustedRpc });
  const enclave = new EnclaveProcess({ bundle, dataDir: join(o.dataDir, 'enclave'), simPki: join(o.dataDir, 'sim-pki.json'), onLog: (l) => log.debug({ enclave: l }) });
  enclave.start();
  const hostOf = (takeover?: { standbyMs: number }) => new Host({ chain, operator: privateKeyToAccount(privateKey as Hex), contract: d.contract as Address, config: d.config, enclave, fromBlock: BigInt(d.fromBlock), logger: log, ...(o.pipelined === undefined ? {} : { pipelined: o.pipelined }), ...(takeover ? { takeover } : {}) });
  let host = hostOf();
  const refused = (reply: (status: number, body: unknown) => void, fallback: string) => (e: unknown) => {
    lastError = e instanceof Error ? e.message : String(e);
    reply(500, { ok: false, error: { code: (e as { code?: string }).code ?? fallback, message: lastError } });
  };
  let relaying = false;
  let lastError: string | undefined;
  const handshakeHere = async (): Promise<void> => {
    try {
      await host.ensureSession();
      await host.start();
      relaying = true;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      throw e;
    }
  };
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (req.method === 'POST' && req.url === '/handshake') {
      handshakeHere().then(() => reply(200, { ok: true }), (e: unknown) => {
        reply(500, { ok: false, error: { code: (e as { code?: string }).code ?? 'CLI_HANDSHAKE', message: e instanceof Error ? e.message : String(e) } });
      });
    } else if (req.method === 'POST' && req.url === '/backup') {
      // docs/protocol.md#backup: the enclave seals its keys to the proven recovery key; the file is ciphertext.
      exportBackup(chain, d.contract as Address, enclave).then((backup) => reply(200, { ok: true, backup }), refused(reply, 'CLI_BACKUP'));
    } else if (req.method === 'POST' && req.url === '/handover-request') {
      const payer = privateKeyToAccount(privateKey as Hex);
      enclave.call('init', { config: d.config })
        .then(() => requestHandover({ chain, payer, contract: d.contract as Address, trust: { collateral: d.collateral, policy: d.policy } }, enclave))
        .then((r) => reply(200, { ok: true, requestId: r.requestId.toString() }), refused(reply, 'CLI_RESTORE'));
    } else if (req.method === 'POST' && req.url === '/restore') {
      // The restored instance may hold an older state copy: its host follows the committed batches, then commits.
      readBody(req).then(async (body) => {
        const m = restoreBody.parse(JSON.parse(body));
        const r = await deliverRestore(chain, d.contract as Address, enclave, { requestId: m.requestId, enc: m.enc as Hex, ciphertext: m.ciphertext as Hex, exporterMeasurement: m.exporterMeasurement as Hex });
        await host.stop();
        host = hostOf({ standbyMs: 0 });
        await host.start();
        relaying = true;
        reply(200, { ok: true, ...r });
      }).catch(refused(reply, 'CLI_RESTORE'));
    } else if (req.method === 'GET' && req.url === '/health') {
      reply(200, { enclave: { running: enclave.running, pid: enclave.pid ?? null }, host: { relaying, committedSeq: host.committedSeq.toString(), ...(lastError ? { lastError } : {}) } });
    } else {
      reply(404, { ok: false });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  writeFileAtomic(join(o.dataDir, 'control.json'), JSON.stringify({ pid: process.pid, url }));
  return {
    enclave, chain, url,
    get host() { return host; },
    handshake: handshakeHere,
    async stop() {
      server.closeAllConnections(); // a client's keep-alive socket must not hold the stop up
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await host.stop();
      await enclave.stop();
      if (!o.chain) await chain.close();
    },
  };
}

/** The body of `POST /restore`: a restore message (packages/host RestoreMessage). */
const restoreBody = z.object({ requestId: uint, enc: bytes32, ciphertext: hex, exporterMeasurement: bytes32 });

/** A request body as UTF-8, at most 64 KiB (a restore message is under 10 KiB). */
function readBody(req: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; if (body.length > 65_536) { reject(new CliArgumentError('request body over 64 KiB')); req.destroy(); } });
    req.once('end', () => resolve(body));
    req.once('error', reject);
  });
}

/** The control endpoint of the `geode enclave start` for `dataDir`. Throws CliStepError when none is recorded. */
export function controlUrl(dataDir: string): string {
  return readJson(join(dataDir, 'control.json'), controlSchema, 'control file written by `geode enclave start`').url;
}

/** Step 3 (`geode handshake`): ask the running enclave host to run the session handshake. Throws GeodeError on refusal. */
export async function handshake(dataDir: string): Promise<{ sessionId: string }> {
  const res = await fetch(`${controlUrl(dataDir)}/handshake`, { method: 'POST' }).catch(() => { throw new CliStepError(`no \`geode enclave start\` answers for ${dataDir}`); });
  const body = (await res.json()) as { ok: boolean; error?: { code: string; message: string } };
  if (!body.ok) throw new GeodeError(body.error?.code ?? 'CLI_HANDSHAKE', `the handshake failed: ${body.error?.message}`, { docsPath: 'cli.md#steps' });
  const d = readDeployment(dataDir);
  const chain = await chainAccessFromUrl(d.rpcUrl, { trustedRpc: d.trustedRpc });
  try {
    const [id] = (await chain.publicClient.readContract({ address: d.contract as Address, abi: GeodeCoreAbi, functionName: 'activeSession' })) as unknown as [bigint];
    return { sessionId: id.toString() };
  } finally {
    await chain.close();
  }
}

/** What `geode status` reports. */
export interface StatusReport {
  ok: boolean;
  contract: string;
  /** The active session, verified (attestation against the deployment's policy), or the reason it is not. */
  session: { id: string; measurement: string; verdict: { teeType: string; status: string }; simulated: boolean; trustedRpc: boolean } | { error: { code: string; message: string } };
  committedSeq: string;
  requestCount: string;
  /** Requests appended but not yet committed (requestCount - committedSeq). */
  pending: string;
  /** GeodeCore.currentEpoch(): the rotation epoch clients encrypt to and its X25519 key (docs/protocol.md#rotation). */
  epoch: { epoch: string; encPubKey: string };
  enclave: { running: boolean; pid: number | null } | null;
  host: { relaying: boolean; committedSeq: string; lastError?: string } | null;
}

/**
 * Step 4 (`geode status`): read the deployment's state from the chain and the health from the control endpoint
 * (null when no `geode enclave start` answers). `ok` is true when the session verifies, the enclave runs and the
 * host relays. Throws CliStepError without a deployment file.
 */
export async function status(conn: { rpcUrl: string; trustedRpc?: boolean; contract: string; collateral: Record<string, string>; simRootCaDer: string; policy: unknown }, dataDir?: string): Promise<StatusReport> {
  const chain = await chainAccessFromUrl(conn.rpcUrl, { trustedRpc: conn.trustedRpc });
  try {
    const read = (functionName: 'committedSeq' | 'requestCount') => chain.publicClient.readContract({ address: conn.contract as Address, abi: GeodeCoreAbi, functionName }) as Promise<bigint>;
    const [committedSeq, requestCount] = [await read('committedSeq'), await read('requestCount')];
    const [epochNumber, epochKey] = await chain.publicClient.readContract({ address: conn.contract as Address, abi: GeodeCoreAbi, functionName: 'currentEpoch' });
    let session: StatusReport['session'];
    try {
      const s = await verifyActiveSession({
        publicClient: chain.publicClient, chainId: chain.chainId, contract: conn.contract as Address, collateral: parseCollateral(conn.collateral),
        rootCaDer: hexToBytes(conn.simRootCaDer as Hex), policy: parsePolicy(conn.policy), now: Math.floor(Date.now() / 1000), allowTrustedRpc: conn.trustedRpc,
      });
      session = { id: s.sessionId.toString(), measurement: s.measurement, verdict: { teeType: s.verdict.teeType, status: s.verdict.status }, simulated: s.simulated, trustedRpc: s.trustedRpc };
    } catch (e) {
      session = { error: { code: (e as { code?: string }).code ?? 'UNKNOWN', message: e instanceof Error ? e.message : String(e) } };
    }
    let health: { enclave: StatusReport['enclave']; host: StatusReport['host'] } = { enclave: null, host: null };
    if (dataDir && existsSync(join(dataDir, 'control.json'))) {
      health = await fetch(`${controlUrl(dataDir)}/health`).then((r) => r.json() as Promise<typeof health>, () => health);
    }
    const ok = !('error' in session) && !!health.enclave?.running && !!health.host?.relaying;
    return { ok, contract: conn.contract, session, committedSeq: committedSeq.toString(), requestCount: requestCount.toString(), pending: (requestCount - committedSeq).toString(), epoch: { epoch: epochNumber.toString(), encPubKey: epochKey }, ...health };
  } finally {
    await chain.close();
  }
}
