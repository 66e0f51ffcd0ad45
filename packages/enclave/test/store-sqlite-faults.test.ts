// Failures of the SQLite backend the host can cause (red-team round 3, docs/security.md#store-files): a damaged file
// is ENCLAVE_SEAL_CORRUPT on the write path too, and an open that failed does not keep the database locked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, rmSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf } from '@geode/protocol';
import { stateDbName } from '../src/lineage.ts';
import { EnclaveRuntime } from '../src/runtime.ts';
import type { EnclaveApp } from '../src/app.ts';
import { counterApp } from './fixtures/counter-app.ts';
import { User, batchParams, fakePlatform, setup, testConfig } from './helpers.ts';

/** Each private request writes 300 keys, so that its batch needs new database pages. */
const fillApp: EnclaveApp = {
  name: 'fill',
  onPublic() {},
  onPrivate(_r, ctx) {
    for (let i = 0; i < 300; i++) ctx.store.set(['k', ctx.seq, i], 'v'.repeat(100));
  },
};

/** A runtime over `app` that committed one batch (alice's key registration) and was closed (its -wal checkpointed into the main file); `db` the state database's path. */
async function oneBatchCommitted(app: EnclaveApp) {
  const { chain, rt, dataDir, keys } = await setup(app);
  const alice = await User.make('alice');
  chain.submit(alice.address, alice.registerPayload());
  const r1 = (await rt.handle('processBatch', (await batchParams(chain, 1, 1)).params)) as { newRoot: `0x${string}` };
  chain.commit(1n, r1.newRoot);
  rt.close();
  return { chain, dataDir, keys, alice, db: join(dataDir, stateDbName(keyIdOf(keys.encPubKey, keys.signer))) };
}

test('a database damaged where only a write looks (its freelist pointer) refuses the batch as ENCLAVE_SEAL_CORRUPT, not as a disk-space problem', async () => {
  const { chain, dataDir, keys, alice, db } = await oneBatchCommitted(fillApp);
  const pages = statSync(db).size / 4096;
  // The host: header bytes 32..39 = the first freelist trunk page (past the end of the file) and a freelist count of 1.
  const fd = openSync(db, 'r+');
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32BE(pages + 50, 0);
  hdr.writeUInt32BE(1, 4);
  writeSync(fd, hdr, 0, 8, 32);
  const magic = Buffer.alloc(15);
  readSync(fd, magic, 0, 15, 0);
  closeSync(fd);
  assert.equal(magic.toString('latin1'), 'SQLite format 3');
  const rt2 = new EnclaveRuntime(fillApp, { dataDir, platform: fakePlatform, log: () => {} });
  await rt2.handle('init', { config: testConfig() });
  assert.equal(((await rt2.handle('status', {})) as { lastSeq: string }).lastSeq, '1', 'reads still work: the damage is below the records');
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { params } = await batchParams(chain, 2, 2);
  const err = await rt2.handle('processBatch', params).then(() => null, (e: { code?: string; message: string }) => e);
  rt2.close();
  assert.ok(err, 'the batch is refused');
  assert.equal(err.code, 'ENCLAVE_SEAL_CORRUPT', `${err.code}: ${err.message}`);
  assert.match(err.message, /is damaged .*Restore this enclave's data directory/);
});

test('an open that failed (a symlink planted as the -wal) keeps no lock: once the host removes it, the next batch opens the database', async () => {
  const { chain, dataDir, keys, alice, db } = await oneBatchCommitted(counterApp);
  symlinkSync(join(dataDir, 'keys.sealed'), `${db}-wal`);
  const rt2 = new EnclaveRuntime(counterApp, { dataDir, platform: fakePlatform, log: () => {} });
  await rt2.handle('init', { config: testConfig() }); // the open fails: SQLite will not open a symlinked -wal
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { params } = await batchParams(chain, 2, 2);
  await assert.rejects(rt2.handle('processBatch', params), (e: { code?: string }) => e.code === 'ENCLAVE_SEAL_IO', 'with the symlink in place the batch is refused');
  rmSync(`${db}-wal`); // the host puts things right
  // Before the fix the failed connection kept its exclusive lock: "database is locked" until the process restarted.
  const out = (await rt2.handle('processBatch', params)) as { to: string };
  rt2.close();
  assert.equal(out.to, '2');
});
