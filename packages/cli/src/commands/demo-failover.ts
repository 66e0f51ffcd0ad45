/**
 * `geode demo --scenario failover` (issue 10 §3; docs/protocol.md#handover, docs/protocol.md#takeover): keys that
 * outlive an instance, on the embedded devnet.
 *
 * 1. Instance A (the dev stack's enclave process and host) starts and processes round 1.
 * 2. Instance B (own enclave process, own data directory, own host and operator account) joins by key handover from
 *    A (GeodeCore.requestHandover, mutual attestation in the enclaves) and follows A's commitments in standby.
 * 3. Round 2 starts; A is SIGKILLed and its data directory deleted while requests are in flight; the rest of round 2
 *    is sent after; B takes over after its standby time and continues from the committed root.
 * 4. Round 3 on B with an epoch rotation of the request key in the middle of it (the admin's
 *    GeodeCore.requestRotation, docs/protocol.md#rotation): requests sealed to epoch 0 before and after the rotation
 *    request, B commits the rotation batch with the new epoch key (EpochStarted).
 * 5. Instance C joins from B after the rotation by handover and a state snapshot (docs/protocol.md#snapshot: B
 *    exports the committed state, the host moves the file, C adopts it only at the root the chain proves committed),
 *    so it starts at the committed root instead of replaying the history; it follows, and round 4 is processed (by B,
 *    followed by C) with the clients encrypting to epoch 1.
 * 6. Every request's output is checked against a plaintext model of the computations app; every seq must be
 *    committed exactly once. `rotations` counts the EpochStarted events on-chain.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { getAbiItem, keccak256, toBytes, type Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createIdentity, GeodeClient, verifyActiveSession, type Identity, type ReceivedOutput } from '@geode/client';
import { GeodeCoreAbi } from '@geode/contracts';
import { devAccounts } from '@geode/devnet';
import { EnclaveProcess, Host, joinByHandover, runHandover, type HandoverOptions } from '@geode/host';
import { startDevStack, type DevStack } from '../stack.ts';
import type { Reporter } from '../output.ts';
import { appClient, type GeodeApp } from '../apps.ts';
import { CliAppError } from '../errors.ts';

/**
 * The failover scenario drives the repository's default app, the computations app, through three instances. Its client
 * functions are loaded at run time from that app's client module (docs/apps.md#client-module), so the CLI package
 * depends on no app (an app's client code depends on @geode/cli/app-kit).
 */
type Request = { op: 'submit'; computation: string; value: number } | { op: 'result'; computation: string };
type AppOutput =
  | { seq: string; ok: true; op: string; result?: { type: string; value: number; count: number } }
  | { seq: string; ok: false; error: { code: string; message: string } };
interface ComputationsClientApi {
  createComputation(client: GeodeClient, c: { name: string; type: string; participants: Address[]; quorum: number }): Promise<{ seq: bigint }>;
  sendRequest(client: GeodeClient, req: Request): Promise<{ seq: bigint }>;
  decodeAppOutput(o: ReceivedOutput): AppOutput | null;
}
async function computationsClient(app: GeodeApp): Promise<ComputationsClientApi> {
  const mod = (await appClient(app)) as unknown as Partial<ComputationsClientApi>;
  if (typeof mod.createComputation !== 'function' || typeof mod.sendRequest !== 'function' || typeof mod.decodeAppOutput !== 'function') {
    throw new CliAppError(`${app.clientModule}: --scenario failover needs the computations app's client API (createComputation, sendRequest, decodeAppOutput)`);
  }
  return mod as ComputationsClientApi;
}

/** The failover demo's final JSON line. */
export interface FailoverDemoResult {
  ok: boolean;
  instances: number;
  handovers: number;
  rotations: number;
  requests: number;
  lost: number;
  duplicated: number;
  elapsedMs: number;
}

