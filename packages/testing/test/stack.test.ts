// startAppStack: a running app (devnet, deployment, attested enclave, host) with verified clients whose output keys
// are registered, for any app folder; stops cleanly; refuses a folder that is not an app before starting anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transfersSpec, decodeTransfersOutput } from '@geode/app-transfers';
import { startAppStack } from '../src/stack.ts';

const TRANSFERS = fileURLToPath(new URL('../../../apps/transfers', import.meta.url));

test('startAppStack(apps/transfers): alice\'s private balance query is answered to alice; stop() ends it (twice is fine)', { timeout: 300_000 }, async () => {
  const s = await startAppStack(TRANSFERS, { identities: ['alice'] });
  try {
    assert.equal(s.app.name, 'transfers');
    assert.deepEqual(Object.keys(s.clients), ['alice']);
    assert.equal(s.session.measurement, s.stack.measurement, 'the clients trust the measured bundle');
    const alice = s.clients.alice!;
    const { seq } = await alice.submit(transfersSpec.encodePrivate('balance', {}));
    const outs = await alice.waitForOutputs(seq, { fromBlock: s.fromBlock });
    assert.deepEqual(outs.map((o) => o.kind), ['message']);
    const all = await alice.readOutputs(s.fromBlock);
    const mine = all.map((o) => decodeTransfersOutput(o.plaintext));
    assert.deepEqual(mine, [null, { seq: seq.toString(), ok: true, message: { op: 'balance', balance: '0' } }], 'the registration ack, then the answer');
  } finally {
    await s.stop();
    await s.stop();
  }
  assert.equal(await s.stack.chain.publicClient.getBlockNumber().then(() => 'up', () => 'down'), 'down', 'the devnet is closed');
});

test('startAppStack refuses a folder that is not an app (CLI_BAD_APP) before starting anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geode-not-an-app-'));
  try {
    await assert.rejects(startAppStack(dir), (e: { code?: string }) => e.code === 'CLI_BAD_APP');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
