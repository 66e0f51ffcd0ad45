import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getAddress, type Address } from 'viem';
import { canonicalJson } from '@geode/protocol';
import { computationsApp } from '../src/enclave/app.ts';
import { CREATE_KIND, type Output } from '../src/index.ts';
import { ALICE, BOB, CAROL, DAVE, EVE, create, harness, ok, publicRaw, refused, send, sendRaw, single, state } from './requests.ts';
import type { Emitted } from '@geode/testing';

const enc = new TextEncoder();
const P3 = [ALICE, BOB, CAROL];

// ---------------------------------------------------------------- creation

test('create: stores name, type, lowercased participants, quorum and creator; acknowledges the creator', async () => {
  const h = harness();
  const out = ok(await create(h, EVE, 'salaries', 'average', [getAddress(ALICE), getAddress(BOB), CAROL], 2));
  assert.deepEqual(out, [{ to: EVE, out: { seq: '1', op: 'create', computation: 'salaries', ok: true, result: { type: 'accepted' } } }]);
  const rec = (await state(h)).computations['salaries']!;
  assert.equal(rec.name, 'salaries');
  assert.equal(rec.type, 'average');
  assert.deepEqual(rec.participants, [ALICE, BOB, CAROL]);
  assert.equal(rec.quorum, 2);
  assert.equal(rec.creator, EVE);
  assert.equal(rec.locked, false);
  assert.equal(rec.result, null);
  for (const [i, t] of (['average', 'max', 'min', 'keyMatcher'] as const).entries()) {
    ok(await create(h, EVE, `c${i}`, i, P3, 1));
    assert.equal((await state(h)).computations[`c${i}`]!.type, t);
  }
});

test('create: a duplicate name is refused with APP_ALREADY_EXISTS and the original is kept', async () => {
  const h = harness();
  ok(await create(h, ALICE, 'dup', 'max', P3, 2));
  refused(await create(h, BOB, 'dup', 'min', [BOB, CAROL], 1), 'APP_ALREADY_EXISTS');
  assert.equal((await state(h)).computations['dup']!.type, 'max');
  assert.equal((await state(h)).computations['dup']!.creator, ALICE);
});

