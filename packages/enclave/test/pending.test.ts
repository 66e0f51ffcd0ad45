// Working ahead of the chain (pending.ts, docs/protocol.md#pipelining): the enclave processes batch k+1 while its
// commitment k has not landed, only on a chain of its own commitments from the proven position, and falls back to
// the proven state when one of them fails to land.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keccak256, type Hex } from 'viem';
import { ROOT_ZERO } from '@geode/protocol';
import { chooseBatchBase, MAX_PENDING_COMMITMENTS, type PendingCommitment } from '../src/pending.ts';
import type { EnclaveRuntime } from '../src/index.ts';
import { counterApp } from './fixtures/counter-app.ts';
import { User, batchParams, setup, type FakeChain } from './helpers.ts';

type BatchResult = { from: string; to: string; accTo: Hex; prevRoot: Hex; newRoot: Hex; outputs: Hex; signature: Hex };

const R = (s: string): Hex => keccak256(`0x${Buffer.from(s).toString('hex')}`);

test('chooseBatchBase: head when proven, head through own pending commitments, proven otherwise, depth capped', () => {
  const c1: PendingCommitment = { from: 1n, to: 3n, prevRoot: ROOT_ZERO, newRoot: R('a') };
  const c2: PendingCommitment = { from: 4n, to: 5n, prevRoot: R('a'), newRoot: R('b') };
  const head = { lastSeq: 5n, root: R('b') };
  // 1. Everything landed.
  assert.deepEqual(chooseBatchBase([c1, c2], { committedSeq: 5n, stateRoot: R('b') }, head, 6n), { kind: 'head', pending: [] });
  // 2. c1 landed, c2 in flight: continue on the head, c2 still pending.
  assert.deepEqual(chooseBatchBase([c1, c2], { committedSeq: 3n, stateRoot: R('a') }, head, 6n), { kind: 'head', pending: [c2] });
  // 3. A root at c1's end that is not c1's (another instance's commitment landed there): proven.
  assert.deepEqual(chooseBatchBase([c1, c2], { committedSeq: 3n, stateRoot: R('x') }, head, 6n), { kind: 'proven' });
  // 3. Re-run from the committed position after c2 failed: proven.
  assert.deepEqual(chooseBatchBase([c1, c2], { committedSeq: 3n, stateRoot: R('a') }, head, 4n), { kind: 'proven' });
  // 3. Nothing pending (fresh process): proven.
  assert.deepEqual(chooseBatchBase([], { committedSeq: 3n, stateRoot: R('a') }, head, 6n), { kind: 'proven' });
  // Depth: with MAX_PENDING_COMMITMENTS - 1 pending a batch may still be added, with MAX not.
  assert.equal(MAX_PENDING_COMMITMENTS, 3);
  assert.deepEqual(chooseBatchBase([c1, c2], { committedSeq: 0n, stateRoot: ROOT_ZERO }, head, 6n), { kind: 'head', pending: [c1, c2] });
  const c3: PendingCommitment = { from: 6n, to: 6n, prevRoot: R('b'), newRoot: R('c') };
  assert.throws(() => chooseBatchBase([c1, c2, c3], { committedSeq: 0n, stateRoot: ROOT_ZERO }, { lastSeq: 6n, root: R('c') }, 7n), { code: 'ENCLAVE_SEQ_MISMATCH' });
});

/** Two users with output keys, then `n` private increments; nothing processed yet. */
async function scenario(n: number) {
  const ctx = await setup(counterApp);
  const alice = await User.make('alice');
  const bob = await User.make('bob');
  ctx.chain.submit(alice.address, alice.registerPayload());
  ctx.chain.submit(bob.address, bob.registerPayload());
  for (let i = 0; i < n; i++) ctx.chain.submit((i % 2 ? bob : alice).address, await (i % 2 ? bob : alice).privatePayload(ctx.keys.encPubKey, 1n, { op: 'inc', by: i + 1 }));
  return { ...ctx, alice, bob };
}

