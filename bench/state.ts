/**
 * State-scaling benchmark (npm run bench:state, issue 8 §3): the same 100-request batch processed against states of
 * 1,000, 100,000 and 1,000,000 keys, built by the store's bulk loader (chunked transactions, not a million requests).
 *
 * Two batches are measured, each size of each in its own process (an esbuild bundle built like the enclave's, so its
 * RSS is that of an enclave process):
 * - **enclave batch** (bench/state-enclave-child.ts; the JSON's batchMs, ratio and peakRssMiB): an EnclaveRuntime
 *   running the transfers app on a fake chain processes one processBatch of 100 private transfers, one per sender,
 *   each to a recipient drawn from the loaded balances: the enclave's whole work for a batch (light-client header
 *   and storage-proof checks, accumulator, HPKE open, handler, output sealing, store commit, signing). Decision
 *   (docs/enclave.md#store-performance): this is "the batch processed" the issue names, and "the enclave process's
 *   peak RSS" is this process's.
 * - **store batch** (bench/state-child.ts; the JSON's storeBatchMs and storeRatio): 100 transfers through the store
 *   API alone (read two balances, write both, per-request overlay), then one commit: only the part that grows with
 *   the state, so its ratio is the store's own growth.
 * Batch i touches the keys derived from seed i, the same seeds for every size.
 *
 * The batches are interleaved: once every state is loaded, round i runs batch i in each process in turn (one at a
 * time; the first process of a round rotates), so a change in the machine's load during the run falls on every size
 * alike instead of on whichever size happened to be measured then. Each ratio largest/smallest is therefore measured
 * against a same-run, same-moment reference (the 1,000-key state). Printed: bulk-load wall and CPU time, median
 * batch wall and CPU time per size, where a store batch goes (requests vs commit, node reads from the cache vs
 * SQLite, nodes written), the wall ratios (in the JSON) with the CPU-time ratios beside them, and each process's
 * peak RSS (getrusage maxrss). Targets (issue 8): ratio <= 2.0, peak RSS <= 256 MiB at a million keys. Ends with one
 * JSON line. Figures and analysis: docs/enclave.md#store-performance.
 *
 * Environment: BENCH_STATE_SIZES (comma list), BENCH_STATE_REQUESTS (100), BENCH_STATE_BATCHES (measured rounds,
 * 15), BENCH_STATE_WARMUP (rounds not measured, 3), BENCH_STATE_NODE_FLAGS, BENCH_STATE_CACHE_MIB and
 * BENCH_STATE_CHUNK (state-child.ts), BENCH_STATE_REUSE=<dir> (keep the loaded states there and reuse them on the
 * next run: each million-key load takes about 5 CPU-minutes).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { buildEnclave } from '../packages/enclave/src/build.ts';
import type { BatchFigures } from './state-child.ts';
import type { EnclaveBatchFigures } from './state-enclave-child.ts';

const SIZES = (process.env.BENCH_STATE_SIZES ?? '1000,100000,1000000').split(',').map(Number);
const REQUESTS = Number(process.env.BENCH_STATE_REQUESTS ?? 100);
const BATCHES = Number(process.env.BENCH_STATE_BATCHES ?? 15);
const WARMUP = Number(process.env.BENCH_STATE_WARMUP ?? 3);
/**
 * Node flags of every child process (loaders, enclave and store processes). An SGX enclave has a fixed heap;
 * bounding V8's old space the same way makes it collect instead of growing, which is what peak RSS measures.
 */
const NODE_FLAGS = (process.env.BENCH_STATE_NODE_FLAGS ?? '--max-old-space-size=128').split(' ').filter(Boolean);
const REUSE = process.env.BENCH_STATE_REUSE;

interface Ready { keys: number; root: string; loadMs: number | null; loadCpuMs: number | null; reused: boolean; rssAfterLoadMiB: number; warmedNodes?: number; warmMs?: number; cacheMiB?: number }
interface End { peakRssMiB: number; rssEndMiB: number }
/** The two batches measured (see the header): the enclave's processBatch, and the store's own batch. */
type Kind = 'enclave' | 'store';
/** What every batch figures line carries (BatchFigures, EnclaveBatchFigures). */
interface Figures { wallMs: number; cpuMs: number }

/** One child process: its stdout as a queue of JSON lines. */
class Child<F extends Figures> {
  private readonly lines: AsyncIterator<string>;
  private readonly rl: Interface;
  readonly batches: F[] = [];
  ready!: Ready;
  end!: End;

