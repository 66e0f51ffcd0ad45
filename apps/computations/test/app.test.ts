import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getAddress, type Address } from 'viem';
import { canonicalJson } from '@geode/protocol';
import { computationsApp } from '../src/enclave/app.ts';
import { CREATE_KIND } from '../src/index.ts';
import { ALICE, BOB, CAROL, DAVE, EVE, Harness, ok, refused, single } from './harness.ts';

const enc = new TextEncoder();
const P3 = [ALICE, BOB, CAROL];

// ---------------------------------------------------------------- creation

test('create: stores name, type, lowercased participants, quorum and creator; acknowledges the creator', () => {
  const h = new Harness();
  const out = ok(h.create(EVE, 'salaries', 'average', [getAddress(ALICE), getAddress(BOB), CAROL], 2));
  assert.deepEqual(out, [{ to: EVE, out: { seq: '1', op: 'create', computation: 'salaries', ok: true, result: { type: 'accepted' } } }]);
  const rec = h.state.computations['salaries']!;
  assert.equal(rec.name, 'salaries');
  assert.equal(rec.type, 'average');
  assert.deepEqual(rec.participants, [ALICE, BOB, CAROL]);
  assert.equal(rec.quorum, 2);
  assert.equal(rec.creator, EVE);
  assert.equal(rec.locked, false);
  assert.equal(rec.result, null);
  for (const [i, t] of (['average', 'max', 'min', 'keyMatcher'] as const).entries()) {
    ok(h.create(EVE, `c${i}`, i, P3, 1));
    assert.equal(h.state.computations[`c${i}`]!.type, t);
  }
});

test('create: a duplicate name is refused with APP_ALREADY_EXISTS and the original is kept', () => {
  const h = new Harness();
  ok(h.create(ALICE, 'dup', 'max', P3, 2));
  refused(h.create(BOB, 'dup', 'min', [BOB, CAROL], 1), 'APP_ALREADY_EXISTS');
  assert.equal(h.state.computations['dup']!.type, 'max');
  assert.equal(h.state.computations['dup']!.creator, ALICE);
});

