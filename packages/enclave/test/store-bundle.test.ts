// The store inside an enclave bundle: the SQLite addon is copied beside the bundle, its SHA-256 is compiled into
// the bundle (so the measurement covers it), and a different binary is refused before it is loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildEnclave, sqliteAddonFile } from '../src/build.ts';
import { tmpDir } from './helpers.ts';

const entry = new URL('./fixtures/store-main.ts', import.meta.url).pathname;
const run = (bundle: string, db: string) => {
  const r = spawnSync(process.execPath, [bundle, db], { encoding: 'utf8' });
  return { status: r.status, out: JSON.parse(r.stdout.trim() || '{}') as { root?: string; addon?: string; error?: string }, stderr: r.stderr };
};

test('bundled store: runs from its directory with the pinned addon, refuses a swapped addon', async () => {
  const d = tmpDir();
  const { outfile } = await buildEnclave({ entry, outfile: join(d, 'bin/store.mjs') });
  const addon = sqliteAddonFile();
  assert.ok(readFileSync(outfile, 'utf8').includes(addon.sha256), 'the addon hash is part of the measured bundle');
  const ok = run(outfile, join(d, 'a.db'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.out.root!, /^0x[0-9a-f]{64}$/);
  assert.equal(ok.out.addon, addon.sha256);
  appendFileSync(join(dirname(outfile), 'better_sqlite3.node'), Buffer.from([0])); // the host swaps the binary
  const bad = run(outfile, join(d, 'b.db'));
  assert.equal(bad.status, 1);
  assert.equal(bad.out.error, 'ENCLAVE_STORE_NATIVE');
});