test('create: invalid parameters are refused defensively with APP_INVALID_VALUE', async () => {
  const h = harness();
  refused(await create(h, ALICE, 'one', 'average', [ALICE], 1), 'APP_INVALID_VALUE');
  refused(await create(h, ALICE, 'dups', 'average', [ALICE, ALICE], 1), 'APP_INVALID_VALUE');
  refused(await create(h, ALICE, 'zero', 'average', [ALICE, '0x0000000000000000000000000000000000000000'], 1), 'APP_INVALID_VALUE');
  refused(await create(h, ALICE, 'q0', 'average', P3, 0), 'APP_INVALID_VALUE');
  refused(await create(h, ALICE, 'q4', 'average', P3, 4), 'APP_INVALID_VALUE');
  refused(await create(h, ALICE, 'qhuge', 'average', P3, 2n ** 255n), 'APP_INVALID_VALUE');
  refused(await create(h, ALICE, '', 'average', P3, 1), 'APP_INVALID_VALUE');
  refused(await create(h, ALICE, 'é'.repeat(33), 'average', P3, 1), 'APP_INVALID_VALUE'); // 66 bytes
  ok(await create(h, ALICE, 'é'.repeat(32), 'average', P3, 1)); // 64 bytes
  refused(await create(h, ALICE, 'ctype', 4, P3, 1), 'APP_INVALID_VALUE');
  const many = Array.from({ length: 257 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}` as Address);
  refused(await create(h, ALICE, 'many', 'average', many, 1), 'APP_INVALID_VALUE');
  ok(await create(h, ALICE, 'max256', 'average', many.slice(0, 256), 256));
  assert.deepEqual(Object.keys((await state(h)).computations).sort(), ['max256', 'é'.repeat(32)].sort());
});

test('create: an unknown public kind or an undecodable body is APP_BAD_REQUEST', async () => {
  const h = harness();
  refused(await publicRaw(h, ALICE, 'computations.delete', new Uint8Array(0)), 'APP_BAD_REQUEST');
  refused(await publicRaw(h, ALICE, CREATE_KIND, new Uint8Array([1, 2, 3])), 'APP_BAD_REQUEST');
  assert.deepEqual(await state(h), { computations: {} });
});

test('names such as __proto__ and constructor are ordinary computations (no prototype pollution)', async () => {
  const h = harness();
  ok(await create(h, ALICE, '__proto__', 'average', P3, 1));
  ok(await create(h, ALICE, 'constructor', 'keyMatcher', P3, 1));
  assert.equal(Object.getPrototypeOf((await state(h)).computations), Object.prototype);
  assert.deepEqual(Object.keys((await state(h)).computations).sort(), ['__proto__', 'constructor']);
  refused(await send(h, ALICE, { op: 'result', computation: 'toString' }), 'APP_DOES_NOT_EXIST');
  refused(await send(h, ALICE, { op: 'result', computation: 'hasOwnProperty' }), 'APP_DOES_NOT_EXIST');
  ok(await send(h, ALICE, { op: 'submit', computation: '__proto__', value: 7 }));
  assert.deepEqual(single(await send(h, BOB, { op: 'result', computation: '__proto__' }), BOB), { type: 'average', value: 7, count: 1 });
  ok(await send(h, ALICE, { op: 'submitKey', computation: 'constructor', key: '__proto__', message: 'm' }));
  assert.equal(({} as Record<string, unknown>)['value'], undefined);
  // survives a restart through JSON
  const r = await h.restart();
  assert.deepEqual(single(await send(r, CAROL, { op: 'result', computation: '__proto__' }), CAROL), { type: 'average', value: 7, count: 1 });
});

test('the empty store is the initial state: no computations, plain JSON; the namespace is the app name', async () => {
  const a = await state(harness());
  assert.equal(canonicalJson(a), '{"computations":{}}');
  assert.equal(computationsApp.name, 'computations');
});

// ---------------------------------------------------------------- submit

test('submit: acknowledged to the sender only, with seq and op', async () => {
  const h = harness();
  ok(await create(h, EVE, 'avg', 'average', P3, 2));
  const out = ok(await send(h, ALICE, { op: 'submit', computation: 'avg', value: 42.5 }));
  assert.deepEqual(out, [{ to: ALICE, out: { seq: '2', op: 'submit', computation: 'avg', ok: true, result: { type: 'accepted' } } }]);
});

test('submit: APP_DOES_NOT_EXIST, APP_NOT_AUTHORISED (also for the non-participant creator)', async () => {
  const h = harness();
  refused(await send(h, ALICE, { op: 'submit', computation: 'nope', value: 1 }), 'APP_DOES_NOT_EXIST');
  ok(await create(h, EVE, 'avg', 'average', P3, 2));
  refused(await send(h, DAVE, { op: 'submit', computation: 'avg', value: 1 }), 'APP_NOT_AUTHORISED');
  refused(await send(h, EVE, { op: 'submit', computation: 'avg', value: 1 }), 'APP_NOT_AUTHORISED');
  refused(await send(h, EVE, { op: 'result', computation: 'avg' }), 'APP_NOT_AUTHORISED');
  refused(await send(h, DAVE, { op: 'submitKey', computation: 'avg', key: 'k', message: '' }), 'APP_NOT_AUTHORISED');
});

test('submit: the value must be a finite JSON number (APP_INVALID_VALUE)', async () => {
  const h = harness();
  ok(await create(h, EVE, 'avg', 'average', P3, 1));
  refused(await sendRaw(h, ALICE, { op: 'submit', computation: 'avg', value: '12' }), 'APP_INVALID_VALUE');
  refused(await sendRaw(h, ALICE, { op: 'submit', computation: 'avg' }), 'APP_INVALID_VALUE');
  refused(await sendRaw(h, ALICE, { op: 'submit', computation: 'avg', value: null }), 'APP_INVALID_VALUE');
  refused(await sendRaw(h, ALICE, enc.encode('{"op":"submit","computation":"avg","value":1e999}')), 'APP_INVALID_VALUE');
  refused(await sendRaw(h, ALICE, { op: 'submit', computation: 'avg', value: 1, extra: true }), 'APP_INVALID_VALUE');
  assert.deepEqual((await state(h)).computations['avg']!.submissions, {});
  ok(await sendRaw(h, ALICE, { op: 'submit', computation: 'avg', value: -1.5e300 }));
});

test("submit on a key matcher and submitKey on a numeric computation are the wrong op (APP_INVALID_VALUE)", async () => {
  const h = harness();
  ok(await create(h, EVE, 'keys', 'keyMatcher', P3, 2));
  ok(await create(h, EVE, 'avg', 'average', P3, 2));
  refused(await send(h, ALICE, { op: 'submit', computation: 'keys', value: 1 }), 'APP_INVALID_VALUE');
  refused(await send(h, ALICE, { op: 'submitKey', computation: 'avg', key: 'k', message: 'm' }), 'APP_INVALID_VALUE');
});

test('undecodable private requests are APP_BAD_REQUEST', async () => {
  const h = harness();
  ok(await create(h, EVE, 'avg', 'average', P3, 1));
  refused(await sendRaw(h, ALICE, new Uint8Array([0xff, 0xfe, 0x7b])), 'APP_BAD_REQUEST'); // invalid UTF-8
  refused(await sendRaw(h, ALICE, enc.encode('{"op":')), 'APP_BAD_REQUEST');
  refused(await sendRaw(h, ALICE, enc.encode('[]')), 'APP_BAD_REQUEST');
  refused(await sendRaw(h, ALICE, { op: 'delete', computation: 'avg' }), 'APP_BAD_REQUEST');
  refused(await sendRaw(h, ALICE, { op: 'submit', value: 1 }), 'APP_BAD_REQUEST');
  refused(await sendRaw(h, ALICE, { op: 'submit', computation: 'x'.repeat(65), value: 1 }), 'APP_BAD_REQUEST');
  refused(await sendRaw(h, ALICE, { op: 'result', computation: 'avg', please: 1 }), 'APP_BAD_REQUEST');
});

// ---------------------------------------------------------------- result & lock

test('result: below quorum is APP_QUORUM_NOT_REACHED; quorum counts distinct participants, not submissions', async () => {
  const h = harness();
  ok(await create(h, EVE, 'avg', 'average', P3, 2));
  refused(await send(h, ALICE, { op: 'result', computation: 'avg' }), 'APP_QUORUM_NOT_REACHED');
  ok(await send(h, ALICE, { op: 'submit', computation: 'avg', value: 1 }));
  ok(await send(h, ALICE, { op: 'submit', computation: 'avg', value: 2 }));
  ok(await send(h, ALICE, { op: 'submit', computation: 'avg', value: 3 }));
  const e = refused(await send(h, ALICE, { op: 'result', computation: 'avg' }), 'APP_QUORUM_NOT_REACHED');
  assert.deepEqual(e.details, { computation: 'avg', quorum: 2 }); // reveals the quorum, not how many submitted
  assert.equal((await state(h)).computations['avg']!.locked, false);
  ok(await send(h, BOB, { op: 'submit', computation: 'avg', value: 5 }));
  assert.deepEqual(single(await send(h, ALICE, { op: 'result', computation: 'avg' }), ALICE), { type: 'average', value: 4, count: 2 });
});

test('average: the latest value of each participant, replaced freely before the lock', async () => {
  const h = harness();
  ok(await create(h, EVE, 'avg', 'average', [ALICE, BOB, CAROL, DAVE], 3));
  ok(await send(h, ALICE, { op: 'submit', computation: 'avg', value: 10 }));
  ok(await send(h, BOB, { op: 'submit', computation: 'avg', value: 20 }));
  ok(await send(h, ALICE, { op: 'submit', computation: 'avg', value: 30 }));
  ok(await send(h, CAROL, { op: 'submit', computation: 'avg', value: -5 }));
  ok(await send(h, BOB, { op: 'submit', computation: 'avg', value: 35 }));
  assert.deepEqual(single(await send(h, DAVE, { op: 'result', computation: 'avg' }), DAVE), { type: 'average', value: 20, count: 3 });
});

test('lock: the first result at quorum locks; every participant then gets the same stored result; submissions are APP_LOCKED', async () => {
  const h = harness();
  ok(await create(h, EVE, 'avg', 'average', P3, 2));
  ok(await send(h, ALICE, { op: 'submit', computation: 'avg', value: 2 }));
  ok(await send(h, BOB, { op: 'submit', computation: 'avg', value: 4 }));
  const first = single(await send(h, ALICE, { op: 'result', computation: 'avg' }), ALICE);
  assert.deepEqual(first, { type: 'average', value: 3, count: 2 });
  const rec = (await state(h)).computations['avg']!;
  assert.equal(rec.locked, true);
  assert.equal(rec.lockedSeq, '4');
  assert.deepEqual(rec.result, first);
  // Carol never submitted and cannot now: the result does not move.
  refused(await send(h, CAROL, { op: 'submit', computation: 'avg', value: 12 }), 'APP_LOCKED');
  refused(await send(h, BOB, { op: 'submit', computation: 'avg', value: 100 }), 'APP_LOCKED');
  for (const p of [BOB, CAROL, ALICE, CAROL]) assert.deepEqual(single(await send(h, p, { op: 'result', computation: 'avg' }), p), first);
  assert.equal((await state(h)).computations['avg']!.submissions[BOB]!.value, 4);
  assert.deepEqual((await state(h)).computations['avg']!.result, first);
});

test('max/min: reveal the identity of the extreme participant only, never a value', async () => {
  for (const type of ['max', 'min'] as const) {
    const h = harness();
    ok(await create(h, EVE, 'sales', type, [ALICE, BOB, CAROL, DAVE], 3));
    ok(await send(h, ALICE, { op: 'submit', computation: 'sales', value: 1234567 }));
    ok(await send(h, BOB, { op: 'submit', computation: 'sales', value: -7654321 }));
    ok(await send(h, CAROL, { op: 'submit', computation: 'sales', value: 5555555 }));
    ok(await send(h, ALICE, { op: 'submit', computation: 'sales', value: 9999999 })); // replaces 1234567
    const r = single(await send(h, DAVE, { op: 'result', computation: 'sales' }), DAVE);
    assert.deepEqual(r, { type, participant: type === 'max' ? ALICE : BOB });
    assert.deepEqual(Object.keys(r).sort(), ['participant', 'type']);
    const everything = JSON.stringify(h.log);
    for (const v of ['1234567', '7654321', '5555555', '9999999']) assert.ok(!everything.includes(v), `value ${v} leaked in an output`);
    assert.deepEqual(single(await send(h, BOB, { op: 'result', computation: 'sales' }), BOB), r);
  }
});

test('max/min ties: the earliest submitter (first submission) among the tied wins, whatever the address order', async () => {
  const h = harness();
  ok(await create(h, EVE, 'mx', 'max', P3, 3));
  ok(await create(h, EVE, 'mn', 'min', P3, 3));
  // CAROL first, then BOB, then ALICE (address order is BOB < ALICE < CAROL)
  for (const c of ['mx', 'mn']) {
    ok(await send(h, CAROL, { op: 'submit', computation: c, value: 1 }));
    ok(await send(h, BOB, { op: 'submit', computation: c, value: 7 }));
    ok(await send(h, ALICE, { op: 'submit', computation: c, value: 7 }));
  }
  // CAROL revises to the tied value later: she still submitted first.
  ok(await send(h, CAROL, { op: 'submit', computation: 'mx', value: 7 }));
  assert.deepEqual(single(await send(h, ALICE, { op: 'result', computation: 'mx' }), ALICE), { type: 'max', participant: CAROL });
  ok(await send(h, CAROL, { op: 'submit', computation: 'mn', value: 7 }));
  ok(await send(h, BOB, { op: 'submit', computation: 'mn', value: 7 })); // re-submission keeps BOB's first seq
  assert.deepEqual(single(await send(h, ALICE, { op: 'result', computation: 'mn' }), ALICE), { type: 'min', participant: CAROL });
});

test('average over zero and negative values; -0 is normalised; huge values do not overflow to Infinity', async () => {
  const h = harness();
  ok(await create(h, EVE, 'a', 'average', P3, 3));
  ok(await send(h, ALICE, { op: 'submit', computation: 'a', value: -0 }));
  ok(await send(h, BOB, { op: 'submit', computation: 'a', value: -0 }));
  ok(await send(h, CAROL, { op: 'submit', computation: 'a', value: -0 }));
  const r = single(await send(h, ALICE, { op: 'result', computation: 'a' }), ALICE);
  assert.ok(r.type === 'average' && Object.is(r.value, 0));
  ok(await create(h, EVE, 'big', 'average', P3, 2));
  ok(await send(h, ALICE, { op: 'submit', computation: 'big', value: Number.MAX_VALUE }));
  ok(await send(h, BOB, { op: 'submit', computation: 'big', value: Number.MAX_VALUE }));
  assert.deepEqual(single(await send(h, BOB, { op: 'result', computation: 'big' }), BOB), { type: 'average', value: Number.MAX_VALUE, count: 2 });
});

test('result on a key matcher is APP_INVALID_VALUE (matches are pushed, there is nothing to lock)', async () => {
  const h = harness();
  ok(await create(h, EVE, 'keys', 'keyMatcher', P3, 1));
  ok(await send(h, ALICE, { op: 'submitKey', computation: 'keys', key: 'k', message: 'm' }));
  refused(await send(h, ALICE, { op: 'result', computation: 'keys' }), 'APP_INVALID_VALUE');
  assert.equal((await state(h)).computations['keys']!.locked, false);
});

// ---------------------------------------------------------------- key matcher

function matchesOf(emitted: Emitted<Output>[]) {
  return emitted.filter((e) => e.out.ok && e.out.result.type === 'match').map((e) => {
    const r = e.out.ok && e.out.result.type === 'match' ? e.out.result : assert.fail();
    return { to: e.to, key: r.key, messages: r.messages };
  });
}

test('key matcher: below quorum only an ack; at quorum each matched participant gets the others\' messages', async () => {
  const h = harness();
  ok(await create(h, EVE, 'vins', 'keyMatcher', [ALICE, BOB, CAROL, DAVE], 2));
  const a = ok(await send(h, ALICE, { op: 'submitKey', computation: 'vins', key: 'VIN123', message: 'claim from A' }));
  assert.deepEqual(a, [{ to: ALICE, out: { seq: '2', op: 'submitKey', computation: 'vins', ok: true, result: { type: 'accepted' } } }]);
  ok(await send(h, CAROL, { op: 'submitKey', computation: 'vins', key: 'OTHER', message: 'unrelated' }));
  const b = ok(await send(h, BOB, { op: 'submitKey', computation: 'vins', key: 'VIN123', message: 'claim from B' }));
  assert.deepEqual(b[0], { to: BOB, out: { seq: '4', op: 'submitKey', computation: 'vins', ok: true, result: { type: 'accepted' } } });
  assert.deepEqual(matchesOf(b), [
    { to: ALICE, key: 'VIN123', messages: [{ from: BOB, message: 'claim from B' }] },
    { to: BOB, key: 'VIN123', messages: [{ from: ALICE, message: 'claim from A' }] },
  ]);
  for (const e of b) assert.equal(e.out.seq, '4');
  // A third participant joins the key: everyone matched gets the updated set, never their own message.
  const c = ok(await send(h, CAROL, { op: 'submitKey', computation: 'vins', key: 'VIN123', message: 'claim from C' }));
  assert.deepEqual(matchesOf(c), [
    { to: ALICE, key: 'VIN123', messages: [{ from: BOB, message: 'claim from B' }, { from: CAROL, message: 'claim from C' }] },
    { to: BOB, key: 'VIN123', messages: [{ from: ALICE, message: 'claim from A' }, { from: CAROL, message: 'claim from C' }] },
    { to: CAROL, key: 'VIN123', messages: [{ from: ALICE, message: 'claim from A' }, { from: BOB, message: 'claim from B' }] },
  ]);
  // DAVE never submitted VIN123: he is told nothing.
  assert.ok(h.log.every((e) => e.to !== DAVE));
});

test('key matcher: re-submitting the same key replaces the message and notifies every matched participant again', async () => {
  const h = harness();
  ok(await create(h, EVE, 'vins', 'keyMatcher', P3, 2));
  ok(await send(h, ALICE, { op: 'submitKey', computation: 'vins', key: 'K', message: 'a1' }));
  ok(await send(h, BOB, { op: 'submitKey', computation: 'vins', key: 'K', message: 'b1' }));
  const again = ok(await send(h, ALICE, { op: 'submitKey', computation: 'vins', key: 'K', message: 'a2' }));
  assert.deepEqual(matchesOf(again), [
    { to: ALICE, key: 'K', messages: [{ from: BOB, message: 'b1' }] },
    { to: BOB, key: 'K', messages: [{ from: ALICE, message: 'a2' }] },
  ]);
  assert.deepEqual((await state(h)).computations['vins']!.keys['K'], [{ from: ALICE, message: 'a2' }, { from: BOB, message: 'b1' }]);
  // Before quorum, a replacement notifies nobody.
  ok(await send(h, CAROL, { op: 'submitKey', computation: 'vins', key: 'solo', message: 'c1' }));
  assert.deepEqual(matchesOf(ok(await send(h, CAROL, { op: 'submitKey', computation: 'vins', key: 'solo', message: 'c2' }))), []);
});

test('key matcher: quorum 3 needs three distinct submitters; it never locks', async () => {
  const h = harness();
  ok(await create(h, EVE, 'k3', 'keyMatcher', [ALICE, BOB, CAROL, DAVE], 3));
  ok(await send(h, ALICE, { op: 'submitKey', computation: 'k3', key: 'x', message: '' }));
  ok(await send(h, ALICE, { op: 'submitKey', computation: 'k3', key: 'x', message: 'again' }));
  assert.deepEqual(matchesOf(ok(await send(h, BOB, { op: 'submitKey', computation: 'k3', key: 'x', message: 'b' }))), []);
  assert.equal(matchesOf(ok(await send(h, DAVE, { op: 'submitKey', computation: 'k3', key: 'x', message: 'd' }))).length, 3);
  assert.equal(matchesOf(ok(await send(h, CAROL, { op: 'submitKey', computation: 'k3', key: 'x', message: 'c' }))).length, 4);
  assert.equal((await state(h)).computations['k3']!.locked, false);
});

test('key matcher: quorum 1 notifies a lone submitter with an empty set', async () => {
  const h = harness();
  ok(await create(h, EVE, 'k1', 'keyMatcher', P3, 1));
  assert.deepEqual(matchesOf(ok(await send(h, BOB, { op: 'submitKey', computation: 'k1', key: 'x', message: 'b' }))), [{ to: BOB, key: 'x', messages: [] }]);
});

test('key matcher: key 1..256 and message <= 1024 characters, else APP_INVALID_VALUE', async () => {
  const h = harness();
  ok(await create(h, EVE, 'k', 'keyMatcher', P3, 2));
  refused(await sendRaw(h, ALICE, { op: 'submitKey', computation: 'k', key: '', message: 'm' }), 'APP_INVALID_VALUE');
  refused(await sendRaw(h, ALICE, { op: 'submitKey', computation: 'k', key: 'k'.repeat(257), message: 'm' }), 'APP_INVALID_VALUE');
  refused(await sendRaw(h, ALICE, { op: 'submitKey', computation: 'k', key: 'k', message: 'm'.repeat(1025) }), 'APP_INVALID_VALUE');
  refused(await sendRaw(h, ALICE, { op: 'submitKey', computation: 'k', key: 'k' }), 'APP_INVALID_VALUE');
  refused(await sendRaw(h, ALICE, { op: 'submitKey', computation: 'k', key: 5, message: 'm' }), 'APP_INVALID_VALUE');
  ok(await sendRaw(h, ALICE, { op: 'submitKey', computation: 'k', key: 'k'.repeat(256), message: 'm'.repeat(1024) }));
});

// ---------------------------------------------------------------- Conclave rewind scenario

test('Conclave rewind scenario: the lock lives in state; replay from the same state is identical; a forked history has a different state', async () => {
  // The EventManager TODO: alice/bob/charley (carol), quorum 2 average; alice 2, bob 4; alice locks with 3.
  const h = harness();
  ok(await create(h, EVE, 'avg', 'average', P3, 2));
  ok(await send(h, ALICE, { op: 'submit', computation: 'avg', value: 2 }));
  ok(await send(h, BOB, { op: 'submit', computation: 'avg', value: 4 }));
  const beforeLock = await h.restart();
  const locked = single(await send(h, ALICE, { op: 'result', computation: 'avg' }), ALICE);
  assert.deepEqual(locked, { type: 'average', value: 3, count: 2 });
  const committed = canonicalJson((await state(h)));

  // 1. Enclave restarted from the committed state: the stored result and the lock survive.
  const r = await h.restart();
  refused(await send(r, CAROL, { op: 'submit', computation: 'avg', value: 12 }), 'APP_LOCKED');
  assert.deepEqual(single(await send(r, BOB, { op: 'result', computation: 'avg' }), BOB), locked);
  assert.deepEqual(single(await send(r, CAROL, { op: 'result', computation: 'avg' }), CAROL), locked);

  // 2. Re-running the same request from the same state yields byte-identical outputs and state.
  const replay = await beforeLock.restart();
  const again = ok(await send(replay, ALICE, { op: 'result', computation: 'avg' }));
  assert.deepEqual(again, [{ to: ALICE, out: { seq: '4', op: 'result', computation: 'avg', ok: true, result: locked } }]);
  assert.equal(canonicalJson((await state(replay))), committed);

  // 3. The attack itself (host drops alice's result request, carol submits 12, bob asks): the app alone
  //    would answer 6. Its state differs from the committed one, so the runtime's prevRoot/stateRoot check
  //    (docs/apps.md#rewind) is what refuses this fork: the app keeps the lock in state so that check covers it.
  const fork = await beforeLock.restart();
  ok(await send(fork, CAROL, { op: 'submit', computation: 'avg', value: 12 }));
  assert.deepEqual(single(await send(fork, BOB, { op: 'result', computation: 'avg' }), BOB), { type: 'average', value: 6, count: 3 });
  assert.notEqual(canonicalJson((await state(fork))), committed);
});
