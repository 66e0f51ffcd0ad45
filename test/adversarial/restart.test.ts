// Adversarial host vs. enclave restarts and sealed state: the rewind attack from Conclave's EventManager sample
// (restart with older or no sealed state and replay the inputs without one submission), a crash between
// processing and committing, two instances on the same sealed state (grinding), and an empty data dir.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Result } from '@geode/protocol';
import {
  Adversary, copyDir, createAverage, enclaveDir, expectRefused, startAdversary, submit, type Name,
} from '../harness/adversary.ts';

let adv: Adversary;
let dir: string;
/** Sealed data dir copied before alice's `result` locked the computation. */
let preLock: string;
/** The commitment of the batch holding alice's `result` (the lock), as it landed. */
let lockCommit: Result<'processBatch'>;
const seq = { aliceResult: 0n, carolSubmit: 0n, bobResult: 0n };
const copies: string[] = [];
const P = ['alice', 'bob', 'carol'] as Name[];

before(async () => {
  adv = await startAdversary();
  dir = enclaveDir(adv);
  // EventManager's scenario: alice and bob submit 2 and 4 to a quorum-2 average, alice's `result` locks it at 3.
  await createAverage(adv, 'rewind', P, 2);
  await submit(adv, 'alice', { op: 'submit', computation: 'rewind', value: 2 });
  await submit(adv, 'bob', { op: 'submit', computation: 'rewind', value: 4 });
  assert.ok((await adv.commit(await adv.process(adv.stack.enclave, await adv.pending()))).ok);
  preLock = copyDir(dir);
  copies.push(preLock);
  seq.aliceResult = await submit(adv, 'alice', { op: 'result', computation: 'rewind' });
  lockCommit = await adv.process(adv.stack.enclave, await adv.pending());
  assert.ok((await adv.commit(lockCommit)).ok);
  // Then carol submits 12 and bob asks for the result: on a rewound enclave that forgot the lock, bob would get
  // (2 + 4 + 12) / 3 = 6 and learn carol's input.
  seq.carolSubmit = await submit(adv, 'carol', { op: 'submit', computation: 'rewind', value: 12 });
  seq.bobResult = await submit(adv, 'bob', { op: 'result', computation: 'rewind' });
});

after(async () => {
  await adv?.stack.stop();
  for (const c of copies) rmSync(c, { recursive: true, force: true });
});

test('rewind (Conclave EventManager): restart with older or no sealed state and replay without alice\'s result', async () => {
  const latest = copyDir(dir);
  copies.push(latest);
  const enclave = adv.stack.enclave;
  // 1. Older sealed state (copied before the lock), proofs from the latest block.
  await adv.restartWith(enclave, dir, preLock);
  assert.equal((await enclave.call('status')).lastSeq, (seq.aliceResult - 1n).toString());
  let snap = await adv.snapshot(enclave, dir);
  await expectRefused(adv.process(enclave, await adv.batch(seq.carolSubmit, seq.bobResult)), 'ENCLAVE_STALE_STATE');
  await expectRefused(adv.process(enclave, await adv.batch(seq.aliceResult, seq.bobResult)), 'ENCLAVE_STALE_STATE');
  await adv.assertUnchanged(snap, enclave, dir);
  // 2. Older sealed state and a proof from before the lock landed (the restarted light client re-anchors at
  //    genesis, so an old header verifies): committedSeq and stateRoot match the old state, but the log is the log.
  const oldBlock = await findBlock(adv, (s) => s.committedSeq === seq.aliceResult - 1n && s.requestCount === seq.aliceResult);
  // Omitting alice's result: the batch must start right after the state's lastSeq...
  await expectRefused(adv.process(enclave, await adv.batch(seq.carolSubmit, seq.carolSubmit, oldBlock)), 'ENCLAVE_SEQ_MISMATCH');
  // ...renumbering carol's submission into alice's slot breaks the accumulator...
  const b = await adv.batch(seq.aliceResult, seq.aliceResult, oldBlock);
  const log = await adv.log();
  await expectRefused(adv.process(enclave, { ...b, requests: [{ ...log.get(seq.carolSubmit)!, seq: seq.aliceResult.toString() }] }), 'ENCLAVE_ACCUMULATOR_MISMATCH');
  // ...and requests submitted after that block are not in its proven log.
  await expectRefused(adv.process(enclave, await adv.batch(seq.aliceResult, seq.bobResult, oldBlock)), 'ENCLAVE_SEQ_MISMATCH');
  await adv.assertUnchanged(snap, enclave, dir);
  // The only batch that block admits is alice's result itself: the enclave recomputes the very same lock,
  // byte for byte, and the contract refuses the duplicate.
  const again = await adv.process(enclave, b);
  assert.deepEqual(again, lockCommit);
  assert.deepEqual(await adv.commit(again), { ok: false, error: 'UnexpectedBatchStart' });
  // 3. No sealed state at all: no keys, nothing to process with.
  await adv.restartWith(enclave, dir, null);
  snap = await adv.snapshot(enclave, dir);
  await expectRefused(adv.process(enclave, await adv.batch(seq.carolSubmit, seq.bobResult)), 'ENCLAVE_NO_SESSION');
  await expectRefused(adv.process(enclave, await adv.batch(seq.aliceResult, seq.aliceResult, oldBlock)), 'ENCLAVE_NO_SESSION');
  await adv.assertUnchanged(snap, enclave, dir);
  // Back to the latest sealed state: the honest host resumes; carol's late submission is refused (locked) and bob
  // gets the locked 3.
  await adv.restartWith(enclave, dir, latest);
  await adv.honest();
  const bob = (await adv.outputs('bob')).find((o) => BigInt(o.seq) === seq.bobResult)!;
  assert.deepEqual(bob.ok && bob.result, { type: 'average', value: 3, count: 2 });
  const carol = (await adv.outputs('carol')).find((o) => BigInt(o.seq) === seq.carolSubmit)!;
  assert.equal(!carol.ok && carol.error.code, 'APP_LOCKED');
});