test('create: invalid parameters are refused defensively with APP_INVALID_VALUE', () => {
  const h = new Harness();
  refused(h.create(ALICE, 'one', 'average', [ALICE], 1), 'APP_INVALID_VALUE');
  refused(h.create(ALICE, 'dups', 'average', [ALICE, ALICE], 1), 'APP_INVALID_VALUE');
  refused(h.create(ALICE, 'zero', 'average', [ALICE, '0x0000000000000000000000000000000000000000'], 1), 'APP_INVALID_VALUE');
  refused(h.create(ALICE, 'q0', 'average', P3, 0), 'APP_INVALID_VALUE');
  refused(h.create(ALICE, 'q4', 'average', P3, 4), 'APP_INVALID_VALUE');
  refused(h.create(ALICE, 'qhuge', 'average', P3, 2n ** 255n), 'APP_INVALID_VALUE');
  refused(h.create(ALICE, '', 'average', P3, 1), 'APP_INVALID_VALUE');
  refused(h.create(ALICE, 'é'.repeat(33), 'average', P3, 1), 'APP_INVALID_VALUE'); // 66 bytes
  ok(h.create(ALICE, 'é'.repeat(32), 'average', P3, 1)); // 64 bytes
  refused(h.create(ALICE, 'ctype', 4, P3, 1), 'APP_INVALID_VALUE');
  const many = Array.from({ length: 257 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}` as Address);
  refused(h.create(ALICE, 'many', 'average', many, 1), 'APP_INVALID_VALUE');
  ok(h.create(ALICE, 'max256', 'average', many.slice(0, 256), 256));
  assert.deepEqual(Object.keys(h.state.computations).sort(), ['max256', 'é'.repeat(32)].sort());
});

test('create: an unknown public kind or an undecodable body is APP_BAD_REQUEST', () => {
  const h = new Harness();
  refused(h.publicRaw(ALICE, 'computations.delete', new Uint8Array(0)), 'APP_BAD_REQUEST');
  refused(h.publicRaw(ALICE, CREATE_KIND, new Uint8Array([1, 2, 3])), 'APP_BAD_REQUEST');
  assert.deepEqual(h.state, computationsApp.initialState());
});

test('names such as __proto__ and constructor are ordinary computations (no prototype pollution)', () => {
  const h = new Harness();
  ok(h.create(ALICE, '__proto__', 'average', P3, 1));
  ok(h.create(ALICE, 'constructor', 'keyMatcher', P3, 1));
  assert.equal(Object.getPrototypeOf(h.state.computations), Object.prototype);
  assert.deepEqual(Object.keys(h.state.computations).sort(), ['__proto__', 'constructor']);
  refused(h.send(ALICE, { op: 'result', computation: 'toString' }), 'APP_DOES_NOT_EXIST');
  refused(h.send(ALICE, { op: 'result', computation: 'hasOwnProperty' }), 'APP_DOES_NOT_EXIST');
  ok(h.send(ALICE, { op: 'submit', computation: '__proto__', value: 7 }));
  assert.deepEqual(single(h.send(BOB, { op: 'result', computation: '__proto__' }), BOB), { type: 'average', value: 7, count: 1 });
  ok(h.send(ALICE, { op: 'submitKey', computation: 'constructor', key: '__proto__', message: 'm' }));
  assert.equal(({} as Record<string, unknown>)['value'], undefined);
  // survives a restart through JSON
  const r = h.restart();
  assert.deepEqual(single(r.send(CAROL, { op: 'result', computation: '__proto__' }), CAROL), { type: 'average', value: 7, count: 1 });
});

test('initialState is plain JSON and fresh on every call', () => {
  const a = computationsApp.initialState();
  const b = computationsApp.initialState();
  assert.notEqual(a, b);
  assert.equal(canonicalJson(a), '{"computations":{}}');
  assert.equal(computationsApp.name, 'computations');
});

// ---------------------------------------------------------------- submit

test('submit: acknowledged to the sender only, with seq and op', () => {
  const h = new Harness();
  ok(h.create(EVE, 'avg', 'average', P3, 2));
  const out = ok(h.send(ALICE, { op: 'submit', computation: 'avg', value: 42.5 }));
  assert.deepEqual(out, [{ to: ALICE, out: { seq: '2', op: 'submit', computation: 'avg', ok: true, result: { type: 'accepted' } } }]);
});

test('submit: APP_DOES_NOT_EXIST, APP_NOT_AUTHORISED (also for the non-participant creator)', () => {
  const h = new Harness();
  refused(h.send(ALICE, { op: 'submit', computation: 'nope', value: 1 }), 'APP_DOES_NOT_EXIST');
  ok(h.create(EVE, 'avg', 'average', P3, 2));
  refused(h.send(DAVE, { op: 'submit', computation: 'avg', value: 1 }), 'APP_NOT_AUTHORISED');
  refused(h.send(EVE, { op: 'submit', computation: 'avg', value: 1 }), 'APP_NOT_AUTHORISED');
  refused(h.send(EVE, { op: 'result', computation: 'avg' }), 'APP_NOT_AUTHORISED');
  refused(h.send(DAVE, { op: 'submitKey', computation: 'avg', key: 'k', message: '' }), 'APP_NOT_AUTHORISED');
});

test('submit: the value must be a finite JSON number (APP_INVALID_VALUE)', () => {
  const h = new Harness();
  ok(h.create(EVE, 'avg', 'average', P3, 1));
  refused(h.sendRaw(ALICE, { op: 'submit', computation: 'avg', value: '12' }), 'APP_INVALID_VALUE');
  refused(h.sendRaw(ALICE, { op: 'submit', computation: 'avg' }), 'APP_INVALID_VALUE');
  refused(h.sendRaw(ALICE, { op: 'submit', computation: 'avg', value: null }), 'APP_INVALID_VALUE');
  refused(h.sendRaw(ALICE, enc.encode('{"op":"submit","computation":"avg","value":1e999}')), 'APP_INVALID_VALUE');
  refused(h.sendRaw(ALICE, { op: 'submit', computation: 'avg', value: 1, extra: true }), 'APP_INVALID_VALUE');
  assert.deepEqual(h.state.computations['avg']!.submissions, {});
  ok(h.sendRaw(ALICE, { op: 'submit', computation: 'avg', value: -1.5e300 }));
});

test("submit on a key matcher and submitKey on a numeric computation are the wrong op (APP_INVALID_VALUE)", () => {
  const h = new Harness();
  ok(h.create(EVE, 'keys', 'keyMatcher', P3, 2));
  ok(h.create(EVE, 'avg', 'average', P3, 2));
  refused(h.send(ALICE, { op: 'submit', computation: 'keys', value: 1 }), 'APP_INVALID_VALUE');
  refused(h.send(ALICE, { op: 'submitKey', computation: 'avg', key: 'k', message: 'm' }), 'APP_INVALID_VALUE');
});

test('undecodable private requests are APP_BAD_REQUEST', () => {
  const h = new Harness();
  ok(h.create(EVE, 'avg', 'average', P3, 1));
  refused(h.sendRaw(ALICE, new Uint8Array([0xff, 0xfe, 0x7b])), 'APP_BAD_REQUEST'); // invalid UTF-8
  refused(h.sendRaw(ALICE, enc.encode('{"op":')), 'APP_BAD_REQUEST');
  refused(h.sendRaw(ALICE, enc.encode('[]')), 'APP_BAD_REQUEST');
  refused(h.sendRaw(ALICE, { op: 'delete', computation: 'avg' }), 'APP_BAD_REQUEST');
  refused(h.sendRaw(ALICE, { op: 'submit', value: 1 }), 'APP_BAD_REQUEST');
  refused(h.sendRaw(ALICE, { op: 'submit', computation: 'x'.repeat(65), value: 1 }), 'APP_BAD_REQUEST');
  refused(h.sendRaw(ALICE, { op: 'result', computation: 'avg', please: 1 }), 'APP_BAD_REQUEST');
});

// ---------------------------------------------------------------- result & lock

test('result: below quorum is APP_QUORUM_NOT_REACHED; quorum counts distinct participants, not submissions', () => {
  const h = new Harness();
  ok(h.create(EVE, 'avg', 'average', P3, 2));
  refused(h.send(ALICE, { op: 'result', computation: 'avg' }), 'APP_QUORUM_NOT_REACHED');
  ok(h.send(ALICE, { op: 'submit', computation: 'avg', value: 1 }));
  ok(h.send(ALICE, { op: 'submit', computation: 'avg', value: 2 }));
  ok(h.send(ALICE, { op: 'submit', computation: 'avg', value: 3 }));
  const e = refused(h.send(ALICE, { op: 'result', computation: 'avg' }), 'APP_QUORUM_NOT_REACHED');
  assert.deepEqual(e.details, { computation: 'avg', quorum: 2 }); // reveals the quorum, not how many submitted
  assert.equal(h.state.computations['avg']!.locked, false);
  ok(h.send(BOB, { op: 'submit', computation: 'avg', value: 5 }));
  assert.deepEqual(single(h.send(ALICE, { op: 'result', computation: 'avg' }), ALICE), { type: 'average', value: 4, count: 2 });
});

test('average: the latest value of each participant, replaced freely before the lock', () => {
  const h = new Harness();
  ok(h.create(EVE, 'avg', 'average', [ALICE, BOB, CAROL, DAVE], 3));
  ok(h.send(ALICE, { op: 'submit', computation: 'avg', value: 10 }));
  ok(h.send(BOB, { op: 'submit', computation: 'avg', value: 20 }));
  ok(h.send(ALICE, { op: 'submit', computation: 'avg', value: 30 }));
  ok(h.send(CAROL, { op: 'submit', computation: 'avg', value: -5 }));
  ok(h.send(BOB, { op: 'submit', computation: 'avg', value: 35 }));
  assert.deepEqual(single(h.send(DAVE, { op: 'result', computation: 'avg' }), DAVE), { type: 'average', value: 20, count: 3 });
});

test('lock: the first result at quorum locks; every participant then gets the same stored result; submissions are APP_LOCKED', () => {
  const h = new Harness();
  ok(h.create(EVE, 'avg', 'average', P3, 2));
  ok(h.send(ALICE, { op: 'submit', computation: 'avg', value: 2 }));
  ok(h.send(BOB, { op: 'submit', computation: 'avg', value: 4 }));
  const first = single(h.send(ALICE, { op: 'result', computation: 'avg' }), ALICE);
  assert.deepEqual(first, { type: 'average', value: 3, count: 2 });
  const rec = h.state.computations['avg']!;
  assert.equal(rec.locked, true);
  assert.equal(rec.lockedSeq, '4');
  assert.deepEqual(rec.result, first);
  // Carol never submitted and cannot now: the result does not move.
  refused(h.send(CAROL, { op: 'submit', computation: 'avg', value: 12 }), 'APP_LOCKED');
  refused(h.send(BOB, { op: 'submit', computation: 'avg', value: 100 }), 'APP_LOCKED');
  for (const p of [BOB, CAROL, ALICE, CAROL]) assert.deepEqual(single(h.send(p, { op: 'result', computation: 'avg' }), p), first);
  assert.equal(h.state.computations['avg']!.submissions[BOB]!.value, 4);
  assert.deepEqual(h.state.computations['avg']!.result, first);
});

test('max/min: reveal the identity of the extreme participant only, never a value', () => {
  for (const type of ['max', 'min'] as const) {
    const h = new Harness();
    ok(h.create(EVE, 'sales', type, [ALICE, BOB, CAROL, DAVE], 3));
    ok(h.send(ALICE, { op: 'submit', computation: 'sales', value: 1234567 }));
    ok(h.send(BOB, { op: 'submit', computation: 'sales', value: -7654321 }));
    ok(h.send(CAROL, { op: 'submit', computation: 'sales', value: 5555555 }));
    ok(h.send(ALICE, { op: 'submit', computation: 'sales', value: 9999999 })); // replaces 1234567
    const r = single(h.send(DAVE, { op: 'result', computation: 'sales' }), DAVE);
    assert.deepEqual(r, { type, participant: type === 'max' ? ALICE : BOB });
    assert.deepEqual(Object.keys(r).sort(), ['participant', 'type']);
    const everything = JSON.stringify(h.log);
    for (const v of ['1234567', '7654321', '5555555', '9999999']) assert.ok(!everything.includes(v), `value ${v} leaked in an output`);
    assert.deepEqual(single(h.send(BOB, { op: 'result', computation: 'sales' }), BOB), r);
  }
});

test('max/min ties: the earliest submitter (first submission) among the tied wins, whatever the address order', () => {
  const h = new Harness();
  ok(h.create(EVE, 'mx', 'max', P3, 3));
  ok(h.create(EVE, 'mn', 'min', P3, 3));
  // CAROL first, then BOB, then ALICE (address order is BOB < ALICE < CAROL)
  for (const c of ['mx', 'mn']) {
    ok(h.send(CAROL, { op: 'submit', computation: c, value: 1 }));
    ok(h.send(BOB, { op: 'submit', computation: c, value: 7 }));
    ok(h.send(ALICE, { op: 'submit', computation: c, value: 7 }));
  }
  // CAROL revises to the tied value later: she still submitted first.
  ok(h.send(CAROL, { op: 'submit', computation: 'mx', value: 7 }));
  assert.deepEqual(single(h.send(ALICE, { op: 'result', computation: 'mx' }), ALICE), { type: 'max', participant: CAROL });
  ok(h.send(CAROL, { op: 'submit', computation: 'mn', value: 7 }));
  ok(h.send(BOB, { op: 'submit', computation: 'mn', value: 7 })); // re-submission keeps BOB's first seq
  assert.deepEqual(single(h.send(ALICE, { op: 'result', computation: 'mn' }), ALICE), { type: 'min', participant: CAROL });
});

test('average over zero and negative values; -0 is normalised; huge values do not overflow to Infinity', () => {
  const h = new Harness();
  ok(h.create(EVE, 'a', 'average', P3, 3));
  ok(h.send(ALICE, { op: 'submit', computation: 'a', value: -0 }));
  ok(h.send(BOB, { op: 'submit', computation: 'a', value: -0 }));
  ok(h.send(CAROL, { op: 'submit', computation: 'a', value: -0 }));
  const r = single(h.send(ALICE, { op: 'result', computation: 'a' }), ALICE);
  assert.ok(r.type === 'average' && Object.is(r.value, 0));
  ok(h.create(EVE, 'big', 'average', P3, 2));
  ok(h.send(ALICE, { op: 'submit', computation: 'big', value: Number.MAX_VALUE }));
  ok(h.send(BOB, { op: 'submit', computation: 'big', value: Number.MAX_VALUE }));
  assert.deepEqual(single(h.send(BOB, { op: 'result', computation: 'big' }), BOB), { type: 'average', value: Number.MAX_VALUE, count: 2 });
});

test('result on a key matcher is APP_INVALID_VALUE (matches are pushed, there is nothing to lock)', () => {
  const h = new Harness();
  ok(h.create(EVE, 'keys', 'keyMatcher', P3, 1));
  ok(h.send(ALICE, { op: 'submitKey', computation: 'keys', key: 'k', message: 'm' }));
  refused(h.send(ALICE, { op: 'result', computation: 'keys' }), 'APP_INVALID_VALUE');
  assert.equal(h.state.computations['keys']!.locked, false);
});

// ---------------------------------------------------------------- key matcher

function matchesOf(emitted: ReturnType<typeof ok>) {
  return emitted.filter((e) => e.out.ok && e.out.result.type === 'match').map((e) => {
    const r = e.out.ok && e.out.result.type === 'match' ? e.out.result : assert.fail();
    return { to: e.to, key: r.key, messages: r.messages };
  });
}

test('key matcher: below quorum only an ack; at quorum each matched participant gets the others\' messages', () => {
  const h = new Harness();
  ok(h.create(EVE, 'vins', 'keyMatcher', [ALICE, BOB, CAROL, DAVE], 2));
  const a = ok(h.send(ALICE, { op: 'submitKey', computation: 'vins', key: 'VIN123', message: 'claim from A' }));
  assert.deepEqual(a, [{ to: ALICE, out: { seq: '2', op: 'submitKey', computation: 'vins', ok: true, result: { type: 'accepted' } } }]);
  ok(h.send(CAROL, { op: 'submitKey', computation: 'vins', key: 'OTHER', message: 'unrelated' }));
  const b = ok(h.send(BOB, { op: 'submitKey', computation: 'vins', key: 'VIN123', message: 'claim from B' }));
  assert.deepEqual(b[0], { to: BOB, out: { seq: '4', op: 'submitKey', computation: 'vins', ok: true, result: { type: 'accepted' } } });
  assert.deepEqual(matchesOf(b), [
    { to: ALICE, key: 'VIN123', messages: [{ from: BOB, message: 'claim from B' }] },
    { to: BOB, key: 'VIN123', messages: [{ from: ALICE, message: 'claim from A' }] },
  ]);
  for (const e of b) assert.equal(e.out.seq, '4');
  // A third participant joins the key: everyone matched gets the updated set, never their own message.
  const c = ok(h.send(CAROL, { op: 'submitKey', computation: 'vins', key: 'VIN123', message: 'claim from C' }));
  assert.deepEqual(matchesOf(c), [
    { to: ALICE, key: 'VIN123', messages: [{ from: BOB, message: 'claim from B' }, { from: CAROL, message: 'claim from C' }] },
    { to: BOB, key: 'VIN123', messages: [{ from: ALICE, message: 'claim from A' }, { from: CAROL, message: 'claim from C' }] },
    { to: CAROL, key: 'VIN123', messages: [{ from: ALICE, message: 'claim from A' }, { from: BOB, message: 'claim from B' }] },
  ]);
  // DAVE never submitted VIN123: he is told nothing.
  assert.ok(h.log.every((e) => e.to !== DAVE));
});

test('key matcher: re-submitting the same key replaces the message and notifies every matched participant again', () => {
  const h = new Harness();
  ok(h.create(EVE, 'vins', 'keyMatcher', P3, 2));
  ok(h.send(ALICE, { op: 'submitKey', computation: 'vins', key: 'K', message: 'a1' }));
  ok(h.send(BOB, { op: 'submitKey', computation: 'vins', key: 'K', message: 'b1' }));
  const again = ok(h.send(ALICE, { op: 'submitKey', computation: 'vins', key: 'K', message: 'a2' }));
  assert.deepEqual(matchesOf(again), [
    { to: ALICE, key: 'K', messages: [{ from: BOB, message: 'b1' }] },
    { to: BOB, key: 'K', messages: [{ from: ALICE, message: 'a2' }] },
  ]);
  assert.deepEqual(h.state.computations['vins']!.keys['K'], [{ from: ALICE, message: 'a2' }, { from: BOB, message: 'b1' }]);
  // Before quorum, a replacement notifies nobody.
  ok(h.send(CAROL, { op: 'submitKey', computation: 'vins', key: 'solo', message: 'c1' }));
  assert.deepEqual(matchesOf(ok(h.send(CAROL, { op: 'submitKey', computation: 'vins', key: 'solo', message: 'c2' }))), []);
});

test('key matcher: quorum 3 needs three distinct submitters; it never locks', () => {
  const h = new Harness();
  ok(h.create(EVE, 'k3', 'keyMatcher', [ALICE, BOB, CAROL, DAVE], 3));
  ok(h.send(ALICE, { op: 'submitKey', computation: 'k3', key: 'x', message: '' }));
  ok(h.send(ALICE, { op: 'submitKey', computation: 'k3', key: 'x', message: 'again' }));
  assert.deepEqual(matchesOf(ok(h.send(BOB, { op: 'submitKey', computation: 'k3', key: 'x', message: 'b' }))), []);
  assert.equal(matchesOf(ok(h.send(DAVE, { op: 'submitKey', computation: 'k3', key: 'x', message: 'd' }))).length, 3);
  assert.equal(matchesOf(ok(h.send(CAROL, { op: 'submitKey', computation: 'k3', key: 'x', message: 'c' }))).length, 4);
  assert.equal(h.state.computations['k3']!.locked, false);
});

test('key matcher: quorum 1 notifies a lone submitter with an empty set', () => {
  const h = new Harness();
  ok(h.create(EVE, 'k1', 'keyMatcher', P3, 1));
  assert.deepEqual(matchesOf(ok(h.send(BOB, { op: 'submitKey', computation: 'k1', key: 'x', message: 'b' }))), [{ to: BOB, key: 'x', messages: [] }]);
});

test('key matcher: key 1..256 and message <= 1024 characters, else APP_INVALID_VALUE', () => {
  const h = new Harness();
  ok(h.create(EVE, 'k', 'keyMatcher', P3, 2));
  refused(h.sendRaw(ALICE, { op: 'submitKey', computation: 'k', key: '', message: 'm' }), 'APP_INVALID_VALUE');
  refused(h.sendRaw(ALICE, { op: 'submitKey', computation: 'k', key: 'k'.repeat(257), message: 'm' }), 'APP_INVALID_VALUE');
  refused(h.sendRaw(ALICE, { op: 'submitKey', computation: 'k', key: 'k', message: 'm'.repeat(1025) }), 'APP_INVALID_VALUE');
  refused(h.sendRaw(ALICE, { op: 'submitKey', computation: 'k', key: 'k' }), 'APP_INVALID_VALUE');
  refused(h.sendRaw(ALICE, { op: 'submitKey', computation: 'k', key: 5, message: 'm' }), 'APP_INVALID_VALUE');
  ok(h.sendRaw(ALICE, { op: 'submitKey', computation: 'k', key: 'k'.repeat(256), message: 'm'.repeat(1024) }));
});

// ---------------------------------------------------------------- Conclave rewind scenario

test('Conclave rewind scenario: the lock lives in state; replay from the same state is identical; a forked history has a different state', () => {
  // The EventManager TODO: alice/bob/charley (carol), quorum 2 average; alice 2, bob 4; alice locks with 3.
  const h = new Harness();
  ok(h.create(EVE, 'avg', 'average', P3, 2));
  ok(h.send(ALICE, { op: 'submit', computation: 'avg', value: 2 }));
  ok(h.send(BOB, { op: 'submit', computation: 'avg', value: 4 }));
  const beforeLock = h.restart();
  const locked = single(h.send(ALICE, { op: 'result', computation: 'avg' }), ALICE);
  assert.deepEqual(locked, { type: 'average', value: 3, count: 2 });
  const committed = canonicalJson(h.state);

  // 1. Enclave restarted from the committed state: the stored result and the lock survive.
  const r = h.restart();
  refused(r.send(CAROL, { op: 'submit', computation: 'avg', value: 12 }), 'APP_LOCKED');
  assert.deepEqual(single(r.send(BOB, { op: 'result', computation: 'avg' }), BOB), locked);
  assert.deepEqual(single(r.send(CAROL, { op: 'result', computation: 'avg' }), CAROL), locked);

  // 2. Re-running the same request from the same state yields byte-identical outputs and state.
  const replay = beforeLock.restart();
  const again = ok(replay.send(ALICE, { op: 'result', computation: 'avg' }));
  assert.deepEqual(again, [{ to: ALICE, out: { seq: '4', op: 'result', computation: 'avg', ok: true, result: locked } }]);
  assert.equal(canonicalJson(replay.state), committed);

  // 3. The attack itself (host drops alice's result request, carol submits 12, bob asks): the app alone
  //    would answer 6. Its state differs from the committed one, so the runtime's prevRoot/stateRoot check
  //    (docs/apps.md#rewind) is what refuses this fork: the app keeps the lock in state so that check covers it.
  const fork = beforeLock.restart();
  ok(fork.send(CAROL, { op: 'submit', computation: 'avg', value: 12 }));
  assert.deepEqual(single(fork.send(BOB, { op: 'result', computation: 'avg' }), BOB), { type: 'average', value: 6, count: 3 });
  assert.notEqual(canonicalJson(fork.state), committed);
});
