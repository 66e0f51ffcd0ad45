/**
 * Parser property tests (fast-check): random bytes, truncations and byte edits of real quotes
 * raise only ATTEST_DECODE / ATTEST_UNSUPPORTED_VERSION, never another exception, never hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseQuote } from '../src/dcap/quote.ts';
import { verifyDcapQuote } from '../src/dcap/verify.ts';
import { createDcapCache } from '../src/dcap/cache.ts';
import { DCAP_CASES, json, SGX_OK, TDX_OK, TDX_V5_OK } from './dcap-fixtures.ts';

const PARSE_CODES = new Set(['ATTEST_DECODE', 'ATTEST_UNSUPPORTED_VERSION']);

function parseOutcome(b: Uint8Array): string {
  try {
    parseQuote(b);
    return 'ok';
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code && PARSE_CODES.has(code)) return code;
    throw e;
  }
}

const REAL = [SGX_OK, TDX_OK, TDX_V5_OK, DCAP_CASES[7]].map((c) => c.quote());

test('random bytes: only typed decode errors', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 6000 }), (b) => { parseOutcome(b); }), { numRuns: 400 });
});

test('random bytes after a valid header prefix: only typed decode errors', () => {
  const prefixes = REAL.map((q) => q.subarray(0, 48));
  fc.assert(
    fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 5000 }), (p, tail) => {
      const b = new Uint8Array(p.length + tail.length);
      b.set(p);
      b.set(tail, p.length);
      parseOutcome(b);
    }),
    { numRuns: 400 },
  );
});

test('every truncation of the real quotes is ATTEST_DECODE (exhaustive up to the end of the signature data)', () => {
  for (const q of REAL) {
    const end = q.length - parseQuote(q).trailingBytes;
    for (let n = 0; n < end; n++) assert.equal(parseOutcome(q.subarray(0, n)), 'ATTEST_DECODE', `length ${n}`);
    assert.equal(parseOutcome(q.subarray(0, end)), 'ok');
  }
});

test('random byte edits of real quotes: parse is ok or a typed error', () => {
  fc.assert(
    fc.property(fc.constantFrom(...REAL), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (q, edits) => {
      const b = new Uint8Array(q);
      for (const [i, v] of edits) b[i % b.length] = v;
      parseOutcome(b);
    }),
    { numRuns: 500 },
  );
});

test('length fields set to extreme values are ATTEST_DECODE', () => {
  for (const q of REAL) {
    const p = parseQuote(q);
    const sigLenAt = p.signedBytes.length;
    for (const v of [0, 1, 0x7fffffff, 0xffffffff]) {
      const b = new Uint8Array(q);
      new DataView(b.buffer).setUint32(sigLenAt, v, true);
      assert.equal(parseOutcome(b), 'ATTEST_DECODE');
    }
    // QE auth data size.
    const authAt = p.signatureData.qe.qeAuthData.byteOffset - q.byteOffset - 2;
    for (const v of [0, 0xffff]) {
      const b = new Uint8Array(q);
      new DataView(b.buffer).setUint16(authAt, v, true);
      assert.equal(parseOutcome(b), 'ATTEST_DECODE');
    }
  }
});

test('unsupported versions, key types, TEE types and body types are ATTEST_UNSUPPORTED_VERSION', () => {
  const edit = (q: Uint8Array, at: number, v: number, size: 2 | 4) => {
    const b = new Uint8Array(q);
    const dv = new DataView(b.buffer);
    if (size === 2) dv.setUint16(at, v, true);
    else dv.setUint32(at, v, true);
    return b;
  };
  assert.equal(parseOutcome(edit(SGX_OK.quote(), 0, 2, 2)), 'ATTEST_UNSUPPORTED_VERSION');
  assert.equal(parseOutcome(edit(SGX_OK.quote(), 0, 6, 2)), 'ATTEST_UNSUPPORTED_VERSION');
  assert.equal(parseOutcome(edit(SGX_OK.quote(), 2, 3, 2)), 'ATTEST_UNSUPPORTED_VERSION');
  assert.equal(parseOutcome(edit(SGX_OK.quote(), 4, 0x81, 4)), 'ATTEST_UNSUPPORTED_VERSION');
  assert.equal(parseOutcome(edit(TDX_OK.quote(), 4, 0x82, 4)), 'ATTEST_UNSUPPORTED_VERSION');
  assert.equal(parseOutcome(edit(TDX_V5_OK.quote(), 48, 9, 2)), 'ATTEST_UNSUPPORTED_VERSION');
  // v5 descriptor size inconsistent with its type.
  assert.equal(parseOutcome(edit(TDX_V5_OK.quote(), 50, 584, 4)), 'ATTEST_DECODE');
});

test('verifyDcapQuote on random edits: only AttestationError codes, never an untyped exception', () => {
  const col = json(SGX_OK.collateral);
  const cache = createDcapCache();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const b = SGX_OK.quote();
      for (const [i, v] of edits) b[i % b.length] = v;
      try {
        verifyDcapQuote(b, col, { now: SGX_OK.now, cache });
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        assert.match(code, /^ATTEST_/, String(e));
      }
    }),
    { numRuns: 150 },
  );
});
