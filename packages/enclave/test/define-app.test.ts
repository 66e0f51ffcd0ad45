// defineApp and its declaration half (docs/apps.md#defineapp): handlers must match the declaration; routing uses own
// properties only; decoding failures are APP_REQUEST_INVALID before any handler runs; defineAppErrors gives stable
// codes, names and docs paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { AppError, GeodeError, appSpec, defineAppErrors } from '@geode/protocol';
import type { HandlerContext } from '../src/app.ts';
import { defineApp } from '../src/define-app.ts';

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
  const ctx = {} as HandlerContext;
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
