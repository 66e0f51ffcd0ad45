import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { Decoder, Encoder } from 'cbor-x';
import { parseNitroDocument, verifyNitroDocument, AWS_NITRO_ROOT_B64, AWS_NITRO_ROOT_SHA256 } from '../src/nitro/index.ts';
import { codeOf } from './util.ts';

const FIX = new URL('../../../../shared/fixtures/attestation/nitro/blocky-nitrite/', import.meta.url);
const load = (f: string) => new Uint8Array(Buffer.from(readFileSync(new URL(f, FIX), 'utf8').trim(), 'base64'));
const doc = load('nitro_attestation.b64');
const debugDoc = load('nitro_attestation_debug.b64');
const TS = 1725719859545; // README: the document's own timestamp (ms)
const TS_DEBUG = 1725719886508;

const indexOf = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).indexOf(Buffer.from(needle));

test('Nitro: the blocky/nitrite document verifies at its timestamp (untagged and tagged)', () => {
  const v = verifyNitroDocument(doc);
  assert.equal(v.teeType, 'nitro');
  assert.equal(v.status, 'Verified');
  assert.equal(v.version, 1);
  assert.equal(v.debug, false);
  assert.equal(v.simulated, false);
  assert.equal(v.measurements.moduleId, 'i-0a22e5c5f24d22174-enc0191cceb4289903f');
  assert.equal(v.measurements.pcrs![0], 'e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a');
  assert.match(v.measurements.pcrs![1]!, /^0343b056.*c6aa$/);
  assert.match(v.measurements.pcrs![2]!, /^d5dcbdea.*b75c$/);
  assert.equal(v.measurements.userData, '01'.repeat(1024));
  assert.equal(v.measurements.nonce, '01'.repeat(1024));
  assert.match(v.measurements.publicKey!, /^(01)+$/);
  assert.equal(v.validFrom, '2024-09-07T14:37:36Z');
  assert.equal(v.validUntil, '2024-09-07T17:37:39Z');
  assert.equal(verifyNitroDocument(doc, { now: TS / 1000 }).status, 'Verified');
  const tagged = new Uint8Array([0xd2, ...doc]);
  assert.equal(parseNitroDocument(tagged).tagged, true);
  assert.equal(verifyNitroDocument(tagged).status, 'Verified');
  const p = parseNitroDocument(doc);
  assert.equal(p.tagged, false);
  assert.equal(p.timestampMs, TS);
  assert.equal(p.cabundle.length, 4);
  assert.equal(p.alg, -35);
});

test('Nitro: debug document verifies with debug=true and zero PCR0/1/2', () => {
  const v = verifyNitroDocument(debugDoc);
  assert.equal(v.status, 'Verified');
  assert.equal(v.debug, true);
  for (const i of [0, 1, 2]) assert.equal(v.measurements.pcrs![i], '00'.repeat(48));
  assert.match(v.measurements.pcrs![4]!, /^45706d7b.*6b44$/);
  assert.equal(parseNitroDocument(debugDoc).timestampMs, TS_DEBUG);
});

test('Nitro: embedded root equals roots/aws and has the AWS-published fingerprint', () => {
  const pem = readFileSync(new URL('../roots/aws/aws_nitro_enclaves_rootca.pem', import.meta.url), 'utf8');
  const der = new X509Certificate(pem).raw;
  assert.equal(Buffer.from(AWS_NITRO_ROOT_B64, 'base64').toString('hex'), der.toString('hex'));
  assert.equal(AWS_NITRO_ROOT_SHA256, '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b');
  assert.equal(createHash('sha256').update(der).digest('hex'), AWS_NITRO_ROOT_SHA256);
  assert.equal(Buffer.from(parseNitroDocument(doc).cabundle[0]!).toString('hex'), der.toString('hex'));
});

test('Nitro: signature and payload byte flips are refused (ATTEST_NITRO_SIGNATURE)', () => {
  const sigOff = doc.length - 96;
  const pcr0 = indexOf(doc, Buffer.from('e72a46ca80a260fb', 'hex'));
  const userData = indexOf(doc, new Uint8Array(1024).fill(1));
  const moduleId = indexOf(doc, Buffer.from('i-0a22e5c5f24d22174'));
  assert.ok(pcr0 > 0 && userData > 0 && moduleId > 0);
  for (const off of [sigOff, sigOff + 47, sigOff + 48, doc.length - 1, pcr0, pcr0 + 47, userData, userData + 1023, moduleId + 3]) {
    const t = doc.slice();
    t[off]! ^= 0x01;
    assert.equal(codeOf(() => verifyNitroDocument(t, { now: TS / 1000 })), 'ATTEST_NITRO_SIGNATURE', `flip at ${off}`);
  }
});

