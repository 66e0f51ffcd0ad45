/**
 * State-scaling benchmark (npm run bench:state, issue 8 §3).
 *
 * For states of 1,000, 100,000 and 1,000,000 keys (built by the store's bulk loader, chunked transactions, not by
 * a million requests), each in its own child process holding the store (real SQLite file, sealed records, bounded
 * node cache; bench/state-child.ts): the same 100-request batch shape is processed WARMUP + BATCHES times on top of
 * the loaded state. A request is a transfer: read two balances, write both (per-request overlay, committed into the
 * batch), then the batch is committed (new MPT root, one SQLite transaction). Batch i touches the keys derived from
 * seed i, the same seeds for every size.
 *
 * The batches are interleaved: once every size is loaded, round i runs batch i in each child in turn (one at a
 * time; the first child of a round rotates), so a change in the machine's load during the run falls on every size
 * alike instead of on whichever size happened to be measured then. The ratio largest/smallest is therefore measured
 * against a same-run, same-moment reference (the 1,000-key state). Printed: bulk-load wall and CPU time, median
 * batch wall and CPU time per size, where a batch goes (requests vs commit, node reads from the cache vs SQLite),
 * the wall ratio (in the JSON) and the CPU-time ratio beside it, and each child's peak RSS (getrusage maxrss).
 * Targets (issue 8): ratio <= 2.0, peak RSS <= 256 MiB at a million keys. Ends with one JSON line. Figures and
 * analysis: docs/enclave.md#store-performance.
 *
 * Environment: BENCH_STATE_SIZES (comma list), BENCH_STATE_REQUESTS (100), BENCH_STATE_BATCHES (measured rounds,
 * 9), BENCH_STATE_WARMUP (rounds not measured, 2), BENCH_STATE_NODE_FLAGS, BENCH_STATE_CACHE_MIB and
 * BENCH_STATE_CHUNK (state-child.ts), BENCH_STATE_REUSE=<dir> (keep the loaded states there and reuse them on the
 * next run: the million-key load alone takes minutes of CPU).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { buildEnclave } from '../packages/enclave/src/build.ts';
import type { BatchFigures } from './state-child.ts';

const SIZES = (process.env.BENCH_STATE_SIZES ?? '1000,100000,1000000').split(',').map(Number);
const REQUESTS = Number(process.env.BENCH_STATE_REQUESTS ?? 100);
const BATCHES = Number(process.env.BENCH_STATE_BATCHES ?? 9);
const WARMUP = Number(process.env.BENCH_STATE_WARMUP ?? 2);
/**
 * Node flags of the store-holding process. An SGX enclave has a fixed heap; bounding V8's old space the same way
 * makes it collect instead of growing, which is what peak RSS measures.
 */
const NODE_FLAGS = (process.env.BENCH_STATE_NODE_FLAGS ?? '--max-old-space-size=128').split(' ').filter(Boolean);

interface Ready { keys: number; root: string; warmedNodes: number; warmMs: number; loadMs: number | null; loadCpuMs: number | null; reused: boolean; cacheMiB: number; rssAfterLoadMiB: number }
interface End { peakRssMiB: number; rssEndMiB: number }

/** One child process: its stdout as a queue of JSON lines. */
class Child {
  private readonly lines: AsyncIterator<string>;
  private readonly rl: Interface;
  readonly batches: BatchFigures[] = [];
  ready!: Ready;
  end!: End;

