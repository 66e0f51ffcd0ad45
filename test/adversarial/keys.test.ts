// Adversarial host vs. the enclave's key material (issue 7 item 5): delete only keys.sealed, keep the state files,
// restart and handshake again, to re-draw ctx.random and the output keys for an uncommitted batch from the same
// committed root. The state is bound to its keys (docs/security.md#state-is-bound-to-its-keys): the new keys are
// refused on-chain while anything is pending, and even where the admin may re-key (nothing pending) the new keys
// cannot open or continue the old state. Losing keys.sealed is an availability loss; this file ends with the
// deployment stranded on purpose, so it runs on its own stack.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Result } from '@geode/protocol';
import { Host } from '@geode/host';
import { Adversary, quiet, copyDir, createAverage, enclaveDir, expectRefused, restoreDir, startAdversary, submit } from '../harness/adversary.ts';

let adv: Adversary;
let dir: string;
const copies: string[] = [];
/** The first processing of the pending batch, with the original keys. */
let held: Result<'processBatch'>;

before(async () => {
  adv = await startAdversary();
  dir = enclaveDir(adv);
  await createAverage(adv, 'keys', ['alice', 'bob', 'carol'], 2);
  assert.ok((await adv.commit(await adv.process(adv.stack.enclave, await adv.pending()))).ok);
  await submit(adv, 'alice', { op: 'submit', computation: 'keys', value: 2 });
  await submit(adv, 'bob', { op: 'submit', computation: 'keys', value: 4 });
  held = await adv.process(adv.stack.enclave, await adv.pending());
});

after(async () => {
  await adv?.stack.stop();
  for (const c of copies) rmSync(c, { recursive: true, force: true });
});

/** Kill the enclave, delete keys.sealed only (state files stay), start it again. */
async function restartWithoutKeys(): Promise<void> {
  await adv.stack.enclave.kill();
  rmSync(join(dir, 'keys.sealed'));
  assert.ok(existsSync(dir));
  adv.stack.enclave.start();
  await adv.stack.enclave.call('init', { config: adv.stack.deployment.config });
}

test('keys.sealed deleted with a batch in flight: the state does not open, the new keys are refused on-chain (RequestsPending)', async () => {
  const withKeys = copyDir(dir);
  copies.push(withKeys);
  const before = await adv.chainState();
  await restartWithoutKeys();
  const st = await adv.stack.enclave.call('status');
  assert.equal(st.lastSeq, '0', 'the state files, sealed under the lost keys, are not loaded');
  const hs = await adv.tryHandshake(adv.stack.enclave); // the admin itself, with an attested quote
  assert.deepEqual(!hs.ok && hs.error, 'RequestsPending');
  assert.equal((await adv.chainState()).activeSessionId, before.activeSessionId);
  const snap = await adv.snapshot(adv.stack.enclave, dir);
  await expectRefused(adv.process(adv.stack.enclave, await adv.pending()), 'ENCLAVE_SESSION_MISMATCH');
  await adv.assertUnchanged(snap, adv.stack.enclave, dir);
  // The honest host, given this enclave, does not try to re-key over the committed state: it asks for the backup.
  const host = new Host({ chain: adv.stack.chain, operator: adv.operator, contract: adv.contract, config: adv.stack.deployment.config, enclave: adv.stack.enclave, fromBlock: adv.stack.deployment.fromBlock, logger: quiet });
  await assert.rejects(host.ensureSession(), (e: { code?: string }) => e.code === 'HOST_KEYS_LOST');
  assert.equal((await adv.chainState()).activeSessionId, before.activeSessionId);
  // The host's copy of keys.sealed brings the same keys back: the same batch gives the same outcome, and it lands.
  await adv.restartWith(adv.stack.enclave, dir, withKeys);
  const again = await adv.process(adv.stack.enclave, await adv.pending());
  assert.deepEqual(await adv.outcome(again), await adv.outcome(held));
  assert.ok((await adv.commit(again)).ok);
});

test('re-keyed by the admin with nothing pending: the new keys cannot continue the old state (ENCLAVE_KEYS_MISMATCH); the deployment is stranded', async () => {
  const oldKeys = copyDir(dir);
  copies.push(oldKeys);
  const committed = await adv.chainState();
  assert.equal(committed.committedSeq, committed.requestCount);
  await restartWithoutKeys();
  const hs = await adv.tryHandshake(adv.stack.enclave);
  assert.ok(hs.ok, 'the admin may re-key while nothing is pending');
  await adv.rebindClients();
  await submit(adv, 'carol', { op: 'submit', computation: 'keys', value: 12 });
  const snap = await adv.snapshot(adv.stack.enclave, dir);
  // The committed root is a state of the old key lineage: its file is tagged with the old keyId and sealed under
  // the old keys. The new keys never draw a second outcome from it.
  await expectRefused(adv.process(adv.stack.enclave, await adv.pending()), 'ENCLAVE_KEYS_MISMATCH');
  await adv.assertUnchanged(snap, adv.stack.enclave, dir);
  // And the old keys cannot come back while carol's request is pending (they would draw under another session).
  restoreDir(join(dir, '..', 'enclave-old'), oldKeys);
  copies.push(join(dir, '..', 'enclave-old'));
  const oldEnclave = await adv.spawnEnclave(join(dir, '..', 'enclave-old'));
  try {
    const back = await adv.tryHandshake(oldEnclave);
    assert.deepEqual(!back.ok && back.error, 'RequestsPending');
  } finally {
    await oldEnclave.stop();
  }
  assert.equal((await adv.chainState()).committedSeq, committed.committedSeq, 'availability lost, nothing committed from the old root');
});
