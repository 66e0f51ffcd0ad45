/**
 * The store-holding process of bench/state.ts, run as an esbuild bundle built like the enclave's (so its RSS is that
 * of an enclave process, not of the tsx loader): `node state-child.mjs <keys> <dir>`.
 *
 * Protocol (one JSON object per stdout line): it builds (or, with BENCH_STATE_REUSE, copies) the state, closes and
 * reopens the store (a cold node cache, as after an enclave restart, the same whichever way the state was made),
 * warms its node cache with the trie's upper levels (StateStore.warm), prints `{"ready": true, ...}`, then runs one batch per `batch <i>` line read on stdin, printing its figures, and on
 * `end` prints its peak RSS and exits. The parent (bench/state.ts) interleaves the batches of all sizes.
 *
 * BENCH_STATE_REUSE=<dir>: keep the bulk-loaded database as <dir>/state-<keys>-<chunk>.db (the state before any
 * batch) and, when that file is already there, copy it instead of loading again. The loader's inputs are fixed here
 * (keys, values, sealing key, store id, chunk), so the copy is the same state; its root is printed either way.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { keccak256, toBytes } from 'viem';
import { SqliteBackend, StateStore } from '../packages/enclave/src/store/index.ts';
import { PROGRESS_EVERY, progress } from './state-progress.ts';

const REQUESTS = Number(process.env.BENCH_STATE_REQUESTS ?? 100);
/** Bound of the store's decrypted-node cache, and bulk-loader keys per transaction. */
const CACHE_MIB = Number(process.env.BENCH_STATE_CACHE_MIB ?? 16);
const CHUNK = Number(process.env.BENCH_STATE_CHUNK ?? 2000);
const REUSE = process.env.BENCH_STATE_REUSE;

/** Figures of one batch: wall and CPU ms, ms in the 100 requests (reads, overlay writes) and in store.commit, node reads served by the cache and by SQLite, distinct new trie nodes the commit wrote. */
export interface BatchFigures {
  batch: number; wallMs: number; cpuMs: number; readMs: number; commitMs: number; cacheHits: number; backendReads: number; nodesWritten: number;
}

const open = (file: string): StateStore => StateStore.open({
  backend: new SqliteBackend(file, { exclusive: true }), // as the enclave opens its store (lineage.ts)
  sealingKey: toBytes(keccak256(toBytes('bench-key'))),
  storeId: toBytes(keccak256(toBytes('bench-store'))),
  cacheBytes: CACHE_MIB * 2 ** 20,
});

async function load(keys: number, file: string): Promise<{ loadMs: number | null; loadCpuMs: number | null; reused: boolean }> {
  const cached = REUSE ? join(REUSE, `state-${keys}-${CHUNK}.db`) : undefined;
  if (cached && existsSync(cached)) {
    copyFileSync(cached, file);
    return { loadMs: null, loadCpuMs: null, reused: true };
  }
  const store = open(file);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  function* initial(): Generator<readonly [readonly (string | number)[], unknown]> {
    // Distinct values: equal leaves would share trie nodes (content addressing) and make the stored trie tiny.
    for (let i = 0; i < keys; i++) {
      if (i > 0 && i % PROGRESS_EVERY === 0) progress(i, keys, t0);
      yield [['bank', 'bal', i], { balance: 1_000_000 + i, nonce: 0 }];
    }
  }
  await store.bulkLoad(initial(), CHUNK);
  const loadMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  store.close(); // checkpoints the write-ahead log into the file: the file alone is the state
  if (cached) {
    mkdirSync(REUSE!, { recursive: true });
    copyFileSync(file, cached);
  }
  return { loadMs, loadCpuMs: (c.user + c.system) / 1000, reused: false };
}

/** Batch `b`: REQUESTS transfers between keys derived from seed b (the same for every size), then one commit. */
async function batch(store: StateStore, keys: number, b: number): Promise<BatchFigures> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const s0 = store.cacheStats();
  const batch = store.begin();
  const kv = batch.namespace('bank');
  for (let r = 0; r < REQUESTS; r++) {
    batch.beginRequest();
    const h = toBytes(keccak256(toBytes(`seed-${b}-${r}`)));
    const from = Number(Buffer.from(h.subarray(0, 6)).readUIntBE(0, 6) % keys);
    const to = Number(Buffer.from(h.subarray(6, 12)).readUIntBE(0, 6) % keys);
    const a = (await kv.get<{ balance: number; nonce: number }>(['bal', from]))!;
    const c = (await kv.get<{ balance: number; nonce: number }>(['bal', to]))!;
    kv.set(['bal', from], { balance: a.balance - 1, nonce: a.nonce + 1 });
    kv.set(['bal', to], { balance: c.balance + 1, nonce: c.nonce });
    batch.commitRequest();
  }
  const t1 = performance.now();
  await store.commit(batch);
  const t2 = performance.now();
  const cpu = process.cpuUsage(c0);
  const s1 = store.cacheStats();
  return {
    batch: b, wallMs: t2 - t0, cpuMs: (cpu.user + cpu.system) / 1000, readMs: t1 - t0, commitMs: t2 - t1,
    cacheHits: s1.cacheHits - s0.cacheHits, backendReads: s1.backendReads - s0.backendReads, nodesWritten: s1.nodesWritten - s0.nodesWritten,
  };
}

async function child(keys: number, dir: string): Promise<void> {
  const file = join(dir, 'state.db');
  const loaded = await load(keys, file);
  const store = open(file);
  const root = store.versions()[0]!.root;
  await store.checkout(root);
  const t0 = performance.now();
  const warmedNodes = await store.warm();
  const warmMs = performance.now() - t0;
  const say = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
  say({ ready: true, keys, root, ...loaded, warmedNodes, warmMs, cacheMiB: CACHE_MIB, rssAfterLoadMiB: process.memoryUsage.rss() / 2 ** 20 });
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.trim().split(' ');
    if (cmd === 'batch') say(await batch(store, keys, Number(arg)));
    else if (cmd === 'end') break;
  }
  store.close();
  say({ end: true, peakRssMiB: process.resourceUsage().maxRSS / 1024, rssEndMiB: process.memoryUsage.rss() / 2 ** 20 });
}

await child(Number(process.argv[2]), process.argv[3]!);
