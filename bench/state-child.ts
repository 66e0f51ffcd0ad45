/**
 * The store-holding process of bench/state.ts, run as an esbuild bundle built like the enclave's (so its RSS is that
 * of an enclave process, not of the tsx loader): `node state-child.mjs <keys> <dir>`. Prints one JSON line.
 */
import { join } from 'node:path';
import { keccak256, toBytes } from 'viem';
import { SqliteBackend, StateStore } from '../packages/enclave/src/store/index.ts';

const REQUESTS = Number(process.env.BENCH_STATE_REQUESTS ?? 100);
const BATCHES = Number(process.env.BENCH_STATE_BATCHES ?? 7);
/** Bound of the store's decrypted-node cache, and bulk-loader keys per transaction. */
const CACHE_MIB = Number(process.env.BENCH_STATE_CACHE_MIB ?? 16);
const CHUNK = Number(process.env.BENCH_STATE_CHUNK ?? 2000);

interface ChildResult {
  keys: number; loadMs: number; loadCpuMs: number; batchMs: number[]; batchCpuMs: number[]; peakRssMiB: number; cacheMiB: number;
  /** Per measured batch: ms in the 100 requests (reads, overlay writes), ms in store.commit, node reads served by the cache and by SQLite. */
  readMs: number[]; commitMs: number[]; cacheHits: number[]; backendReads: number[];
  /** RSS after the load and after the batches, MiB (the peak is usually during the load). */
  rssAfterLoadMiB: number; rssEndMiB: number;
}

async function child(keys: number, dir: string): Promise<void> {
  const store = StateStore.open({
    backend: new SqliteBackend(join(dir, 'state.db')),
    sealingKey: toBytes(keccak256(toBytes('bench-key'))),
    storeId: toBytes(keccak256(toBytes('bench-store'))),
    cacheBytes: CACHE_MIB * 2 ** 20,
  });
  let t0 = performance.now();
  const l0 = process.cpuUsage();
  function* initial(): Generator<readonly [readonly (string | number)[], unknown]> {
    // Distinct values: equal leaves would share trie nodes (content addressing) and make the stored trie tiny.
    for (let i = 0; i < keys; i++) yield [['bank', 'bal', i], { balance: 1_000_000 + i, nonce: 0 }];
  }
  await store.bulkLoad(initial(), CHUNK);
  const loadMs = performance.now() - t0;
  const lc = process.cpuUsage(l0);
  const loadCpuMs = (lc.user + lc.system) / 1000;
  const rssAfterLoadMiB = process.memoryUsage.rss() / 2 ** 20;
  const batchMs: number[] = [];
  const batchCpuMs: number[] = [];
  const readMs: number[] = [];
  const commitMs: number[] = [];
  const cacheHits: number[] = [];
  const backendReads: number[] = [];
  for (let b = 0; b <= BATCHES; b++) {
    t0 = performance.now();
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
    if (b > 0) {
      const s1 = store.cacheStats();
      readMs.push(t1 - t0);
      commitMs.push(performance.now() - t1);
      cacheHits.push(s1.cacheHits - s0.cacheHits);
      backendReads.push(s1.backendReads - s0.backendReads);
      batchMs.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      batchCpuMs.push((c.user + c.system) / 1000);
    }
  }
  store.close();
  const r: ChildResult = {
    keys, loadMs, loadCpuMs, batchMs, batchCpuMs, peakRssMiB: process.resourceUsage().maxRSS / 1024, cacheMiB: CACHE_MIB,
    readMs, commitMs, cacheHits, backendReads, rssAfterLoadMiB, rssEndMiB: process.memoryUsage.rss() / 2 ** 20,
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}


await child(Number(process.argv[2]), process.argv[3]!);
