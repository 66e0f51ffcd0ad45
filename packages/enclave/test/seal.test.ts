import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keccak256, toHex, type Hex } from 'viem';
import { KEYS_FILE, SealedStore, sealBytes, stateFileName, unsealBytes, EnclaveRuntime } from '../src/index.ts';
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

test('store keeps the newest 4 state files and writes atomically (no temp files left)', () => {
  const d = tmpDir();
  const s = new SealedStore(d, key);
  const roots: Hex[] = [];
  for (let i = 0; i < 7; i++) {
    const r = keccak256(toHex(`root${i}`));
    roots.push(r);
    s.write(stateFileName(r), enc(`state ${i}`));
    const t = new Date(1_700_000_000_000 + i * 1000);
    utimesSync(join(d, stateFileName(r)), t, t);
    s.prune([r]);
  }
  assert.deepEqual(s.stateRoots(), roots.slice(3).reverse());
  assert.ok(readdirSync(d).every((f) => !f.endsWith('.tmp')));
  assert.equal(new TextDecoder().decode(s.read(stateFileName(roots[6]!))!), 'state 6');
  assert.equal(s.read('absent.sealed'), null);
});

test('pruning never deletes the committed (proven) root, however many uncommitted siblings follow it', () => {
  const d = tmpDir();
  const s = new SealedStore(d, key);
  const committed = keccak256(toHex('committed'));
  s.write(stateFileName(committed), enc('committed'));
  utimesSync(join(d, stateFileName(committed)), new Date(1_700_000_000_000), new Date(1_700_000_000_000));
  // Hosts that die after processing but before committing: each batch from the same base seals a new sibling.
  for (let i = 0; i < 10; i++) {
    const r = keccak256(toHex(`sibling${i}`));
    s.write(stateFileName(r), enc(`sibling ${i}`));
    const t = new Date(1_700_000_001_000 + i * 1000);
    utimesSync(join(d, stateFileName(r)), t, t);
    s.prune([r, committed]);
  }
  assert.ok(s.stateRoots().includes(committed), 'the committed state must survive');
  assert.equal(s.stateRoots().length, 4);
  assert.equal(new TextDecoder().decode(s.read(stateFileName(committed))!), 'committed');
});

test('runtime survives corrupt sealed files: bad state files are ignored, a bad key file is refused at handshake', async () => {
  const { dataDir, chain } = await setup(counterApp);
  writeFileSync(join(dataDir, stateFileName(keccak256('0x01'))), 'garbage');
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

test('processBatch refuses a corrupt sealed state for the proven root with ENCLAVE_SEAL_CORRUPT', async () => {
  const { chain, rt, dataDir, keys } = await setup(counterApp);
  const alice = await User.make('alice');
  chain.submit(alice.address, alice.registerPayload());
  const { params } = await batchParams(chain, 1, 1);
  const r = (await rt.handle('processBatch', params)) as { newRoot: Hex };
  chain.commit(1n, r.newRoot);
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { params: p2 } = await batchParams(chain, 2, 2);
  const r2 = (await rt.handle('processBatch', p2)) as { newRoot: Hex };
  // The commitment of batch 2 did not land; the sealed state for root 1 got corrupted on disk.
  const f = join(dataDir, stateFileName(r.newRoot));
  const b = readFileSync(f);
  b[b.length - 1] ^= 1;
  writeFileSync(f, b);
  const { params: p3 } = await batchParams(chain, 2, 2);
  await assert.rejects(rt.handle('processBatch', p3), { code: 'ENCLAVE_SEAL_CORRUPT' });
  assert.equal(rt.stateRoot, r2.newRoot);
});
