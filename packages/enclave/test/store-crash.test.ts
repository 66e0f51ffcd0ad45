// Crash in the middle of a batch write: a child process commits a 3,000-key batch (~6,000 records; its SQLite
// transaction takes ~0.5 s here) through the runtime's commit path (exclusive database, old versions pruned in the
// same transaction) and is SIGKILLed at increasing delays after its database transaction starts. On reopen the
// store is at the old root or the new one, never a mix: the newest version is one of the two, its contents
// recompute to its root, and the pruned versions are gone exactly when the new one is there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMPT } from '@ethereumjs/mpt';
import { bytesToHex } from 'viem';
import { SqliteBackend, StateStore } from '../src/store/index.ts';
import { BASE_EXTRA_VERSIONS, BASE_KEYS, BATCH_KEYS, SEALING_KEY, STORE_ID } from './fixtures/store-writer.ts';
import { KEEP_VERSIONS } from '../src/lineage.ts';
import { tmpDir } from './helpers.ts';

const WRITER = fileURLToPath(new URL('./fixtures/store-writer.ts', import.meta.url));
const run = (file: string, mode: string): string => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', WRITER, file, mode], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return /root (0x[0-9a-f]{64})/.exec(r.stdout)![1]!;
};

/** Start the batch writer and SIGKILL it `delayMs` after it prints "txn". Resolves with whether it finished first. */
function killDuringTxn(file: string, delayMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, 'batch'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('txn\n') && !out.includes('killing')) {
        out += 'killing';
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' || code === 0 ? resolve(/root 0x/.test(out)) : reject(new Error(`writer failed: ${err}`))));
  });
}

async function reopen(file: string): Promise<{ newest: string; recomputed: string; keys: number; versions: number }> {
  const store = StateStore.open({ backend: new SqliteBackend(file), sealingKey: SEALING_KEY, storeId: STORE_ID });
  const versions = store.versions().length;
  const newest = store.versions()[0]!.root;
  await store.checkout(newest);
  const t = await createMPT();
  let keys = 0;
  for await (const [k, v] of store.begin().scan(new Uint8Array())) {
    await t.put(Uint8Array.from([...k, 0]), v); // trie key = key || 0x00 (docs/protocol.md#state-root)
    keys++;
  }
  store.close();
  return { newest, recomputed: bytesToHex(t.root()), keys, versions };
}

test('killed in the middle of a batch write, the store reopens at the old root or the new one, never a mix', { timeout: 300_000 }, async (t) => {
  const dir = tmpDir();
  const base = join(dir, 'base.db');
  const oldRoot = run(base, 'base');
  const reference = join(dir, 'reference.db');
  copyFileSync(base, reference);
  const newRoot = run(reference, 'batch');
  assert.notEqual(oldRoot, newRoot);
  const outcomes: string[] = [];
  for (const delay of [0, 20, 100, 300, 600, 5000]) {
    const file = join(dir, `kill-${delay}.db`);
    copyFileSync(base, file);
    for (const ext of ['-wal', '-shm']) if (existsSync(base + ext)) copyFileSync(base + ext, file + ext);
    const finished = await killDuringTxn(file, delay);
    const r = await reopen(file);
    assert.ok(r.newest === oldRoot || r.newest === newRoot, `delay ${delay}: reopened at ${r.newest}, neither old nor new`);
    assert.equal(r.recomputed, r.newest, `delay ${delay}: contents recompute to the root`);
    assert.equal(r.keys, r.newest === oldRoot ? BASE_KEYS : BATCH_KEYS, `delay ${delay}: every key of that version is there`);
    // old: the bulk load's version and the extra ones; new: the kept ones (the current, KEEP_VERSIONS - 1 others) + the new one.
    assert.equal(r.versions, r.newest === oldRoot ? 1 + BASE_EXTRA_VERSIONS : KEEP_VERSIONS + 1, `delay ${delay}: version records pruned in the same transaction`);
    if (finished) assert.equal(r.newest, newRoot, 'a writer that printed its root committed it');
    outcomes.push(r.newest === oldRoot ? 'old' : 'new');
  }
  t.diagnostic(`outcomes by kill delay: ${outcomes.join(',')}`);
  // Both outcomes occur: some kills landed before the commit point, so the test exercises an interrupted write.
  assert.ok(outcomes.includes('old'), `outcomes ${outcomes.join(',')}`);
  assert.ok(outcomes.includes('new'), `outcomes ${outcomes.join(',')}`);
});
