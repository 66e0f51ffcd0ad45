import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getAddress, type Address } from 'viem';
import {
  COMPUTATION_TYPES, ctypeFromName, ctypeToName, decodeCreateBody, decodeOutput, encodeCreateBody, encodeRequest,
  BadOutputError, BadRequestError, InvalidValueError, type Request,
} from '../src/index.ts';
import * as index from '../src/index.ts';
import { encodeOutputMessage } from '@geode/protocol';
import { ALICE, BOB } from './requests.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

test('ctype names <-> numbers follow Computations.sol (0 average, 1 max, 2 min, 3 keyMatcher)', () => {
  assert.deepEqual([...COMPUTATION_TYPES], ['average', 'max', 'min', 'keyMatcher']);
  for (let i = 0; i < 4; i++) assert.equal(ctypeFromName(ctypeToName(i)), i);
  assert.throws(() => ctypeToName(4), (e: InvalidValueError) => e.code === 'APP_INVALID_VALUE');
  assert.throws(() => ctypeToName(1.5), (e: InvalidValueError) => e.code === 'APP_INVALID_VALUE');
  assert.throws(() => ctypeFromName('median'), (e: InvalidValueError) => e.code === 'APP_INVALID_VALUE');
});

test('encodeRequest: canonical UTF-8 JSON; refuses bad requests locally with the enclave\'s codes', () => {
  const bytes = encodeRequest({ value: 1.5, op: 'submit', computation: 'c' } as Request);
  assert.equal(dec.decode(bytes), '{"computation":"c","op":"submit","value":1.5}');
  assert.equal(dec.decode(encodeRequest({ op: 'submitKey', computation: 'ü', key: 'k', message: '' })), '{"computation":"ü","key":"k","message":"","op":"submitKey"}');
  assert.throws(() => encodeRequest({ op: 'submit', computation: 'c', value: Number.NaN }), (e: InvalidValueError) => e.code === 'APP_INVALID_VALUE');
  assert.throws(() => encodeRequest({ op: 'submit', computation: 'c', value: Infinity }), (e: InvalidValueError) => e.code === 'APP_INVALID_VALUE');
  assert.throws(() => encodeRequest({ op: 'submitKey', computation: 'c', key: '', message: '' }), (e: InvalidValueError) => e.code === 'APP_INVALID_VALUE');
  assert.throws(() => encodeRequest({ op: 'nope', computation: 'c' } as unknown as Request), (e: BadRequestError) => e.code === 'APP_BAD_REQUEST');
  assert.throws(() => encodeRequest({ op: 'result', computation: '' }), (e: BadRequestError) => e.code === 'APP_BAD_REQUEST');
});

test('decodeOutput: accepts app outputs and the runtime\'s error outputs; refuses anything else with APP_BAD_OUTPUT', () => {
  const okOut = { seq: '12', op: 'result', computation: 'c', ok: true, result: { type: 'max', participant: ALICE } };
  assert.deepEqual(decodeOutput(enc.encode(JSON.stringify(okOut))), okOut);
  const avg = { seq: '3', op: 'result', computation: 'c', ok: true, result: { type: 'average', value: -2.5, count: 3 } };
  assert.deepEqual(decodeOutput(enc.encode(JSON.stringify(avg))), avg);
  const match = { seq: '4', op: 'submitKey', computation: 'c', ok: true, result: { type: 'match', key: 'k', messages: [{ from: BOB, message: 'hi' }] } };
  assert.deepEqual(decodeOutput(enc.encode(JSON.stringify(match))), match);
  const runtimeErr = { seq: '5', ok: false, error: { code: 'APP_LOCKED', message: 'locked', details: { computation: 'c' } } };
  const d = decodeOutput(enc.encode(JSON.stringify(runtimeErr)));
  assert.equal(d.ok, false);
  assert.equal(!d.ok && d.error.code, 'APP_LOCKED');
  const bad = (v: unknown) => assert.throws(() => decodeOutput(typeof v === 'string' ? enc.encode(v) : enc.encode(JSON.stringify(v))), (e: BadOutputError) => e.code === 'APP_BAD_OUTPUT');
  bad('not json');
  bad({ ...okOut, seq: 12 });
  bad({ ...okOut, result: { type: 'max', participant: ALICE.replace('a11ce', 'A11CE') } }); // outputs carry lowercase addresses only
  bad({ ...okOut, result: { type: 'max', participant: ALICE, value: 5 } }); // a max result never carries a value
  bad({ ...okOut, ok: false });
  assert.throws(() => decodeOutput(new Uint8Array([0xff])), (e: BadOutputError) => e.code === 'APP_BAD_OUTPUT');
});

test('decodeOutput: unwraps the runtime\'s output plaintext {seq, ok, message|error}', () => {
  const inner = { seq: '7', op: 'submit', computation: 'c', ok: true, result: { type: 'accepted' } } as const;
  assert.deepEqual(decodeOutput(encodeOutputMessage({ seq: '7', ok: true, message: inner })), inner);
  assert.deepEqual(index.toOutput({ seq: '7', ok: true, message: inner }), inner);
  const err = decodeOutput(encodeOutputMessage({ seq: '8', ok: false, error: { code: 'APP_QUORUM_NOT_REACHED', message: 'wait' } }));
  assert.deepEqual(err, { seq: '8', ok: false, error: { code: 'APP_QUORUM_NOT_REACHED', message: 'wait' } });
  const bad = (m: unknown) => assert.throws(() => decodeOutput(encodeOutputMessage({ seq: '7', ok: true, message: m })), (e: BadOutputError) => e.code === 'APP_BAD_OUTPUT');
  bad({ ...inner, seq: '6' }); // envelope and app output disagree on seq
  bad({ registered: '0x' + '11'.repeat(32) }); // another app's (or the runtime's) message
  bad({ ...inner, ok: false });
});

test('create body: decodeCreateBody inverts encodeCreateBody and lowercases participants; garbage is APP_BAD_REQUEST', () => {
  const body = { name: 'n', ctype: 3, participants: [getAddress(ALICE), getAddress(BOB)] as Address[], quorum: 2n };
  assert.deepEqual(decodeCreateBody(encodeCreateBody(body)), { ...body, participants: [ALICE, BOB] });
  assert.throws(() => decodeCreateBody(new Uint8Array(31)), (e: BadRequestError) => e.code === 'APP_BAD_REQUEST');
});

test('the client entry point does not expose enclave code', () => {
  assert.equal('computationsApp' in index, false);
  assert.equal(typeof index.encodeRequest, 'function');
});
