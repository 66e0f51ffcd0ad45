// AppHarness runs handlers under the runtime's rules: pinned context, deterministic randomness (the runtime's own
// derivation), request isolation with the rollback check, outputs through the output plaintext and the app's decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { Address } from 'viem';
import { appSpec, defineAppErrors, decodeOutputMessage } from '@geode/protocol';
import { defineApp, SessionKeys, keyMaterialFrom, type EnclaveApp } from '@geode/enclave';
import { AppHarness, ok, refused, single } from '../src/index.ts';

const ALICE = '0xA11CE00000000000000000000000000000000001' as Address;
const BOB = '0x0b0b000000000000000000000000000000000002' as Address;

const spec = appSpec({
  name: 'probe',
  public: { note: [{ name: 'n', type: 'uint64' }] },
  private: {
    put: z.object({ v: z.number().int() }).strict(),
    fail: z.object({}).strict(),
    crash: z.object({}).strict(),
    look: z.object({}).strict(),
  },
} as const);
const Errors = defineAppErrors('probe', ['REFUSED'] as const);

/** Writes, then refuses after writing (`fail`) or throws a non-GeodeError (`crash`); `look` echoes its context. */
const app = defineApp(spec, {
  public: {
    note([n], ctx) {
      ctx.store.set(['note'], n.toString());
      ctx.publish(new Uint8Array([Number(n)]));
      ctx.emit(ctx.sender, { noted: n.toString() });
    },
  },
  private: {
    put({ v }, ctx) {
      ctx.store.set(['v', ctx.sender], v);
      ctx.emit(ctx.sender, { v });
    },
    fail(_b, ctx) {
      ctx.store.set(['v', ctx.sender], -1);
      ctx.publish('0x01');
      ctx.emit(ctx.sender, { never: true });
      throw new Errors.REFUSED('probe refuses this request on purpose; send another');
    },
    crash(_b, ctx) {
      ctx.store.set(['v', ctx.sender], -2);
      throw new TypeError('a bug');
    },
    look(_b, ctx) {
      ctx.emit(ctx.sender, { seq: ctx.seq.toString(), sender: ctx.sender, block: [ctx.block.number.toString(), ctx.block.timestamp.toString()], random: Buffer.from(ctx.random('x', 8)).toString('hex') });
    },
  },
});
const enc = (op: 'put' | 'fail' | 'crash' | 'look', body: Record<string, unknown> = {}) => spec.encodePrivate(op, body as never);

test('context: seq counts from the given start, the sender is lower-cased, the block is pinned and movable, random is the runtime\'s derivation', async () => {
  const h = new AppHarness(app, { seq: 41n });
  const first = single(await h.privateRequest(ALICE, enc('look')), ALICE);
  assert.ok(first.ok);
  const secret = new Uint8Array(32).fill(7);
  const keys = await SessionKeys.fromMaterial(keyMaterialFrom({ hpkeSeed: new Uint8Array(32).fill(8), signerKey: new Uint8Array(32).fill(9), appSecret: secret, sessionId: null }));
  assert.deepEqual(first.message, { seq: '42', sender: ALICE.toLowerCase(), block: ['100', '1700000000'], random: Buffer.from(keys.random(42n, 'x', 8)).toString('hex') });
  assert.equal(first.seq, '42');
  h.block = { number: 7n, timestamp: 9n };
  const second = single(await h.privateRequest(BOB, enc('look')), BOB);
  assert.ok(second.ok);
  const m = second.message as { block: string[]; random: string };
  assert.deepEqual(m.block, ['7', '9']);
  assert.notEqual(m.random, (first.message as { random: string }).random, 'random depends on seq');
  // Same seq, same secret: same bytes, in another harness too; another secret: other bytes.
  const again = single(await new AppHarness(app, { seq: 41n }).privateRequest(BOB, enc('look')), BOB);
  assert.ok(again.ok);
  assert.equal((again.message as { random: string }).random, (first.message as { random: string }).random);
  const other = single(await new AppHarness(app, { seq: 41n, appSecret: new Uint8Array(32).fill(1) }).privateRequest(BOB, enc('look')), BOB);
  assert.ok(other.ok);
  assert.notEqual((other.message as { random: string }).random, (first.message as { random: string }).random);
});

