import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keccak256, type Hex } from 'viem';
import { KEYS_FILE, sealBytes, unsealBytes, EnclaveRuntime } from '../src/index.ts';
import { SealedStore } from '../src/seal.ts';
import { deriveSimSealingKey, loadOrCreateSimPlatformSecret } from '../src/platform/sim.ts';
import { counterApp } from './fixtures/counter-app.ts';
import { sessionProofKeys } from '@geode/protocol';
import { User, batchParams, fakePlatform, setup, testConfig, tmpDir } from './helpers.ts';

const key = new Uint8Array(32).fill(9);
const enc = (s: string) => new TextEncoder().encode(s);

test('seal/unseal round trip; tampered, renamed or foreign files are ENCLAVE_SEAL_CORRUPT', () => {
  const sealed = sealBytes(key, 'a', enc('hello'));
  assert.equal(new TextDecoder().decode(unsealBytes(key, 'a', sealed)), 'hello');
  const t = new Uint8Array(sealed);
  t[t.length - 1] ^= 1;
  assert.throws(() => unsealBytes(key, 'a', t), { code: 'ENCLAVE_SEAL_CORRUPT' });
  assert.throws(() => unsealBytes(key, 'b', sealed), { code: 'ENCLAVE_SEAL_CORRUPT' }, 'AAD binds the file name');
  assert.throws(() => unsealBytes(new Uint8Array(32).fill(8), 'a', sealed), { code: 'ENCLAVE_SEAL_CORRUPT' });
  assert.throws(() => unsealBytes(key, 'a', enc('junk')), { code: 'ENCLAVE_SEAL_CORRUPT' });
});

test('sim sealing key depends on platform secret, measurement and config hash; platform secret persists', () => {
  const d = tmpDir();
  const p1 = loadOrCreateSimPlatformSecret(d);
  assert.deepEqual(loadOrCreateSimPlatformSecret(d), p1);
  const m = new Uint8Array(32).fill(1), c = new Uint8Array(32).fill(2);
  const k = deriveSimSealingKey(p1, m, c);
  assert.equal(k.length, 32);
  assert.notDeepEqual(deriveSimSealingKey(p1, new Uint8Array(32).fill(3), c), k);
  assert.notDeepEqual(deriveSimSealingKey(p1, m, new Uint8Array(32).fill(3)), k);
  writeFileSync(join(d, 'sim-platform.key'), 'short');
  assert.throws(() => loadOrCreateSimPlatformSecret(d), { code: 'ENCLAVE_SEAL_CORRUPT' });
});

test('runtime survives corrupt sealed files: a garbage state database of another lineage is ignored, a bad key file is refused at handshake', async () => {
  const { dataDir, chain } = await setup(counterApp);
  writeFileSync(join(dataDir, `state-${keccak256('0x01').slice(2)}.db`), 'garbage');
  writeFileSync(join(dataDir, KEYS_FILE), readFileSync(join(dataDir, KEYS_FILE)).subarray(0, 40));
  const rt2 = new EnclaveRuntime(counterApp, { dataDir, platform: fakePlatform, log: () => {} });
  await rt2.handle('init', { config: testConfig() });
  const st = (await rt2.handle('status', {})) as { sessionId: string | null; lastSeq: string };
  assert.equal(st.sessionId, null);
  assert.equal(st.lastSeq, '0');
  const { nonce } = (await rt2.handle('sessionCreate', {})) as { nonce: Hex };
  chain.openSession(2n, nonce);
  const blk = await chain.mine();
  const before = readFileSync(join(dataDir, KEYS_FILE));
  await assert.rejects(rt2.handle('sessionSetPubKey', { sessionId: '2', header: blk.header, proof: await blk.proof(sessionProofKeys(2n)) }), { code: 'ENCLAVE_SEAL_CORRUPT' });
  assert.deepEqual(readFileSync(join(dataDir, KEYS_FILE)), before, 'the refused key file is not overwritten');
});

test('a FIFO the host plants as keys.sealed or as the state database is refused, never read (reading one would block the whole process; found by a red-team test)', async () => {
  const { chain, rt, dataDir } = await setup(counterApp);
  const alice = await User.make('alice');
  chain.submit(alice.address, alice.registerPayload());
  await rt.handle('processBatch', (await batchParams(chain, 1, 1)).params);
  rt.close();
  const db = readdirSync(dataDir).find((f) => /^state-[0-9a-f]+\.db$/.test(f))!;
  // The state database: the restarted enclave cannot open its store, and says why instead of blocking.
  for (const f of readdirSync(dataDir)) if (f.startsWith(db)) rmSync(join(dataDir, f));
  execFileSync('mkfifo', [join(dataDir, db)]);
  const r2 = new EnclaveRuntime(counterApp, { dataDir, platform: fakePlatform, log: () => {} });
  await r2.handle('init', { config: testConfig() });
  chain.submit(alice.address, alice.registerPayload());
  await assert.rejects(r2.handle('processBatch', (await batchParams(chain, 1, 2)).params), (e: { code?: string; message?: string }) => e.code === 'ENCLAVE_SEAL_IO' && /not a regular file/.test(e.message ?? ''));
  r2.close();
  // keys.sealed: refused as a bad sealed file (ENCLAVE_SEAL_CORRUPT), not read.
  rmSync(join(dataDir, KEYS_FILE));
  execFileSync('mkfifo', [join(dataDir, KEYS_FILE)]);
  assert.throws(() => new SealedStore(dataDir, new Uint8Array(32)).read(KEYS_FILE), (e: { code?: string; message?: string }) => e.code === 'ENCLAVE_SEAL_CORRUPT' && /not a regular file/.test(e.message ?? ''));
});