const PARTIES = ['alice', 'bob', 'carol'] as const;
type Party = (typeof PARTIES)[number];
/** A standby instance commits itself once no commitment has landed for this long while requests are pending. */
const STANDBY_MS = 1500;
const COMMITTED = getAbiItem({ abi: GeodeCoreAbi, name: 'BatchCommitted' });
const EPOCH_STARTED = getAbiItem({ abi: GeodeCoreAbi, name: 'EpochStarted' });

/** What the plaintext model expects as the output to a request's sender. */
type Expected = { op: 'submit' } | { op: 'result'; value: number; count: number };

/** One instance: its enclave process and its host. */
interface Instance { name: string; enclave: EnclaveProcess; host: Host; dir: string }

/**
 * Run the failover scenario. Returns the result (ok false when any request's output differs from the model, is
 * missing, or is committed twice). Throws what the stack, hosts and enclaves throw.
 */
export async function runFailoverDemo(rep: Reporter): Promise<FailoverDemoResult> {
  const t0 = performance.now();
  const ids = {} as Record<Party, Identity>;
  for (const n of PARTIES) ids[n] = await createIdentity(n, toBytes(keccak256(toBytes(`geode-demo:${n}`))));
  const stack = await startDevStack({ progress: rep.progress, logger: rep.logger, fund: PARTIES.map((n) => ids[n].address) });
  const { createComputation, decodeAppOutput, sendRequest } = await computationsClient(stack.app);
  const extra: Instance[] = [];
  try {
    const session = await verifyActiveSession({
      publicClient: stack.chain.publicClient, chainId: stack.chain.chainId, contract: stack.deployment.contract,
      collateral: stack.pki.collateral(), rootCaDer: stack.pki.rootCaDer, policy: stack.policy, now: Math.floor(Date.now() / 1000),
    });
    const clients = {} as Record<Party, GeodeClient>;
    for (const n of PARTIES) {
      clients[n] = new GeodeClient({ publicClient: stack.chain.publicClient, wallet: stack.chain.wallet, chainId: stack.chain.chainId, contract: stack.deployment.contract, identity: ids[n], session });
      await clients[n].registerOutputKey();
    }
    const expected = new Map<bigint, { who: Party; want: Expected }>();
    let requests = PARTIES.length;
    const send = async (who: Party, req: Request, want: Expected): Promise<bigint> => {
      const { seq } = await sendRequest(clients[who], req);
      expected.set(seq, { who, want });
      requests++;
      return seq;
    };
    /** A round: a fresh average over the three parties (quorum 3), then alice asks for the result. */
    const round = async (r: number, between?: () => Promise<void>): Promise<bigint> => {
      const name = `failover-${r}`;
      await createComputation(clients.alice, { name, type: 'average', participants: PARTIES.map((p) => ids[p].address) as Address[], quorum: 3 });
      requests++;
      const values = [3 * r + 3, 3 * r + 6, 3 * r + 9];
      await send('alice', { op: 'submit', computation: name, value: values[0]! }, { op: 'submit' });
      await send('bob', { op: 'submit', computation: name, value: values[1]! }, { op: 'submit' });
      await between?.();
      await send('carol', { op: 'submit', computation: name, value: values[2]! }, { op: 'submit' });
      return send('alice', { op: 'result', computation: name }, { op: 'result', value: (values[0]! + values[1]! + values[2]!) / 3, count: 3 });
    };
    const trust: HandoverOptions['trust'] = { collateral: { ...stack.pki.collateral() }, policy: stack.policy };
    const accounts = devAccounts(8);
    /**
     * A new instance (own process and data dir) that joins by handover from `from` and follows in standby; with
     * `snapshot` it also starts from `from`'s committed state (joinByHandover) instead of replaying the history.
     */
    const join_ = async (name: string, from: EnclaveProcess, account: number, snapshot = false): Promise<Instance> => {
      const dir = join(stack.dataDir, `enclave-${name}`);
      const enclave = new EnclaveProcess({ bundle: stack.app.bundle, dataDir: dir, simPki: join(stack.dataDir, 'sim-pki.json'), onLog: (l) => rep.logger.debug({ enclave: name, l }) });
      enclave.start();
      await enclave.call('init', { config: stack.deployment.config });
      const operator = privateKeyToAccount(accounts[account]!.privateKey);
      const o: HandoverOptions = { chain: stack.chain, payer: operator, contract: stack.deployment.contract, trust };
      if (snapshot) {
        const t = await joinByHandover(o, from, enclave);
        rep.say(`instance ${name} joined by handover (request ${t.requestId}): session ${t.received.sessionId}, signer ${t.received.signer}`);
        if (t.snapshot) rep.say(`instance ${name} started from a state snapshot at seq ${t.snapshot.imported.lastSeq} (root ${t.snapshot.imported.root}, ${t.snapshot.exported.bytes} bytes), not from the history`);
      } else {
        const t = await runHandover(o, from, enclave);
        rep.say(`instance ${name} joined by handover (request ${t.requestId}): session ${t.received.sessionId}, signer ${t.received.signer}`);
      }
      const host = new Host({ chain: stack.chain, operator, contract: stack.deployment.contract, config: stack.deployment.config, enclave, fromBlock: stack.deployment.fromBlock, logger: rep.logger, takeover: { standbyMs: STANDBY_MS } });
      await host.start();
      const inst = { name, enclave, host, dir };
      extra.push(inst);
      return inst;
    };

    rep.progress('round 1 on instance A');
    await stack.host.waitCommitted(await round(1));
    rep.progress('instance B joins by handover');
    const b = await join_('B', stack.enclave, 3);
    await caughtUp(stack, b);
    rep.progress('round 2: instance A is killed and its data directory deleted with requests in flight');
    const last2 = await round(2, async () => {
      await stack.host.stop();
      await stack.enclave.kill();
      rmSync(join(stack.dataDir, 'enclave'), { recursive: true, force: true });
      rep.say('instance A: SIGKILL, data directory deleted');
    });
    await b.host.waitCommitted(last2);
    rep.say(`instance B took over: committed up to seq ${last2}`);
    rep.progress('round 3 on B with an epoch rotation of the request key in the middle');
    // The embedded devnet's admin is the stack operator, dev account 1 (it opened the first session).
    const admin = privateKeyToAccount(accounts[1]!.privateKey);
    const onChainAdmin = await stack.chain.publicClient.readContract({ address: stack.deployment.contract, abi: GeodeCoreAbi, functionName: 'admin' });
    if (onChainAdmin.toLowerCase() !== admin.address.toLowerCase()) throw new CliAppError(`--scenario failover rotates as the embedded devnet's admin ${admin.address}, but the contract's admin is ${onChainAdmin}`);
    const last3 = await round(3, async () => {
      const hash = await stack.chain.wallet(admin).writeContract({ address: stack.deployment.contract, abi: GeodeCoreAbi, functionName: 'requestRotation', args: [] });
      await stack.chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
      requests++;
      rep.say('admin: requestRotation (epoch 1); the next requests are still sealed to epoch 0 (grace)');
    });
    await b.host.waitCommitted(last3);
    const [epoch] = await stack.chain.publicClient.readContract({ address: stack.deployment.contract, abi: GeodeCoreAbi, functionName: 'currentEpoch' });
    rep.say(`instance B committed the rotation: the request key is at epoch ${epoch}`);
    rep.progress('instance C joins from B after the rotation, from a state snapshot');
    const c = await join_('C', b.enclave, 4, true);
    await caughtUp(stack, c);
    rep.progress('round 4 on B (requests sealed to the new epoch), followed by C');
    const last4 = await round(4);
    await b.host.waitCommitted(last4);
    await caughtUp(stack, c);

    rep.progress('checking every request against the plaintext model');
    const { lost, duplicated, mismatched } = await check(stack, clients, expected, decodeAppOutput);
    for (const m of mismatched) rep.say(`  mismatch: ${m}`);
    const rotations = (await stack.chain.publicClient.getLogs({ address: stack.deployment.contract, event: EPOCH_STARTED, fromBlock: stack.deployment.fromBlock, toBlock: 'latest' })).length;
    const elapsedMs = Math.round(performance.now() - t0);
    rep.say(`${requests} requests, 3 instances, 2 handovers, ${rotations} rotation(s), lost ${lost}, duplicated ${duplicated}, in ${(elapsedMs / 1000).toFixed(1)} s`);
    return { ok: lost === 0 && duplicated === 0 && mismatched.length === 0 && rotations >= 1, instances: 3, handovers: 2, rotations, requests, lost, duplicated, elapsedMs };
  } finally {
    for (const i of extra) { await i.host.stop(); await i.enclave.stop(); }
    await stack.stop();
  }
}