test('crash between processing and committing: the restarted enclave reproduces the identical commitment', async () => {
  const s1 = await submit(adv, 'carol', { op: 'result', computation: 'rewind' });
  const p = await adv.pending();
  assert.equal(p.from, s1);
  const first = await adv.process(adv.stack.enclave, p);
  await adv.restartWith(adv.stack.enclave, dir); // latest sealed state: it already holds the uncommitted result
  assert.equal((await adv.stack.enclave.call('status')).stateRoot, first.newRoot);
  const again = await adv.process(adv.stack.enclave, await adv.pending());
  assert.deepEqual(again, first);
  assert.ok((await adv.commit(again)).ok);
  assert.deepEqual(await adv.commit(first), { ok: false, error: 'UnexpectedBatchStart' });
});

test('grinding: two instances on the same sealed state produce the same root and outputs; only one commitment lands', async () => {
  const s1 = await submit(adv, 'alice', { op: 'result', computation: 'rewind' });
  const s2 = await submit(adv, 'bob', { op: 'submit', computation: 'rewind', value: 1000 });
  const twinDir = copyDir(dir);
  copies.push(twinDir);
  const twin = await adv.spawnEnclave(twinDir);
  try {
    const p = await adv.pending();
    const a = await adv.process(adv.stack.enclave, p);
    const b = await adv.process(twin, p);
    assert.deepEqual(b, a, 'deterministic: same newRoot, outputs and signature');
    // A different split of the same requests: same state after s1, same outputs for s1.
    const split = await adv.process(twin, await adv.batch(s1, s1));
    assert.equal(split.to, s1.toString());
    const landed = await adv.commit(split);
    assert.ok(landed.ok);
    assert.deepEqual(await adv.commit(a), { ok: false, error: 'UnexpectedBatchStart' });
    assert.deepEqual(await adv.commit(b), { ok: false, error: 'UnexpectedBatchStart' });
    // The first instance never sealed the root the twin committed: it refuses to continue from it (it only ever
    // processes from a state it holds whose root the chain proves).
    const snap = await adv.snapshot(adv.stack.enclave, dir);
    await expectRefused(adv.process(adv.stack.enclave, await adv.batch(s2, s2)), 'ENCLAVE_STALE_STATE');
    await adv.assertUnchanged(snap, adv.stack.enclave, dir);
    const rest = await adv.process(twin, await adv.batch(s2, s2));
    assert.equal(rest.newRoot, a.newRoot, 'either split ends in the same state');
    assert.ok((await adv.commit(rest)).ok);
    assert.deepEqual(await adv.commit(a), { ok: false, error: 'UnexpectedBatchStart' });
  } finally {
    await twin.stop();
  }
  const alice = (await adv.outputs('alice')).find((o) => BigInt(o.seq) === s1)!;
  assert.deepEqual(alice.ok && alice.result, { type: 'average', value: 3, count: 2 });
});

test('a fresh enclave (empty data dir) cannot take over: its new keys are refused on-chain (RequestsPending), the working session stays', async () => {
  const saved = copyDir(dir);
  copies.push(saved);
  const enclave = adv.stack.enclave;
  const s = await submit(adv, 'carol', { op: 'result', computation: 'rewind' });
  const active = (await adv.chainState()).activeSessionId;
  await adv.restartWith(enclave, dir, null);
  // Attested, sent by the admin itself: still refused while a request awaits processing, since the old keys may
  // already have processed it (one outcome per batch). An outsider would get NotAdmin (handshake.test.ts).
  const hs = await adv.tryHandshake(enclave);
  assert.deepEqual(!hs.ok && hs.error, 'RequestsPending');
  assert.equal((await adv.chainState()).activeSessionId, active, 'the working session is not displaced');
  const snap = await adv.snapshot(enclave, dir);
  await expectRefused(adv.process(enclave, await adv.batch(s, s)), 'ENCLAVE_SESSION_MISMATCH');
  await adv.assertUnchanged(snap, enclave, dir);
  // Restoring the sealed dir (same keys) restores service, and carol's request, sealed to the working session, is
  // processed normally (before the fix it was lost as ENCLAVE_DECRYPT to the displaced session).
  await adv.restartWith(enclave, dir, saved);
  await adv.honest();
  const out = (await adv.outputs('carol')).find((o) => BigInt(o.seq) === s)!;
  assert.deepEqual(out.ok && out.result, { type: 'average', value: 3, count: 2 });
});

test('honest host afterwards: exactly once, in chain order; every participant got the same locked result', async () => {
  for (const who of P) await submit(adv, who, { op: 'result', computation: 'rewind' });
  await adv.honest();
  await adv.assertHonestHistory();
  for (const who of P) {
    const results = (await adv.outputs(who)).filter((o) => o.ok && o.op === 'result');
    assert.ok(results.length >= 2, who);
    for (const r of results) assert.deepEqual(r.ok && r.result, { type: 'average', value: 3, count: 2 }, who);
  }
});

async function findBlock(a: Adversary, pred: (s: Awaited<ReturnType<Adversary['chainState']>>) => boolean): Promise<bigint> {
  const head = await a.head();
  for (let n = head; n > 0n; n--) if (pred(await a.chainState(n))) return n;
  throw new Error('no such block');
}
