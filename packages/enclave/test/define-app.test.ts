// defineApp and its declaration half (docs/apps.md#defineapp): handlers must match the declaration; routing uses own
// properties only; decoding failures are APP_REQUEST_INVALID before any handler runs; defineAppErrors gives stable
// codes, names and docs paths; the JSON-state bridge keeps the store's key order, copying and write cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { AppError, GeodeError, appSpec, defineAppErrors } from '@geode/protocol';
import { defineApp, type StoreHandlerContext } from '../src/define-app.ts';
import { jsonKvStore } from '../src/store-bridge.ts';
import { REQUEST_WRITES_MAX } from '../src/store/kv.ts';

const spec = appSpec({ name: 'demo', public: { ping: [{ name: 'n', type: 'uint8' }] }, private: { add: z.object({ x: z.number().int() }).strict() } } as const);

const code = (f: () => unknown) => { try { f(); } catch (e) { return (e as GeodeError).code; } return 'ok'; };

test('appSpec/defineApp refuse bad names and handlers that do not match the declaration (APP_SPEC_INVALID)', () => {
  assert.equal(code(() => appSpec({ name: 'Bad Name', public: {}, private: {} })), 'APP_SPEC_INVALID');
  assert.equal(code(() => appSpec({ name: 'x', public: { 'a.b': [] }, private: {} })), 'APP_SPEC_INVALID');
  // @ts-expect-error a declared private op without its handler
  assert.equal(code(() => defineApp(spec, { public: { ping() {} }, private: {} })), 'APP_SPEC_INVALID');
  // @ts-expect-error a handler for an undeclared public kind
  assert.equal(code(() => defineApp(spec, { public: { ping() {}, pong() {} }, private: { add() {} } })), 'APP_SPEC_INVALID');
  assert.equal(code(() => defineAppErrors('demo', ['lower_case'] as const)), 'APP_SPEC_INVALID');
});

test('defineApp routes by own property, decodes strictly, and a decoding failure never reaches a handler', async () => {
  const calls: unknown[] = [];
  const app = defineApp(spec, { public: { ping([n]) { calls.push(['ping', n]); } }, private: { add(b) { calls.push(['add', b.x]); } } });
  const ctx = {} as StoreHandlerContext;
  await app.onPublic('demo.ping', Buffer.from(spec.encodePublic('ping', [7]).slice(2), 'hex'), ctx);
  await app.onPrivate(spec.encodePrivate('add', { x: 2 }), ctx);
  assert.deepEqual(calls, [['ping', 7], ['add', 2]]);
  const refuse = async (p: void | Promise<void>) => assert.rejects(Promise.resolve().then(() => p), (e: GeodeError) => e.code === 'APP_REQUEST_INVALID' && e.docsPath === 'apps.md#app-request-invalid');
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  for (const op of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) await refuse(app.onPrivate(enc({ op, x: 1 }), ctx));
  await refuse(app.onPrivate(enc({ op: 'add', x: 1.5 }), ctx));
  await refuse(app.onPrivate(enc({ op: 'add', x: 1, y: 2 }), ctx));
  await refuse(app.onPrivate(enc('add'), ctx));
  await refuse(app.onPrivate(new Uint8Array([0xc3, 0x28]), ctx));
  await refuse(app.onPublic('demo.__proto__', new Uint8Array(32), ctx));
  await refuse(app.onPublic('other.ping', Buffer.from(spec.encodePublic('ping', [7]).slice(2), 'hex'), ctx));
  const big = new Uint8Array(32); big[0] = 1; // 2^248: not a uint8
  await refuse(app.onPublic('demo.ping', big, ctx));
  assert.throws(() => spec.encodePrivate('add', { x: 'one' as unknown as number }), (e: GeodeError) => e.code === 'APP_REQUEST_INVALID');
  assert.equal(calls.length, 2, 'no handler ran for a refused request');
});

test('defineAppErrors: APP_<APP>_<NAME> codes, class names, docs paths; instances are AppError/GeodeError', () => {
  const E = defineAppErrors('my-app', ['NOT_ENOUGH', 'GONE'] as const, 'my-app.md');
  const e = new E.NOT_ENOUGH('Top up first, then retry.', { details: { need: '5' } });
  assert.ok(e instanceof AppError && e instanceof GeodeError);
  assert.equal(e.code, 'APP_MY_APP_NOT_ENOUGH');
  assert.equal(E.NOT_ENOUGH.code, 'APP_MY_APP_NOT_ENOUGH');
  assert.equal(e.name, 'NotEnoughError');
  assert.equal(e.docsPath, 'my-app.md#app-my-app-not-enough');
  assert.deepEqual(e.details, { need: '5' });
  assert.equal(new E.GONE('x').code, 'APP_MY_APP_GONE');
});

test('jsonKvStore: entries in key order (integers numerically), copies on set and get, the per-request write cap', async () => {
  const state: Record<string, unknown> = {};
  const kv = jsonKvStore(state, 'ns');
  for (const k of [10, 2, 1, 300]) kv.set(['n', k], { k });
  kv.set(['s', 'b'], 1);
  kv.set(['s', 'a'], 2);
  const keys: unknown[] = [];
  for await (const [k] of kv.entries(['n'])) keys.push(k);
  assert.deepEqual(keys, [['n', 1n], ['n', 2n], ['n', 10n], ['n', 300n]]);
  const v = { deep: [1] };
  kv.set(['v'], v);
  v.deep.push(2);
  const got = await kv.get<{ deep: number[] }>(['v']);
  assert.deepEqual(got, { deep: [1] });
  got!.deep.push(3);
  assert.deepEqual(await kv.get(['v']), { deep: [1] });
  assert.equal(code(() => kv.set(['bad'], 1n)), 'ENCLAVE_STORE_VALUE');
  const fresh = jsonKvStore({}, 'ns');
  for (let i = 0; i < REQUEST_WRITES_MAX; i++) fresh.set([i], i);
  assert.equal(code(() => fresh.set(['one-more'], 1)), 'ENCLAVE_STORE_LIMIT');
});