/** Wait (up to 60 s) until `inst`'s enclave holds the contract's committed state root (it followed every batch). */
async function caughtUp(stack: DevStack, inst: Instance): Promise<void> {
  const pub = stack.chain.publicClient;
  for (let i = 0; i < 600; i++) {
    const root = await pub.readContract({ address: stack.deployment.contract, abi: GeodeCoreAbi, functionName: 'stateRoot' });
    if ((await inst.enclave.call('status')).stateRoot === root) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`instance ${inst.name} did not catch up with the committed state within 60 s`);
}

/**
 * Every committed seq exactly once across BatchCommitted ranges (else lost / duplicated), every modelled request with
 * exactly one output to its sender matching the model.
 */
async function check(stack: DevStack, clients: Record<Party, GeodeClient>, expected: Map<bigint, { who: Party; want: Expected }>, decodeAppOutput: ComputationsClientApi['decodeAppOutput']): Promise<{ lost: number; duplicated: number; mismatched: string[] }> {
  const pub = stack.chain.publicClient;
  const logs = await pub.getLogs({ address: stack.deployment.contract, event: COMMITTED, fromBlock: stack.deployment.fromBlock, toBlock: 'latest' });
  const count = (await pub.readContract({ address: stack.deployment.contract, abi: GeodeCoreAbi, functionName: 'requestCount' })) as bigint;
  const covered = new Map<bigint, number>();
  for (const l of logs) {
    const a = l.args as { from: bigint; to: bigint };
    for (let s = a.from; s <= a.to; s++) covered.set(s, (covered.get(s) ?? 0) + 1);
  }
  let lost = 0;
  let duplicated = 0;
  for (let s = 1n; s <= count; s++) {
    const n = covered.get(s) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated++;
  }
  const mismatched: string[] = [];
  const outputs = new Map<Party, AppOutput[]>();
  for (const n of PARTIES) outputs.set(n, (await clients[n].readOutputs(stack.deployment.fromBlock)).map(decodeAppOutput).filter((x): x is AppOutput => x !== null));
  for (const [seq, { who, want }] of expected) {
    const mine = outputs.get(who)!.filter((o) => o.seq === seq.toString());
    if (mine.length === 0) { lost++; mismatched.push(`seq ${seq}: no output to ${who}`); continue; }
    if (mine.length > 1) { duplicated++; mismatched.push(`seq ${seq}: ${mine.length} outputs to ${who}`); continue; }
    const o = mine[0]!;
    const good = o.ok && (want.op === 'submit'
      ? o.op === 'submit'
      : o.op === 'result' && o.result?.type === 'average' && o.result.value === want.value && o.result.count === want.count);
    if (!good) mismatched.push(`seq ${seq}: ${JSON.stringify(o)} differs from the model ${JSON.stringify(want)}`);
  }
  return { lost, duplicated, mismatched };
}
