// A newcomer joins from a state snapshot (docs/protocol.md#snapshot, #takeover): after two rotations the oldest epoch's
// key is deleted everywhere, so replaying the history is impossible (rotation.test.ts shows the refusal); the newcomer
// gets the keys by handover and the committed state as a snapshot file the host moves, adopts it only at a root the
// chain proves committed, then processes and commits. The host's moves against it (a modified, truncated, oversized or
// missing file, a root the proven block does not hold, an import that would move an instance back) are refused and
// change nothing; a snapshot older than the committed root is caught up by following the batches since.
import { after, before, test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAbiItem } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { GeodeCoreAbi } from '@geode/contracts';
import { devAccounts } from '@geode/devnet';
import { Follower, committedStateParams, joinByHandover, runHandover, type EnclaveProcess, type HandoverOptions } from '@geode/host';
import { Adversary, createAverage, enclaveDir, expectRefused, quiet, startAdversary, submit } from '../harness/adversary.ts';

let adv: Adversary;
let opts: HandoverOptions;
const spawned: EnclaveProcess[] = [];
const dirs: string[] = [];

before(async () => {
  adv = await startAdversary();
  opts = { chain: adv.stack.chain, payer: privateKeyToAccount(devAccounts(8)[5]!.privateKey), contract: adv.contract, trust: { collateral: adv.stack.pki.collateral() as never, policy: adv.stack.policy } };
  await createAverage(adv, 'pay', ['alice', 'bob', 'carol'], 3);
  await submit(adv, 'bob', { op: 'submit', computation: 'pay', value: 20 });
  assert.ok((await adv.send('requestRotation', [])).ok);
  await adv.honest();
  assert.ok((await adv.send('requestRotation', [])).ok);
  await adv.honest();
  await submit(adv, 'carol', { op: 'submit', computation: 'pay', value: 30 }); // sealed to epoch 2
  await adv.honest();
  const keyed = await adv.stack.enclave.call('status');
  assert.deepEqual([keyed.epoch, keyed.epochBase], ['2', '1'], 'epoch 0 is retired and its key deleted: the history before cannot be replayed');
});

after(async () => {
  for (const e of spawned) await e.stop().catch(() => undefined);
  await adv?.stack.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A new configured enclave process in its own data directory. */
async function newcomer(): Promise<EnclaveProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'geode-join-'));
  dirs.push(dir);
  const e = await adv.spawnEnclave(dir);
  spawned.push(e);
  return e;
}

/** Let `enclave` follow the committed batches (follow.ts) up to the contract's committed root. Returns the batches followed. */
async function catchUp(enclave: EnclaveProcess): Promise<number> {
  const chain = await adv.chainState();
  const head = await adv.head();
  const follower = new Follower({
    chain: adv.stack.chain, contract: adv.contract, enclave, fromBlock: adv.stack.deployment.fromBlock, logger: quiet,
    requests: async (from, to, atBlock) => (await adv.batch(from, to, atBlock)).requests, basis: () => undefined, followed: () => undefined,
  });
  let steps = 0;
  while (await follower.step(head, chain.stateRoot)) steps++;
  assert.deepEqual([(await enclave.call('status')).stateRoot, (await enclave.call('status')).lastSeq], [chain.stateRoot, chain.committedSeq.toString()], 'followed to the committed root');
  return steps;
}

/** Digest of an instance's keys and state databases (not the snapshot file the host hands it). */
const ownFiles = (dir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(dir).filter((f) => !f.startsWith('snapshot-')).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));

test('join from a snapshot after two rotations: the newcomer starts at the committed root, then processes and commits; outcomes match the model', async () => {
  const d = await newcomer();
  const chainBefore = await adv.chainState();
  const t = await joinByHandover(opts, adv.stack.enclave, d);
  assert.ok(t.snapshot, 'the chain has committed state, so a snapshot moved');
  assert.equal(t.snapshot.imported.root, chainBefore.stateRoot);
  const st = await d.call('status');
  assert.deepEqual([st.stateRoot, st.lastSeq, st.epoch, st.epochBase], [chainBefore.stateRoot, chainBefore.committedSeq.toString(), '2', '1'], 'the committed state at epoch 2, with the live seeds only');
  assert.ok(!readdirSync(d.dataDir).some((f) => f.startsWith('snapshot-')), 'the newcomer consumed the file');
  assert.ok(!readdirSync(enclaveDir(adv)).some((f) => f.startsWith('snapshot-')), 'the host moved it out of the keyed instance');
  // The newcomer (alone: the keyed instance's host is stopped) processes and commits the next requests.
  await submit(adv, 'alice', { op: 'submit', computation: 'pay', value: 10 });
  await submit(adv, 'bob', { op: 'result', computation: 'pay' });
  await adv.honest(d);
  await adv.assertHonestHistory();
  const result = (await adv.outputs('bob')).find((o) => o.ok && o.op === 'result');
  assert.deepEqual((result as { result: unknown }).result, { type: 'average', value: 20, count: 3 }, 'the model: (20 + 30 + 10) / 3 over the three participants');
  assert.equal((await d.call('status')).stateRoot, (await adv.chainState()).stateRoot);
});