  constructor(readonly kind: Kind, readonly keys: number, readonly dir: string, readonly proc: ChildProcessByStdio<Writable, Readable, null>) {
    this.rl = createInterface({ input: proc.stdout });
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  async next<T>(): Promise<T> {
    const r = await this.lines.next();
    if (r.done) throw new Error(`the ${this.keys}-key ${this.kind} child exited early (status ${this.proc.exitCode})`);
    return JSON.parse(r.value) as T;
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (x: number): number => Math.round(x * 10) / 10;
const ratioOf = (xs: number[]): number => Math.round((xs.at(-1)! / xs[0]!) * 100) / 100;
const pad = (keys: number): string => String(keys).padStart(9);

{
  const began = performance.now();
  const bundleDir = mkdtempSync(join(tmpdir(), 'geode-bench-state-bin-'));
  const bundles: Record<Kind, string> = {
    enclave: (await buildEnclave({ entry: fileURLToPath(new URL('./state-enclave-child.ts', import.meta.url)), outfile: join(bundleDir, 'state-enclave-child.mjs') })).outfile,
    store: (await buildEnclave({ entry: fileURLToPath(new URL('./state-child.ts', import.meta.url)), outfile: join(bundleDir, 'state-child.mjs') })).outfile,
  };
  const enclave: Child<EnclaveBatchFigures>[] = [];
  const store: Child<BatchFigures>[] = [];
  console.log(`processes: node ${NODE_FLAGS.join(' ')}; ${REQUESTS} requests per batch; ${WARMUP} warm-up + ${BATCHES} measured rounds, interleaved over the sizes and both batches`);
  const spawnChild = async <F extends Figures>(kind: Kind, keys: number): Promise<Child<F>> => {
    const dir = mkdtempSync(join(tmpdir(), 'geode-bench-state-'));
    console.log(`… ${pad(keys)} keys, ${kind} batch: ${REUSE ? 'loading (or reusing, BENCH_STATE_REUSE)' : 'bulk loading'} the state${keys >= 1_000_000 && !REUSE ? ' (5 to 10 CPU-minutes at a million keys)' : ''}`);
    let args = [String(keys), dir];
    let env = process.env;
    if (kind === 'enclave') {
      // The enclave state is built by a loader process of its own and saved (reused from BENCH_STATE_REUSE when there).
      const saved = REUSE ? join(REUSE, `enclave-${keys}-${REQUESTS}`) : join(dir, 'saved');
      const reused = existsSync(join(saved, 'position.json'));
      if (!reused) {
        rmSync(saved, { recursive: true, force: true });
        mkdirSync(saved, { recursive: true });
        const loader = spawn(process.execPath, [...NODE_FLAGS, bundles.enclave, 'load', String(keys), saved], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        loader.stdout.on('data', (d: Buffer) => { out += d.toString(); });
        const code = await new Promise<number | null>((res) => loader.once('exit', res));
        if (code !== 0) throw new Error(`loading the ${keys}-key enclave state failed (exit status ${code})`);
        const l = JSON.parse(out.trim().split('\n').at(-1)!) as { peakRssMiB: number };
        console.log(`${pad(keys)} keys, enclave batch: loader process done (its peak RSS ${r1(l.peakRssMiB)} MiB; the state is then copied to a fresh process)`);
      }
      args = ['run', String(keys), saved, dir];
      env = { ...process.env, BENCH_STATE_REUSED: reused ? '1' : '0' };
    }
    const c = new Child<F>(kind, keys, dir, spawn(process.execPath, [...NODE_FLAGS, bundles[kind], ...args], { stdio: ['pipe', 'pipe', 'inherit'], env }));
    c.ready = await c.next<Ready>();
    const load = c.ready.reused ? 'state reused (BENCH_STATE_REUSE)' : `bulk load ${r1(c.ready.loadMs! / 1000)} s (CPU ${r1(c.ready.loadCpuMs! / 1000)} s)`;
    const warm = c.ready.warmedNodes !== undefined ? `, reopened and warmed (${c.ready.warmedNodes} upper trie nodes read in ${Math.round(c.ready.warmMs!)} ms)` : ', runtime reopened on its data directory (cold cache)';
    console.log(`${pad(keys)} keys, ${kind} batch: ${load}, root ${c.ready.root}${warm}, RSS ${r1(c.ready.rssAfterLoadMiB)} MiB`);
    return c;
  };
  const all = (): Child<Figures>[] => [...enclave, ...store];
  try {
    // Load one state at a time (each load is CPU-bound; running them together would only share the same cores).
    for (const keys of SIZES) enclave.push(await spawnChild<EnclaveBatchFigures>('enclave', keys));
    for (const keys of SIZES) store.push(await spawnChild<BatchFigures>('store', keys));
    const children = all();
    for (let b = 0; b < WARMUP + BATCHES; b++) {
      for (let i = 0; i < children.length; i++) {
        const c = children[(b + i) % children.length]!;
        c.send(`batch ${b}`);
        const f = await c.next<Figures>();
        if (b >= WARMUP) c.batches.push(f);
      }
    }
    for (const c of children) {
      c.send('end');
      c.end = await c.next<End>();
    }
  } finally {
    for (const c of all()) {
      c.proc.stdin.end();
      if (c.proc.exitCode === null && c.proc.signalCode === null) await new Promise((res) => c.proc.once('exit', res));
      rmSync(c.dir, { recursive: true, force: true });
    }
    rmSync(bundleDir, { recursive: true, force: true });
  }
  const summary = (c: Child<Figures>, what: string): void => {
    const wall = c.batches.map((x) => x.wallMs);
    console.log(`${pad(c.keys)} keys, ${what}: median ${r1(median(wall))} ms (min ${r1(Math.min(...wall))}, max ${r1(Math.max(...wall))}), CPU time median ${r1(median(c.batches.map((x) => x.cpuMs)))} ms; peak RSS ${r1(c.end.peakRssMiB)} MiB (at end ${r1(c.end.rssEndMiB)}${c.ready.cacheMiB !== undefined ? `; node cache bound ${c.ready.cacheMiB} MiB` : ''})`);
  };
  console.log(`enclave batch: processBatch of ${REQUESTS} private transfers (transfers app; light-client checks, HPKE, handler, store commit, signing)`);
  for (const c of enclave) summary(c, `processBatch of ${REQUESTS} requests (${(median(c.batches.map((x) => x.wallMs)) / REQUESTS).toFixed(2)} ms/request)`);
  console.log(`store batch: ${REQUESTS} transfers through the store API alone (two reads, two writes each), then one commit`);
  for (const c of store) {
    summary(c, `store batch of ${REQUESTS} requests`);
    const f = c.batches;
    const reads = median(f.map((x) => x.backendReads));
    console.log(`${' '.repeat(15)}where a store batch goes: requests (reads + overlay) ${r1(median(f.map((x) => x.readMs)))} ms, commit (trie update, sealing, one SQLite transaction) ${r1(median(f.map((x) => x.commitMs)))} ms; trie node reads ${median(f.map((x) => x.cacheHits)) + reads}, of them from SQLite (unseal + re-hash) ${reads}; new trie nodes written ${median(f.map((x) => x.nodesWritten))}`);
  }
  const wallOf = (cs: Child<Figures>[]): number[] => cs.map((c) => r1(median(c.batches.map((x) => x.wallMs))));
  const cpuOf = (cs: Child<Figures>[]): number[] => cs.map((c) => median(c.batches.map((x) => x.cpuMs)));
  const batchMs = wallOf(enclave);
  const storeBatchMs = wallOf(store);
  const ratio = ratioOf(batchMs);
  const storeRatio = ratioOf(storeBatchMs);
  const peakRssMiB = Math.round(Math.max(...enclave.map((c) => c.end.peakRssMiB)));
  // Enclave processes never load (a loader process does); a store process includes its load unless it was reused.
  const reused = store.filter((c) => c.ready.reused).map((c) => c.keys);
  const rssNote = reused.length ? ` (store states of ${reused.join(', ')} keys reused: those processes' peaks do not include a bulk load)` : '';
  console.log(`ratio largest/smallest, enclave batch: ${ratio} (CPU-time ratio ${ratioOf(cpuOf(enclave))}) (target <= 2.0); peak RSS of the enclave processes ${peakRssMiB} MiB (target <= 256)`);
  console.log(`ratio largest/smallest, store batch alone: ${storeRatio} (CPU-time ratio ${ratioOf(cpuOf(store))}); peak RSS ${Math.round(Math.max(...store.map((c) => c.end.peakRssMiB)))} MiB${rssNote}`);
  const loads = all().filter((c) => !c.ready.reused);
  console.log(`whole benchmark ${r1((performance.now() - began) / 1000)} s wall${loads.length ? `, bulk loads ${r1(loads.reduce((a, c) => a + c.ready.loadCpuMs!, 0) / 1000)} s CPU` : ''}`);
  console.log(JSON.stringify({ keys: SIZES, batchMs, ratio, peakRssMiB, storeBatchMs, storeRatio }));
}