test('isolation: a refusal drops its writes, emits and publishes and leaves the root byte-identical; success commits them', async () => {
  const h = new AppHarness(app);
  const empty = h.root();
  ok(await h.privateRequest(ALICE, enc('put', { v: 5 })));
  const afterPut = h.root();
  assert.notEqual(afterPut, empty);
  const r = await h.privateRequest(ALICE, enc('fail'));
  const e = refused(r, 'APP_PROBE_REFUSED');
  assert.equal(e.docsPath, 'apps.md#app-probe-refused');
  assert.ok(!r.ok);
  assert.deepEqual(r.errorOutput, { seq: '2', ok: false, error: { code: 'APP_PROBE_REFUSED', message: e.message } });
  assert.equal(h.root(), afterPut);
  assert.deepEqual(await h.state(), [[`v/${ALICE.toLowerCase()}`, 5]]);
  assert.deepEqual(h.published, []);
  assert.equal(h.log.length, 1);
  // The framework's decoding failures are refusals too.
  refused(await h.privateRequest(ALICE, new Uint8Array([0xff])), 'APP_REQUEST_INVALID');
  refused(await h.publicRequest(ALICE, 'probe.other', '0x'), 'APP_REQUEST_INVALID');
  assert.equal(h.root(), afterPut);
  // Public request: ABI body as hex, public output collected with its seq.
  const p = await h.publicRequest(BOB, spec.publicKind('note'), spec.encodePublic('note', [3n]));
  assert.ok(p.ok);
  assert.deepEqual(p.published, ['0x03']);
  assert.deepEqual(h.published, [{ seq: 5n, data: '0x03' }]);
  assert.throws(() => h.publicRequest(BOB, spec.publicKind('note'), '0x123' as `0x${string}`), TypeError);
});

test('the harness fails the test when a handler throws a non-GeodeError, and ok/refused/single fail on the wrong outcome', async () => {
  const h = new AppHarness(app);
  const root = h.root();
  await assert.rejects(h.privateRequest(ALICE, enc('crash')), (e: Error) => e.name === 'AssertionError' && /must be a GeodeError/.test(e.message));
  assert.equal(h.root(), root);
  const good = await h.privateRequest(ALICE, enc('put', { v: 1 }));
  const bad = await h.privateRequest(ALICE, enc('fail'));
  assert.throws(() => ok(bad), /expected success, got APP_PROBE_REFUSED/);
  assert.throws(() => refused(good, 'APP_PROBE_REFUSED'), /expected APP_PROBE_REFUSED, got success/);
  assert.throws(() => refused(bad, 'APP_OTHER'), /AssertionError|Expected/);
  assert.throws(() => single(good, BOB));
  // An emit that would not survive the output plaintext is caught (undefined members vanish in JSON).
  const lossy: EnclaveApp = { name: 'lossy', onPublic() {}, onPrivate(_b, ctx) { ctx.emit(ctx.sender, { a: undefined }); } };
  await assert.rejects(new AppHarness(lossy).privateRequest(ALICE, new Uint8Array()), /survive the output plaintext/);
});

test('decodeOutput: the app\'s decoder gets every ok and error plaintext; restart keeps state, seq, log and public outputs', async () => {
  const seen: unknown[] = [];
  const decode = (b: Uint8Array) => { const m = decodeOutputMessage(b); seen.push(m); return { decoded: m }; };
  const h = new AppHarness(app, { decodeOutput: decode });
  const [e] = ok(await h.publicRequest(ALICE, spec.publicKind('note'), spec.encodePublic('note', [9n])));
  assert.deepEqual(e, { to: ALICE.toLowerCase(), out: { decoded: { seq: '1', ok: true, message: { noted: '9' } } } });
  const r = await h.privateRequest(ALICE, enc('fail'));
  assert.ok(!r.ok);
  assert.equal((r.errorOutput.decoded as { ok: boolean }).ok, false);
  assert.equal(seen.length, 3, 'decoded at emit time: the ok output, the dropped emit of the refusal, its error output');
  const root = h.root();
  const h2 = await h.restart();
  assert.equal(h2.root(), root);
  assert.equal(h2.seq, 2n);
  assert.deepEqual(await h2.state(), await h.state());
  assert.deepEqual(h2.published, h.published);
  assert.equal(h2.log.length, 1);
  const [next] = ok(await h2.privateRequest(BOB, enc('put', { v: 2 })));
  assert.equal((next!.out.decoded as { seq: string }).seq, '3');
});
