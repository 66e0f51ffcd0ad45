/**
 * Shared harness for the crash-safety tests (test/crash/) and the soak run (bench/soak.ts).
 *
 * - `mulberry32(seed)`: a small seeded PRNG so every kill schedule is reproducible (the seed is printed).
 * - `faultyChain(devnet)`: ChainAccess over the in-process devnet whose transport can be switched to
 *   'fail' (every request rejects, as with a cut RPC connection) or 'dead' (every request, including those in
 *   flight, never settles: the host that owns it is gone, as if its process had been SIGKILLed).
 * - `startWorkload(...)`: a dev stack, P funded participants with registered output keys and computations.
 * - `presignSubmits(...)`: participants' encrypted submissions, HPKE-sealed and signed ahead of time.
 * - `sendRaw(...)`: eth_sendRawTransaction straight to the devnet; resolves with the request's seq.
 * - `checkExactlyOnce(...)`: every request 1..N has exactly one committed outcome.
 */
import { custom, decodeEventLog, hexToBytes, encodeFunctionData, getAbiItem, keccak256, parseGwei, toBytes, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import pino, { type Logger } from 'pino';
import { decodeOutputMessage, decodeOutputs, HPKE_INFO, hpkeOpen, outputAad, type BatchOutput, type OutputMessage } from '@geode/protocol';
import { createIdentity, GeodeClient, verifyActiveSession, type Identity, type TrustedSession } from '@geode/client';
import { EventEmitter } from 'node:events';
import assert from 'node:assert/strict';
import { chainAccessFromTransport, Host, type ChainAccess, type EnclaveProcess } from '@geode/host';
import { devAccounts, type Devnet } from '@geode/devnet';
import { GeodeCoreAbi } from '@geode/contracts';
import { ComputationsAbi } from '@geode/app-computations/artifacts';
import { ctypeFromName, encodeRequest, type Request } from '@geode/app-computations';
import { startDevStack, type DevStack } from '../../packages/cli/src/stack.ts';

/** Mulberry32: a 32-bit seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The schedule seed: env `name` (decimal), `random` for a fresh one (exploring locally), else the suite's pinned seed,
 * so a CI run replays the same kill schedule every time (the kill timing itself still races real processes).
 */
export function seedFrom(name: string): number {
  const v = process.env[name];
  if (v === 'random') return (Math.random() * 2 ** 32) >>> 0;
  return v !== undefined && v !== '' ? Number(v) >>> 0 : 20_261_201;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export type ChainMode = 'ok' | 'fail' | 'dead';

/** ChainAccess whose transport can be cut ('fail') or frozen forever ('dead'). */
export interface FaultyChain {
  chain: ChainAccess;
  mode: ChainMode;
  /** Requests refused while in 'fail' mode. */
  failures: number;
}

/** Error thrown by a cut connection (what fetch throws when the RPC node is unreachable). */
class ConnectionCut extends Error {
  constructor() {
    super('fetch failed: connect ECONNREFUSED (connection cut by the test)');
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** Wrap the in-process devnet in a ChainAccess with a fault switch (see FaultyChain). */
export function faultyChain(devnet: Devnet): FaultyChain {
  const f: FaultyChain = { chain: undefined as unknown as ChainAccess, mode: 'ok', failures: 0 };
  const request = async (args: { method: string; params?: unknown }) => {
    if (f.mode === 'dead') return never();
    if (f.mode === 'fail') {
      f.failures++;
      throw new ConnectionCut();
    }
    const r = await devnet.request(args as never);
    // A dead host never sees the answer (a transaction may still have reached the node). The mode may have changed
    // while awaiting, so read it again (through a cast: TypeScript keeps the narrowing from above).
    const now = f.mode as FaultyChain['mode'];
    if (now === 'dead') return never();
    if (now === 'fail') {
      f.failures++;
      throw new ConnectionCut();
    }
    return r;
  };
  f.chain = chainAccessFromTransport({
    chainId: devnet.chainId,
    transport: custom({ request: request as never }, { retryCount: 0 }),
    onNewHead: (cb) => devnet.onNewHead((h) => {
      if (f.mode === 'ok') cb(h);
    }),
  });
  return f;
}

/**
 * One incarnation of an in-process host: a Host on its own FaultyChain and its own view of the shared enclave
 * process. `kill()` freezes both (every pending and later chain or enclave call never settles, enclave exit events
 * are no longer delivered), so the Host object is abandoned mid-step exactly as a SIGKILLed host process would be:
 * it never sends, restarts or commits anything again.
 */
export interface HostIncarnation {
  host: Host;
  fc: FaultyChain;
  dead: boolean;
  kill(): void;
}

/** Start a new host incarnation on the workload's enclave and contract. */
export async function startHostIncarnation(w: Workload, o: { maxBatch?: number } = {}): Promise<HostIncarnation> {
  const fc = faultyChain(w.stack.devnet!);
  const inc = { fc, dead: false } as HostIncarnation;
  const real = w.stack.enclave;
  const view = new EventEmitter() as EventEmitter & Pick<EnclaveProcess, 'call' | 'running' | 'pid'>;
  const onExit = (...a: unknown[]) => {
    if (!inc.dead) view.emit('exit', ...a);
  };
  real.on('exit', onExit);
  view.call = ((method: never, params?: never) => {
    if (inc.dead) return never();
    return real.call(method, params).then(
      (r) => (inc.dead ? never() : r),
      (e) => (inc.dead ? never() : Promise.reject(e)),
    );
  }) as EnclaveProcess['call'];
  inc.host = new Host({
    chain: fc.chain, operator: privateKeyToAccount(devOperatorKey()), contract: w.contract, config: w.stack.deployment.config,
    enclave: view as unknown as EnclaveProcess, fromBlock: w.stack.deployment.fromBlock, logger: w.logger, maxBatch: o.maxBatch,
  });
  inc.kill = () => {
    inc.dead = true;
    fc.mode = 'dead';
    real.off('exit', onExit);
  };
  await inc.host.start();
  return inc;
}

/** A computation of the workload and how values are drawn for it. */
export interface WorkloadComputation { name: string; type: 'average' | 'max' | 'min' }

export interface Workload {
  stack: DevStack;
  ids: Identity[];
  accounts: PrivateKeyAccount[];
  clients: GeodeClient[];
  session: TrustedSession;
  computations: WorkloadComputation[];
  /** Next nonce per participant (for pre-signed transactions). */
  nonces: number[];
  contract: Address;
  logger: Logger;
}

const FEES = { maxFeePerGas: parseGwei('50'), maxPriorityFeePerGas: parseGwei('1') };

/**
 * Start a dev stack with `participants` funded identities (deterministic keys from `label`), register their output
 * keys and create `computations` (every participant in each, quorum `quorum`, default all), and wait until all of it is committed.
 * The stack's own Host keeps running unless `stopStackHost`.
 */
export async function startWorkload(o: { participants: number; computations: WorkloadComputation[]; label: string; quorum?: number; stopStackHost?: boolean; logLevel?: string }): Promise<Workload> {
  const ids: Identity[] = [];
  for (let i = 0; i < o.participants; i++) ids.push(await createIdentity(`p${i}`, toBytes(keccak256(toBytes(`${o.label}:${i}`)))));
  const logger = pino({ level: o.logLevel ?? 'silent' });
  const stack = await startDevStack({ fund: ids.map((i) => i.address), logger });
  stack.enclave.setMaxListeners(0);
  const pub = stack.chain.publicClient;
  const contract = stack.deployment.contract;
  const session = await verifyActiveSession({ publicClient: pub, chainId: stack.chain.chainId, contract, collateral: stack.pki.collateral() as never, rootCaDer: stack.pki.rootCaDer, policy: stack.policy, now: Math.floor(Date.now() / 1000) });
  const clients = ids.map((identity) => new GeodeClient({ publicClient: pub, wallet: stack.chain.wallet, chainId: stack.chain.chainId, contract, identity, session }));
  const accounts = ids.map((i) => privateKeyToAccount(i.privateKey));
  // Setup requests go through pre-signed raw transactions too (fast, no per-call gas estimation).
  const nonces = await Promise.all(ids.map((i) => pub.getTransactionCount({ address: i.address })));
  const w: Workload = {
    stack, ids, accounts, clients, session, computations: o.computations, nonces, contract, logger,
  };
  const setup: Hex[] = [];
  for (let p = 0; p < ids.length; p++) {
    setup.push(await signCall(w, p, GeodeCoreAbi as Abi, 'registerOutputKey', [ids[p]!.outputKey.publicKey]));
  }
  for (const c of o.computations) {
    setup.push(await signCall(w, 0, ComputationsAbi as Abi, 'createComputation', [c.name, ctypeFromName(c.type), ids.map((i) => i.address), BigInt(o.quorum ?? ids.length)], 16_000_000n));
  }
  let last = 0n;
  for (const tx of setup) last = await sendRaw(w, tx);
  await waitCommitted(w, last, 60_000);
  if (o.stopStackHost) await stack.host.stop();
  return w;
}

/** The dev operator key startDevStack uses for its Host (dev account 1). */
export const devOperatorKey = (): Hex => devAccounts(8)[1]!.privateKey;

/** Sign a contract call from participant `p` with the next nonce. */
export async function signCall(w: Workload, p: number, abi: Abi, functionName: string, args: readonly unknown[], gas = 1_000_000n): Promise<Hex> {
  return w.accounts[p]!.signTransaction({
    chainId: Number(w.stack.chain.chainId), type: 'eip1559', to: w.contract,
    data: encodeFunctionData({ abi, functionName, args } as never), nonce: w.nonces[p]!++, gas, ...FEES,
  });
}

/** HPKE-seal `req` as participant `p` and sign its submitRequest transaction. */
export async function presignRequest(w: Workload, p: number, req: Request): Promise<Hex> {
  const payload = await w.clients[p]!.seal(encodeRequest(req));
  return signCall(w, p, GeodeCoreAbi as Abi, 'submitRequest', [payload]);
}

/** Send a signed transaction to the devnet (in-process) and return the seq of the request it appended. */
export async function sendRaw(w: Workload, tx: Hex): Promise<bigint> {
  const hash = (await w.stack.devnet!.request({ method: 'eth_sendRawTransaction', params: [tx] })) as Hex;
  const r = await w.stack.chain.publicClient.getTransactionReceipt({ hash });
  if (r.status !== 'success') throw new Error(`transaction ${hash} reverted`);
  const log = r.logs.find((l) => l.topics[0] === REQUEST_TOPIC);
  if (!log) throw new Error(`transaction ${hash} appended no request`);
  return BigInt(log.topics[1]!);
}
const REQUEST_TOPIC = keccak256(toBytes('RequestSubmitted(uint256,address,uint256,bytes)'));

/** Read a GeodeCore uint view (requestCount, committedSeq). */
export async function readUint(w: Workload, fn: 'requestCount' | 'committedSeq'): Promise<bigint> {
  return (await w.stack.chain.publicClient.readContract({ address: w.contract, abi: GeodeCoreAbi, functionName: fn })) as bigint;
}

/** Poll the contract until committedSeq >= seq. Throws after timeoutMs. */
export async function waitCommitted(w: Workload, seq: bigint, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const c = await readUint(w, 'committedSeq');
    if (c >= seq) return;
    if (Date.now() > end) throw new Error(`committedSeq ${c} did not reach ${seq} within ${timeoutMs} ms`);
    await sleep(25);
  }
}

const BATCH_EVENT = getAbiItem({ abi: GeodeCoreAbi as Abi, name: 'BatchCommitted' });

export interface CommittedBatch { from: bigint; to: bigint; outputs: Hex; sessionId: bigint; block: bigint }

/** All BatchCommitted events of the workload's contract, in chain order. */
export async function committedBatches(w: Workload): Promise<CommittedBatch[]> {
  const logs = (await w.stack.chain.publicClient.getLogs({ address: w.contract, event: BATCH_EVENT as never, fromBlock: w.stack.deployment.fromBlock, toBlock: 'latest' })) as unknown as { data: Hex; topics: [Hex, ...Hex[]]; blockNumber: bigint | null }[];
  return logs.map((l) => {
    const a = decodeEventLog({ abi: GeodeCoreAbi as Abi, data: l.data, topics: l.topics }).args as unknown as { from: bigint; to: bigint; outputs: Hex; sessionId: bigint };
    return { from: a.from, to: a.to, outputs: a.outputs, sessionId: a.sessionId, block: l.blockNumber! };
  });
}

/** Decrypted outputs per participant index: seq (decimal string) -> messages. */
export type Received = Map<string, OutputMessage[]>[];

/**
 * Check exactly-once delivery for requests 1..N (N = requestCount):
 * - committedSeq == requestCount == N, and the BatchCommitted ranges tile 1..N: sorted by chain order each
 *   `from` is the previous `to` + 1, no gap, no overlap;
 * - every output's seq lies in its batch's range, and for each participant and each request it sent (`sent[p]`)
 *   exactly one output decrypts for it; no participant receives an output for a request it did not send
 *   (the workload only uses requests that answer their sender).
 * Returns the decrypted outputs. Throws an Error describing the first violation.
 */
export async function checkExactlyOnce(w: Workload, sent: bigint[][]): Promise<{ n: bigint; batches: number; received: Received }> {
  const n = await readUint(w, 'requestCount');
  const committed = await readUint(w, 'committedSeq');
  if (committed !== n) throw new Error(`committedSeq ${committed} != requestCount ${n}`);
  const batches = await committedBatches(w);
  let next = 1n;
  const owner = new Map<string, number>();
  sent.forEach((seqs, p) => seqs.forEach((s) => owner.set(s.toString(), p)));
  const received: Received = w.ids.map(() => new Map());
  const addrIndex = new Map(w.ids.map((i, p) => [i.address.toLowerCase(), p]));
  for (const b of batches) {
    if (b.from !== next) throw new Error(`batch [${b.from}, ${b.to}] does not start at ${next}: ${b.from < next ? 'overlap (duplicate processing)' : 'gap (lost requests)'}`);
    if (b.to < b.from) throw new Error(`batch [${b.from}, ${b.to}] is empty`);
    next = b.to + 1n;
    for (const o of decodeOutputs(b.outputs)) {
      if (o.seq < b.from || o.seq > b.to) throw new Error(`output for seq ${o.seq} in batch [${b.from}, ${b.to}]`);
      const p = addrIndex.get(o.recipient.toLowerCase());
      if (p === undefined) continue;
      const m = decodeOutputMessage(await openOutput(w, p, o, b.sessionId));
      const k = o.seq.toString();
      const list = received[p]!.get(k) ?? [];
      list.push(m);
      received[p]!.set(k, list);
    }
  }
  if (next - 1n !== n) throw new Error(`batches cover 1..${next - 1n}, requestCount is ${n}`);
  for (let p = 0; p < sent.length; p++) {
    for (const s of sent[p]!) {
      const got = received[p]!.get(s.toString())?.length ?? 0;
      if (got !== 1) throw new Error(`participant p${p} has ${got} outputs for its request ${s} (expected exactly 1)`);
    }
    for (const [k, list] of received[p]!) {
      const o = owner.get(k);
      if (o !== undefined && o !== p) throw new Error(`participant p${p} got an output for p${o}'s request ${k}`);
      if (o === undefined && list.some((m) => m.ok && !(m.message && typeof m.message === 'object' && ('registered' in m.message || (m.message as { op?: string }).op === 'create')))) {
        throw new Error(`participant p${p} got an unexpected output for request ${k}`);
      }
    }
  }
  return { n, batches: batches.length, received };
}

/** Decrypt output `o` for participant `p` (throws if it is not for p's output key). */
export async function openOutput(w: Workload, p: number, o: BatchOutput, sessionId: bigint): Promise<Uint8Array> {
  const ct = hexToBytes(o.ciphertext);
  if (ct.length === 0) throw new Error(`output for seq ${o.seq} to p${p} is undeliverable (no output key registered)`);
  const aad = hexToBytes(outputAad(w.stack.chain.chainId, w.contract, sessionId, w.ids[p]!.address, o.seq));
  return hpkeOpen(hexToBytes(w.ids[p]!.outputKey.privateKey), ct.subarray(0, 32), HPKE_INFO.output, aad, ct.subarray(32));
}

/** Plaintext model of the computations app for average/max/min with every participant in every computation. */
export class Model {
  /** latest value and first submission seq, per computation and participant */
  private subs = new Map<string, Map<number, { value: number; first: bigint }>>();
  submit(name: string, p: number, value: number, seq: bigint): void {
    let m = this.subs.get(name);
    if (!m) this.subs.set(name, (m = new Map()));
    const prev = m.get(p);
    m.set(p, { value, first: prev?.first ?? seq });
  }
  /** The locked result, as the app's output `result` field. Addresses lowercase. */
  result(c: WorkloadComputation, ids: Identity[]): unknown {
    const m = this.subs.get(c.name) ?? new Map<number, { value: number; first: bigint }>();
    const entries = [...m.entries()].map(([p, v]) => ({ addr: ids[p]!.address.toLowerCase(), ...v }));
    if (c.type === 'average') {
      entries.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
      let sum = 0;
      for (const e of entries) sum += e.value;
      const v = sum / entries.length;
      return { type: 'average', value: Object.is(v, -0) ? 0 : v, count: entries.length };
    }
    let best = entries[0]!;
    for (const e of entries.slice(1)) {
      const better = c.type === 'max' ? e.value > best.value : e.value < best.value;
      if (better || (e.value === best.value && e.first < best.first)) best = e;
    }
    return { type: c.type, participant: best.addr };
  }
}

/** Normalise an app output's result for comparison with the model (participant addresses lowercased). */
export function normaliseResult(r: unknown): unknown {
  if (r && typeof r === 'object' && 'participant' in r) return { ...(r as object), participant: String((r as { participant: string }).participant).toLowerCase() };
  return r;
}

/**
 * Every output a participant received for its own requests is ok, and every result equals the plaintext model.
 * With `submitsAccepted`, every other output must be the submission acknowledgement.
 */
export function checkAgainstModel(w: Workload, model: Model, comps: readonly WorkloadComputation[], sent: bigint[][], received: Received, opts: { submitsAccepted?: boolean } = {}): void {
  for (let p = 0; p < sent.length; p++) {
    for (const [seq, [m]] of received[p]!) {
      if (!sent[p]!.includes(BigInt(seq))) continue;
      assert.equal(m!.ok, true, `p${p} request ${seq}: ${JSON.stringify(m)}`);
      const msg = (m as { message: { op: string; computation: string; result: unknown } }).message;
      if (msg.op === 'result') assert.deepEqual(normaliseResult(msg.result), model.result(comps.find((c) => c.name === msg.computation)!, w.ids), `p${p} ${msg.computation}`);
      else if (opts.submitsAccepted) assert.deepEqual(msg.result, { type: 'accepted' });
    }
  }
}

/** A seeded integer draw in [lo, hi] (mulberry32 of `seed`). */
export function seededInt(seed: number): (lo: number, hi: number) => number {
  const rnd = mulberry32(seed);
  return (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
}

/** `count` random submissions (random participant, computation of `comps`, value in [-150, 150] by halves), recorded in `model` and `sent`. */
export async function submitBurst(w: Workload, comps: readonly WorkloadComputation[], int: (lo: number, hi: number) => number, model: Model, sent: bigint[][], count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const p = int(0, w.ids.length - 1);
    const c = comps[int(0, comps.length - 1)]!;
    const value = int(-300, 300) / 2;
    const seq = await sendRaw(w, await presignRequest(w, p, { op: 'submit', computation: c.name, value }));
    model.submit(c.name, p, value, seq);
    sent[p]!.push(seq);
  }
}

/** Result requests from every participant for every computation, wait until all is committed, then the exactly-once and model checks. */
export async function finishAndCheck(w: Workload, comps: readonly WorkloadComputation[], model: Model, sent: bigint[][], timeoutMs = 60_000): Promise<{ n: bigint; batches: number }> {
  for (const c of comps) for (let p = 0; p < w.ids.length; p++) sent[p]!.push(await sendRaw(w, await presignRequest(w, p, { op: 'result', computation: c.name })));
  await waitCommitted(w, await readUint(w, 'requestCount'), timeoutMs);
  const r = await checkExactlyOnce(w, sent);
  checkAgainstModel(w, model, comps, sent, r.received);
  return r;
}