test('Nitro: time after the leaf validity is ATTEST_CERT_EXPIRED, before it ATTEST_CERT_NOT_YET_VALID', () => {
  assert.equal(codeOf(() => verifyNitroDocument(doc, { now: Date.parse('2024-09-07T17:37:40Z') / 1000 })), 'ATTEST_CERT_EXPIRED');
  assert.equal(codeOf(() => verifyNitroDocument(doc, { now: Date.parse('2026-01-01T00:00:00Z') / 1000 })), 'ATTEST_CERT_EXPIRED');
  assert.equal(codeOf(() => verifyNitroDocument(doc, { now: Date.parse('2024-09-07T14:37:35Z') / 1000 })), 'ATTEST_CERT_NOT_YET_VALID');
  // The debug doc's leaf is valid from 14:38:03: the normal doc's timestamp is before it.
  assert.equal(codeOf(() => verifyNitroDocument(debugDoc, { now: TS / 1000 })), 'ATTEST_CERT_NOT_YET_VALID');
});

test('Nitro: a cabundle not rooted at the AWS root is refused (ATTEST_CHAIN_INVALID); wrong alg is ATTEST_NITRO_FORMAT', () => {
  const dec = new Decoder({ mapsAsObjects: false, useRecords: false } as never);
  const enc = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: false } as never);
  const [prot, unprot, payload, sig] = dec.decode(Buffer.from(doc)) as [Buffer, Map<unknown, unknown>, Buffer, Buffer];
  const p = dec.decode(payload) as Map<string, unknown>;
  const rebuild = (pl: Map<string, unknown>, protBytes: Buffer = prot) => new Uint8Array(enc.encode([protBytes, unprot, enc.encode(pl), sig]));
  // Re-encoded documents keep the original signature: only refusals are asserted.
  const bundle = p.get('cabundle') as Buffer[];
  const dropRoot = new Map(p);
  dropRoot.set('cabundle', bundle.slice(1));
  assert.equal(codeOf(() => verifyNitroDocument(rebuild(dropRoot), { now: TS / 1000 })), 'ATTEST_CHAIN_INVALID');
  const skipOne = new Map(p);
  skipOne.set('cabundle', [bundle[0], bundle[2], bundle[3]]);
  assert.equal(codeOf(() => verifyNitroDocument(rebuild(skipOne), { now: TS / 1000 })), 'ATTEST_CHAIN_INVALID');
  assert.equal(codeOf(() => verifyNitroDocument(rebuild(p, enc.encode(new Map([[1, -7]]))), { now: TS / 1000 })), 'ATTEST_NITRO_FORMAT');
  const noDigest = new Map(p);
  noDigest.set('digest', 'SHA256');
  assert.equal(codeOf(() => verifyNitroDocument(rebuild(noDigest), { now: TS / 1000 })), 'ATTEST_NITRO_FORMAT');
  const noPcrs = new Map(p);
  noPcrs.delete('pcrs');
  assert.equal(codeOf(() => verifyNitroDocument(rebuild(noPcrs), { now: TS / 1000 })), 'ATTEST_NITRO_FORMAT');
});

test('Nitro: truncated and random inputs give decode errors only (property)', () => {
  const decodeCodes = new Set(['ATTEST_DECODE', 'ATTEST_NITRO_FORMAT']);
  for (const n of [0, 1, 2, 10, 100, doc.length - 1]) {
    assert.equal(codeOf(() => verifyNitroDocument(doc.subarray(0, n))), 'ATTEST_DECODE', `length ${n}`);
  }
  fc.assert(
    fc.property(fc.integer({ min: 0, max: doc.length - 1 }), (n) => codeOf(() => verifyNitroDocument(doc.subarray(0, n))) === 'ATTEST_DECODE'),
    { numRuns: 150 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), (bytes) => decodeCodes.has(codeOf(() => verifyNitroDocument(bytes)))),
    { numRuns: 300 },
  );
  // Arbitrary well-formed CBOR values: never verified, always a typed decode/format error.
  const enc = new Encoder({ useRecords: false, tagUint8Array: false } as never);
  fc.assert(
    fc.property(fc.jsonValue(), (v) => decodeCodes.has(codeOf(() => verifyNitroDocument(new Uint8Array(enc.encode(v)))))),
    { numRuns: 200 },
  );
  // Trailing bytes after the COSE_Sign1 are refused.
  assert.equal(codeOf(() => verifyNitroDocument(new Uint8Array([...doc, 0]))), 'ATTEST_DECODE');
  // Any single-byte change anywhere: refused with a typed error, never accepted.
  const refusal = new Set(['ATTEST_DECODE', 'ATTEST_NITRO_FORMAT', 'ATTEST_NITRO_SIGNATURE', 'ATTEST_CHAIN_INVALID', 'ATTEST_CERT_EXPIRED']);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: doc.length - 1 }), fc.integer({ min: 1, max: 255 }), (off, x) => {
      const t = doc.slice();
      t[off]! ^= x;
      return refusal.has(codeOf(() => verifyNitroDocument(t, { now: TS / 1000 })));
    }),
    { numRuns: 200 },
  );
});
