/**
 * State-scaling benchmark (npm run bench:state, issue 8 §3).
 *
 * For states of 1,000, 100,000 and 1,000,000 keys (built by the store's bulk loader, chunked transactions, not by
 * a million requests), each in a fresh child process holding the store (real SQLite file, sealed records, bounded
 * node cache): the same 100-request batch shape is processed 1 + 7 times (one warm-up) on top of the loaded state.
 * A request is a transfer: read two balances, write both (per-request overlay, committed into the batch), then
 * the batch is committed (new MPT root, one SQLite transaction). Batch i touches the keys derived from seed i, the
 * same seeds for every size. Printed: bulk-load wall and CPU time, median batch wall and CPU time per size, where a
 * batch goes (requests vs commit, node reads from the cache vs SQLite), ratio largest/smallest (the same-run
 * reference is the 1,000-key state; wall in the JSON, CPU beside it), and each child's peak RSS (getrusage maxrss).
 * Targets (issue 8): ratio <= 2.0, peak RSS <= 256 MiB at a million keys. Ends with one JSON line. Figures and
 * analysis: docs/enclave.md#store-performance.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEnclave } from '../packages/enclave/src/build.ts';

const SIZES = (process.env.BENCH_STATE_SIZES ?? '1000,100000,1000000').split(',').map(Number);
const REQUESTS = Number(process.env.BENCH_STATE_REQUESTS ?? 100);
/**
 * Node flags of the store-holding process. An SGX enclave has a fixed heap; bounding V8's old space the same way
 * makes it collect instead of growing, which is what peak RSS measures.
 */
const NODE_FLAGS = (process.env.BENCH_STATE_NODE_FLAGS ?? '--max-old-space-size=128').split(' ').filter(Boolean);

interface ChildResult {
  keys: number; loadMs: number; loadCpuMs: number; batchMs: number[]; batchCpuMs: number[]; peakRssMiB: number; cacheMiB: number;
  readMs: number[]; commitMs: number[]; cacheHits: number[]; backendReads: number[]; rssAfterLoadMiB: number; rssEndMiB: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (x: number): number => Math.round(x * 10) / 10;

{
  const began = performance.now();
  const bundleDir = mkdtempSync(join(tmpdir(), 'geode-bench-state-bin-'));
  const { outfile } = await buildEnclave({ entry: fileURLToPath(new URL('./state-child.ts', import.meta.url)), outfile: join(bundleDir, 'state-child.mjs') });
  const results: ChildResult[] = [];
  console.log(`store process: node ${NODE_FLAGS.join(' ')}; ${REQUESTS} requests per batch`);
  for (const keys of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), 'geode-bench-state-'));
    try {
      const p = spawnSync(process.execPath, [...NODE_FLAGS, outfile, String(keys), dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
      if (p.status !== 0) throw new Error(`child for ${keys} keys failed (status ${p.status})`);
      const r = JSON.parse(p.stdout.trim().split('\n').at(-1)!) as ChildResult;
      results.push(r);
      console.log(`${String(keys).padStart(9)} keys: bulk load ${r1(r.loadMs / 1000)} s (CPU ${r1(r.loadCpuMs / 1000)} s); batch of ${REQUESTS} requests median ${r1(median(r.batchMs))} ms (min ${r1(Math.min(...r.batchMs))}, max ${r1(Math.max(...r.batchMs))}), CPU time median ${r1(median(r.batchCpuMs))} ms; peak RSS ${r1(r.peakRssMiB)} MiB (after load ${r1(r.rssAfterLoadMiB)}, at end ${r1(r.rssEndMiB)}; node cache bound ${r.cacheMiB} MiB)`);
      const reads = median(r.backendReads);
      console.log(`${' '.repeat(15)}where a batch goes: requests (reads + overlay) ${r1(median(r.readMs))} ms, commit (trie update, sealing, one SQLite transaction) ${r1(median(r.commitMs))} ms; trie node reads ${median(r.cacheHits) + reads}, of them from SQLite (unseal + re-hash) ${reads}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const batchMs = results.map((r) => r1(median(r.batchMs)));
  const ratio = Math.round((batchMs.at(-1)! / batchMs[0]!) * 100) / 100;
  const peakRssMiB = Math.round(Math.max(...results.map((r) => r.peakRssMiB)));
  const cpuRatio = Math.round((median(results.at(-1)!.batchCpuMs) / median(results[0]!.batchCpuMs)) * 100) / 100;
  console.log(`ratio largest/smallest ${ratio} (CPU-time ratio ${cpuRatio}, robust to other load on the machine) (target <= 2.0); peak RSS ${peakRssMiB} MiB (target <= 256)`);
  console.log(`whole benchmark ${r1((performance.now() - began) / 1000)} s wall, bulk loads ${r1(results.reduce((a, r) => a + r.loadCpuMs, 0) / 1000)} s CPU`);
  console.log(JSON.stringify({ keys: SIZES, batchMs, ratio, peakRssMiB }));
  rmSync(bundleDir, { recursive: true, force: true });
}
