// The enclave as a process: bundle the fixture app, run it, speak the framed stdio transport, check sim quotes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { FrameDecoder, encodeFrame, sessionCreateReportData, configHash } from '@geode/protocol';
import { createSimulationPki, readSimQuoteFields, checkSimQuoteSignature } from '@geode/attestation/sim';
import { buildEnclave, measureEnclave } from '../src/build.ts';
import { SIM_MR_SIGNER } from '../src/platform/sim.ts';
import { CONTRACT, testConfig, tmpDir } from './helpers.ts';

const entry = new URL('./fixtures/enclave-main.ts', import.meta.url).pathname;

test('buildEnclave is reproducible and measureEnclave is sha256 of the bundle', async () => {
  const d = tmpDir();
  const a = await buildEnclave({ entry, outfile: join(d, 'a.mjs') });
  const b = await buildEnclave({ entry, outfile: join(d, 'sub/b.mjs') });
  assert.equal(a.measurement, b.measurement);
  assert.equal(measureEnclave(a.outfile), a.measurement);
  assert.match(a.measurement, /^0x[0-9a-f]{64}$/);
});

test('bundled enclave process: framed stdio, bad frames refused, sim quote binds measurement and report data', async () => {
  const d = tmpDir();
  const { outfile, measurement } = await buildEnclave({ entry, outfile: join(d, 'counter.mjs') });
  const dataDir = join(d, 'data');
  const pki = await createSimulationPki({ now: 1_700_000_000, seed: new Uint8Array(32).fill(3) });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'sim-pki.json'), JSON.stringify(pki));
  const child = spawn(process.execPath, [outfile], { env: { ...process.env, GEODE_ENCLAVE_DIR: dataDir }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const pending = new Map<number, (m: unknown) => void>();
  const raw: unknown[] = [];
  const dec = new FrameDecoder((m) => { raw.push(m); pending.get((m as { id: number }).id)?.((m)); }, (e) => assert.fail(e));
  child.stdout.on('data', (c: Buffer) => dec.push(c));
  let next = 1;
  const call = (method: string, params?: unknown) => new Promise<{ result?: any; error?: { code: string } }>((res) => {
    const id = next++;
    pending.set(id, res as (m: unknown) => void);
    child.stdin.write(encodeFrame({ id, method, params }));
  });
  try {
    // Not a request frame -> ENCLAVE_BAD_MESSAGE with id 0... and the process keeps serving.
    const bad = new Promise<unknown>((res) => pending.set(0, res));
    child.stdin.write(encodeFrame({ hello: 'world' }));
    assert.equal(((await bad) as { error: { code: string } }).error.code, 'ENCLAVE_BAD_MESSAGE');
    assert.equal((await call('processBatch', { nope: 1 })).error?.code, 'ENCLAVE_BAD_MESSAGE');
    assert.equal((await call('sessionCreate')).error?.code, 'ENCLAVE_NOT_CONFIGURED');
    const init = await call('init', { config: testConfig() });
    assert.equal(init.result.measurement, measurement);
    assert.equal(init.result.simulated, true);
    const st = await call('status', {});
    assert.equal(st.result.configured, true);
    assert.equal(st.result.sessionId, null);
    const sc = await call('sessionCreate');
    const quote = hexToBytes(sc.result.quote as Hex);
    const f = readSimQuoteFields(quote);
    assert.equal(bytesToHex(f.mrEnclave), measurement);
    assert.deepEqual(f.mrSigner, SIM_MR_SIGNER);
    const cfg = testConfig();
    const ch = configHash({ chainId: 31337n, contract: CONTRACT, measurements: cfg.measurements as Hex[], attestationVerifier: cfg.attestationVerifier as Hex, lcSigner: cfg.lcSigner as Hex, lcGenesisHash: cfg.lcGenesisHash as Hex, policyHash: cfg.policyHash as Hex, admin: cfg.admin as Hex });
    const expected = new Uint8Array(64);
    expected.set(hexToBytes(sessionCreateReportData(31337n, CONTRACT, ch, sc.result.nonce)), 0);
    assert.deepEqual(new Uint8Array(f.reportData), expected);
    assert.ok(checkSimQuoteSignature(quote, pki.attestationPublicKeyBytes));
  } finally {
    child.stdin.end();
    await new Promise((r) => child.on('exit', r));
  }
  assert.match(stderr, /WARNING: simulated TEE — no hardware protection/);
  assert.ok(raw.every((m) => typeof (m as { id?: unknown }).id === 'number'), 'stdout carries only response frames');
});

test('the Ethereum light client runs inside an esbuild enclave bundle (herumi BLS WebAssembly inlined, no node_modules)', async () => {
  const { execFileSync } = await import('node:child_process');
  const { copyFileSync } = await import('node:fs');
  const d = tmpDir();
  const { outfile } = await buildEnclave({ entry: new URL('./fixtures/lightclient-ethereum-main.ts', import.meta.url).pathname, outfile: join(d, 'lc.mjs') });
  // Run a copy from a directory with no node_modules above it, so nothing resolves outside the bundle.
  const lone = join(d, 'lone.mjs');
  copyFileSync(outfile, lone);
  const cap = new URL('../../../../shared/fixtures/ethereum/helios-mainnet-capella/', import.meta.url).pathname;
  const run = (checkpoint: string) => JSON.parse(execFileSync(process.execPath, [lone, `${cap}bootstrap.json`, `${cap}updates.json`, `${cap}finality.json`, checkpoint], { cwd: d, encoding: 'utf8' }));
  assert.deepEqual(run('0x5afc212a7924789b2bc86acad3ab3a6ffb1f6e97253ea50bee7f4f51422c9275'), { ok: true, slot: 7109344, number: '17923026', stateRoot: '0x226f5ff47ab3725b5a4a3afc74b1e79e4aa3a29704561eccce590e58900baec3' });
  assert.deepEqual(run(`0x${'33'.repeat(32)}`), { ok: false, code: 'LC_CHECKPOINT_MISMATCH' });
});
