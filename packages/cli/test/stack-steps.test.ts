// startDevStack is the Quartz-style steps run in sequence (docs/cli.md#steps): it leaves in its data dir exactly the
// files `geode deploy` and `geode enclave start` write, its host answers on the steps' control endpoint, and the
// step functions read its deployment back (status verifies the session, the enclave runs, the host relays).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startDevStack } from '../src/stack.ts';
import { readDeployment, status } from '../src/steps.ts';

test('startDevStack composes the steps: deployment.json, operator key, sim PKI and control endpoint in its data dir', { timeout: 240_000 }, async () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'geode-stack-steps-')), 'data');
  const stack = await startDevStack({ dataDir, logger: pino({ level: 'silent' }) });
  try {
    assert.deepEqual(readdirSync(dataDir).sort(), ['control.json', 'deployment.json', 'enclave', 'operator-key.json', 'sim-pki.json']);
    for (const f of ['control.json', 'deployment.json', 'operator-key.json', 'sim-pki.json']) assert.equal(statSync(join(dataDir, f)).mode & 0o777, 0o600, f);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    const d = readDeployment(dataDir);
    assert.deepEqual(
      [d.app, d.contract, d.configHash, d.fromBlock, d.measurement, d.rpcUrl],
      [stack.app.dir, stack.deployment.contract, stack.deployment.configHash, stack.deployment.fromBlock.toString(), stack.measurement, ''],
      'the embedded devnet serves no JSON-RPC here: rpcUrl is empty and the steps run on the in-process chain',
    );
    const health = await (await fetch(`${stack.controlUrl}/health`)).json() as { enclave: { running: boolean; pid: number }; host: { relaying: boolean } };
    assert.deepEqual([health.enclave.running, health.enclave.pid, health.host.relaying], [true, stack.enclave.pid, true]);
    // status() over a served endpoint: the same function `geode status --data-dir` runs.
    const served = await startDevStack({ servePort: 0, logger: pino({ level: 'silent' }) });
    try {
      const r = await status(readDeployment(served.dataDir), served.dataDir);
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(readDeployment(served.dataDir).rpcUrl, served.server!.url);
    } finally {
      await served.stop();
    }
    assert.equal(existsSync(served.dataDir), false, 'a stack without --data-dir removes its temp data dir');
  } finally {
    await stack.stop();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  }
});