  constructor(readonly keys: number, readonly dir: string, readonly proc: ChildProcessByStdio<Writable, Readable, null>) {
    this.rl = createInterface({ input: proc.stdout });
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  async next<T>(): Promise<T> {
    const r = await this.lines.next();
    if (r.done) throw new Error(`the ${this.keys}-key child exited early (status ${this.proc.exitCode})`);
    return JSON.parse(r.value) as T;
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (x: number): number => Math.round(x * 10) / 10;

{
  const began = performance.now();
  const bundleDir = mkdtempSync(join(tmpdir(), 'geode-bench-state-bin-'));
  const { outfile } = await buildEnclave({ entry: fileURLToPath(new URL('./state-child.ts', import.meta.url)), outfile: join(bundleDir, 'state-child.mjs') });
  const children: Child[] = [];
  console.log(`store process: node ${NODE_FLAGS.join(' ')}; ${REQUESTS} requests per batch; ${WARMUP} warm-up + ${BATCHES} measured rounds, interleaved over the sizes`);
  try {
    // Load one size at a time (each load is CPU-bound; running them together would only share the same cores).
    for (const keys of SIZES) {
      const dir = mkdtempSync(join(tmpdir(), 'geode-bench-state-'));
      const c = new Child(keys, dir, spawn(process.execPath, [...NODE_FLAGS, outfile, String(keys), dir], { stdio: ['pipe', 'pipe', 'inherit'] }));
      children.push(c);
      c.ready = await c.next<Ready>();
      const load = c.ready.reused ? 'state reused (BENCH_STATE_REUSE)' : `bulk load ${r1(c.ready.loadMs! / 1000)} s (CPU ${r1(c.ready.loadCpuMs! / 1000)} s)`;
      console.log(`${String(keys).padStart(9)} keys: ${load}, root ${c.ready.root}, reopened and warmed (${c.ready.warmedNodes} upper trie nodes read in ${Math.round(c.ready.warmMs)} ms), RSS ${r1(c.ready.rssAfterLoadMiB)} MiB`);
    }
    for (let b = 0; b < WARMUP + BATCHES; b++) {
      for (let i = 0; i < children.length; i++) {
        const c = children[(b + i) % children.length]!;
        c.send(`batch ${b}`);
        const f = await c.next<BatchFigures>();
        if (b >= WARMUP) c.batches.push(f);
      }
    }
    for (const c of children) {
      c.send('end');
      c.end = await c.next<End>();
    }
  } finally {
    for (const c of children) {
      c.proc.stdin.end();
      if (c.proc.exitCode === null && c.proc.signalCode === null) await new Promise((res) => c.proc.once('exit', res));
      rmSync(c.dir, { recursive: true, force: true });
    }
    rmSync(bundleDir, { recursive: true, force: true });
  }
  for (const c of children) {
    const f = c.batches;
    const wall = f.map((x) => x.wallMs);
    console.log(`${String(c.keys).padStart(9)} keys: batch of ${REQUESTS} requests median ${r1(median(wall))} ms (min ${r1(Math.min(...wall))}, max ${r1(Math.max(...wall))}), CPU time median ${r1(median(f.map((x) => x.cpuMs)))} ms; peak RSS ${r1(c.end.peakRssMiB)} MiB (at end ${r1(c.end.rssEndMiB)}; node cache bound ${c.ready.cacheMiB} MiB)`);
    const reads = median(f.map((x) => x.backendReads));
    console.log(`${' '.repeat(15)}where a batch goes: requests (reads + overlay) ${r1(median(f.map((x) => x.readMs)))} ms, commit (trie update, sealing, one SQLite transaction) ${r1(median(f.map((x) => x.commitMs)))} ms; trie node reads ${median(f.map((x) => x.cacheHits)) + reads}, of them from SQLite (unseal + re-hash) ${reads}; new trie nodes written ${median(f.map((x) => x.nodesWritten))}`);
  }
  const batchMs = children.map((c) => r1(median(c.batches.map((x) => x.wallMs))));
  const cpuMs = children.map((c) => median(c.batches.map((x) => x.cpuMs)));
  const ratio = Math.round((batchMs.at(-1)! / batchMs[0]!) * 100) / 100;
  const cpuRatio = Math.round((cpuMs.at(-1)! / cpuMs[0]!) * 100) / 100;
  const peakRssMiB = Math.round(Math.max(...children.map((c) => c.end.peakRssMiB)));
  const reused = children.filter((c) => c.ready.reused).map((c) => c.keys);
  const rssNote = reused.length ? ` (states of ${reused.join(', ')} keys reused: those processes' peaks do not include a bulk load)` : '';
  console.log(`ratio largest/smallest ${ratio} (CPU-time ratio ${cpuRatio}) (target <= 2.0); peak RSS ${peakRssMiB} MiB (target <= 256)${rssNote}`);
  const loads = children.filter((c) => !c.ready.reused);
  console.log(`whole benchmark ${r1((performance.now() - began) / 1000)} s wall${loads.length ? `, bulk loads ${r1(loads.reduce((a, c) => a + c.ready.loadCpuMs!, 0) / 1000)} s CPU` : ''}`);
  console.log(JSON.stringify({ keys: SIZES, batchMs, ratio, peakRssMiB }));
}