const run = async (rt: EnclaveRuntime, chain: FakeChain, from: number, to: number) => (await rt.handle('processBatch', (await batchParams(chain, from, to)).params)) as BatchResult;

const files = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));

test('working ahead: batch 2 is processed before commitment 1 lands, chained on it, identical to the serial result', async () => {
  // Batch 2's proof shows committedSeq 0: commitment 1 is still in flight.
  const p = await scenario(4);
  const rt = p.rt;
  const p1 = await run(rt, p.chain, 1, 3);
  const p2 = await run(rt, p.chain, 4, 6);
  assert.equal(p2.prevRoot, p1.newRoot, 'commitment 2 builds on commitment 1');
  // The serial path (commitment 1 landed, batch 2 run from its sealed state) gives the same commitment.
  p.chain.commit(3n, p1.newRoot);
  assert.deepEqual(await run(rt, p.chain, 4, 6), p2, 'same state, outputs and signature as processing after commitment 1 landed');
  // Commitment 2 in flight: batch 3 chains on it; then both land and the enclave is back at a committed position.
  p.chain.submit(p.alice.address, await p.alice.privatePayload(p.keys.encPubKey, 1n, { op: 'inc' }));
  const p3 = await run(rt, p.chain, 7, 7); // proof: committedSeq 3 = commitment 2's start
  assert.equal(p3.prevRoot, p2.newRoot);
  p.chain.commit(6n, p2.newRoot);
  p.chain.commit(7n, p3.newRoot);
  p.chain.submit(p.alice.address, await p.alice.privatePayload(p.keys.encPubKey, 1n, { op: 'inc' }));
  const p4 = await run(rt, p.chain, 8, 8);
  assert.equal(p4.prevRoot, p3.newRoot);
});

test('working ahead: a commitment that never lands (dropped, reverted) is re-run from the proven state with the same result', async () => {
  const p = await scenario(4);
  const rt = p.rt;
  const p1 = await run(rt, p.chain, 1, 3);
  const p2 = await run(rt, p.chain, 4, 6);
  // Commitment 1 was dropped: the host re-sends batch 1 at the chain's position (committedSeq 0, root 0).
  const again1 = await run(rt, p.chain, 1, 3);
  assert.deepEqual(again1, p1, 'deterministic re-run');
  // The pending chain restarted at batch 1: batch 2 may be processed ahead again, with the same result.
  const again2 = await run(rt, p.chain, 4, 6);
  assert.deepEqual(again2, p2);
  // Commitment 1 lands, commitment 2 is dropped: re-run batch 2 from the sealed state of commitment 1.
  p.chain.commit(3n, p1.newRoot);
  assert.deepEqual(await run(rt, p.chain, 4, 6), p2);
});

test('working ahead: at most MAX_PENDING_COMMITMENTS - 1 pending commitments; refused batches change nothing', async () => {
  const p = await scenario(4);
  const rt = p.rt;
  await run(rt, p.chain, 1, 2);
  await run(rt, p.chain, 3, 4);
  await run(rt, p.chain, 5, 5);
  const st = async () => ({ status: await rt.handle('status', {}), files: files(p.dataDir) });
  const before = await st();
  await assert.rejects(run(rt, p.chain, 6, 6), { code: 'ENCLAVE_SEQ_MISMATCH' });
  const after = await st();
  assert.deepEqual(after.status, before.status, 'state, root and trusted block unchanged');
  assert.deepEqual(after.files, before.files, 'no sealed file written or pruned');
  // A root this enclave never produced where a pending commitment starts (another instance's commitment landed
  // there): not a continuation of the pending chain, and no sealed state for it.
  p.chain.commit(2n, keccak256('0xdead'));
  await assert.rejects(run(rt, p.chain, 6, 6), { code: 'ENCLAVE_STALE_STATE' });
  await assert.rejects(run(rt, p.chain, 3, 4), { code: 'ENCLAVE_STALE_STATE' });
});
