// A bundle built for hardware contains no simulation code (docs/enclave.md#platform): the build swaps the default
// platform for the hardware one and refuses to load any simulation source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildEnclave } from '../src/build.ts';
import { tmpDir } from './helpers.ts';

const entry = new URL('./fixtures/enclave-main.ts', import.meta.url).pathname;
const simImport = new URL('./fixtures/enclave-main-sim-import.ts', import.meta.url).pathname;

/** Strings only simulation code carries: the sim module, the sim quote builder, the sim PKI and its secret file. */
const SIM_MARKERS = ['createSimPlatform', 'buildSimQuote', 'geode-sim-signer', 'sim-platform.key', 'WARNING: simulated TEE', 'packages/attestation/src/sim/', 'packages/enclave/src/platform/sim.ts'];

test('the sim bundle carries the simulator (so the markers below are real)', async () => {
  const d = tmpDir();
  const { outfile } = await buildEnclave({ entry, outfile: join(d, 'sim.mjs') });
  const text = readFileSync(outfile, 'utf8');
  for (const m of SIM_MARKERS) assert.ok(text.includes(m), `sim bundle lacks ${m}`);
});

for (const tee of ['sgx', 'tdx', 'sev-snp'] as const) {
  test(`a ${tee} bundle contains no simulation module or PKI code, and opens its hardware platform`, async () => {
    const d = tmpDir();
    const { outfile } = await buildEnclave({ entry, outfile: join(d, `${tee}.mjs`), tee });
    const text = readFileSync(outfile, 'utf8');
    for (const m of SIM_MARKERS) assert.ok(!text.includes(m), `${tee} bundle contains ${m}`);
    assert.ok(text.includes(tee === 'sgx' ? 'packages/enclave/src/platform/gramine.ts' : 'packages/enclave/src/platform/configfs-tsm.ts'));
    // Without the device it refuses to start (and never falls back to the simulator), whatever the host's env says.
    const r = spawnSync(process.execPath, [outfile], {
      input: '', encoding: 'utf8', timeout: 20_000,
      env: { ...process.env, GEODE_ENCLAVE_DIR: join(d, 'data'), GEODE_TSM_ROOT: join(d, 'no-tsm'), GEODE_GRAMINE_ATTESTATION_DIR: join(d, 'no-dev'), GEODE_SIM_PKI: join(d, 'pki.json') },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /cannot open the platform: .*(configfs-tsm|Gramine)/);
    assert.doesNotMatch(r.stderr, /simulated/);
  });
}

test('a hardware build that reaches simulation code fails and names the file', async () => {
  const d = tmpDir();
  await assert.rejects(buildEnclave({ entry: simImport, outfile: join(d, 'x.mjs'), tee: 'tdx' }), /simulation code in a hardware enclave bundle: packages\/enclave\/src\/platform\/sim\.ts/);
});