test('snapshot import: a modified, truncated, oversized or missing file, a root the proven block does not hold, or an import backwards is refused and changes nothing', async () => {
  // The keyed instance is now behind the newcomer of the test above, which committed: it follows first.
  assert.ok((await catchUp(adv.stack.enclave)) > 0);
  const e = await newcomer();
  await runHandover(opts, adv.stack.enclave, e);
  const latest = await committedStateParams(adv.stack.chain, adv.contract, 'latest');
  const { root: _r, ...exportParams } = latest;
  const exported = await adv.stack.enclave.call('stateExport', exportParams);
  const src = join(enclaveDir(adv), exported.file);
  const good = readFileSync(src);
  rmSync(src);
  const dst = join(e.dataDir, exported.file);
  const at = await committedStateParams(adv.stack.chain, adv.contract, BigInt(exported.block));
  const before = { status: await e.call('status'), files: ownFiles(e.dataDir) };
  const unchanged = async () => {
    assert.deepEqual(await e.call('status'), before.status, 'the instance status changed');
    assert.deepEqual(ownFiles(e.dataDir), before.files, 'the keys or the state database changed');
  };
  const attempt = async (code: string, file: Buffer | 'missing' | 'sparse', params = at) => {
    rmSync(dst, { force: true });
    if (file === 'sparse') closeSync(openSync(dst, 'w')), truncateSync(dst, 64 * 2 ** 30 + 1);
    else if (file !== 'missing') writeFileSync(dst, file);
    await expectRefused(e.call('stateImport', params), code);
    await unchanged();
  };
  const flipped = Buffer.from(good);
  const rec = good.lastIndexOf('GSR1'); // a sealed store record's magic (record-seal.ts): flip a bit of its tag
  assert.ok(rec > 0);
  flipped[rec + 4 + 12]! ^= 0x01;
  await attempt('ENCLAVE_SNAPSHOT_INVALID', flipped);
  await attempt('ENCLAVE_SNAPSHOT_INVALID', good.subarray(0, Math.floor(good.length / 2)));
  await attempt('ENCLAVE_SNAPSHOT_INVALID', 'missing');
  await attempt('ENCLAVE_SNAPSHOT_TOO_LARGE', 'sparse');
  await attempt('ENCLAVE_SNAPSHOT_INVALID', Buffer.from('not a database at all, just bytes the host made up'));
  // The right file proven at a block where the contract's root was another one (before the last commitment).
  const early = await committedStateParams(adv.stack.chain, adv.contract, BigInt(exported.block) - 3n);
  assert.notEqual(early.root, exported.root);
  await attempt('ENCLAVE_SNAPSHOT_NOT_COMMITTED', good, { ...early, root: exported.root });
  // The untouched file, proven at its block: adopted; importing it again would not move the instance forward.
  rmSync(dst, { force: true });
  writeFileSync(dst, good);
  const r = await e.call('stateImport', at);
  assert.deepEqual(r, { root: exported.root, lastSeq: exported.lastSeq });
  assert.ok(!existsSync(dst));
  writeFileSync(dst, good);
  const adopted = { status: await e.call('status'), files: ownFiles(e.dataDir) };
  await expectRefused(e.call('stateImport', at), 'ENCLAVE_SNAPSHOT_STALE');
  assert.deepEqual(await e.call('status'), adopted.status);
  assert.deepEqual(ownFiles(e.dataDir), adopted.files);
});

test('snapshot export: only a committed root, only for an accepted measurement; a snapshot older than the committed root is caught up by following', async () => {
  const p = await committedStateParams(adv.stack.chain, adv.contract, 'latest');
  const { root: _r, ...params } = p;
  const keyedBefore = await adv.stack.enclave.call('status');
  await expectRefused(adv.stack.enclave.call('stateExport', { ...params, measurement: `0x${'ab'.repeat(32)}` }), 'ENCLAVE_HANDOVER_MEASUREMENT');
  // An instance holding the keys, proven at the block before the first commitment (session active, stateRoot zero).
  const f = await newcomer();
  await runHandover(opts, adv.stack.enclave, f);
  const first = (await adv.pub.getLogs({ address: adv.contract, event: getAbiItem({ abi: GeodeCoreAbi, name: 'BatchCommitted' }), fromBlock: 0n, toBlock: 'latest' }))[0]!;
  const { root: zero, ...empty } = await committedStateParams(adv.stack.chain, adv.contract, first.blockNumber! - 1n);
  assert.equal(BigInt(zero), 0n);
  await expectRefused(f.call('stateExport', empty), 'ENCLAVE_SNAPSHOT_NOT_COMMITTED');
  assert.deepEqual(await adv.stack.enclave.call('status'), keyedBefore, 'a refused export changes nothing');
  // An export now; then two more batches are committed before the newcomer imports it.
  const exported = await adv.stack.enclave.call('stateExport', params);
  assert.deepEqual(await adv.stack.enclave.call('status'), keyedBefore, 'exporting changes nothing in the keyed instance');
  copyFileSync(join(enclaveDir(adv), exported.file), join(f.dataDir, exported.file));
  rmSync(join(enclaveDir(adv), exported.file));
  await submit(adv, 'carol', { op: 'result', computation: 'pay' });
  await adv.honest();
  await submit(adv, 'alice', { op: 'result', computation: 'pay' });
  await adv.honest();
  const chain = await adv.chainState();
  assert.ok(chain.committedSeq > BigInt(exported.lastSeq));
  await f.call('stateImport', await committedStateParams(adv.stack.chain, adv.contract, BigInt(exported.block)));
  assert.equal(await catchUp(f), 2, 'the two batches committed since the snapshot, not the history');
});
