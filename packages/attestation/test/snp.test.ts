import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { parseSnpReport, verifySnpReport, decodeSnpTcb, SNP_ROOTS, SNP_REPORT_LEN } from '../src/snp/index.ts';
import { codeOf } from './util.ts';

const FIX = new URL('../../../../shared/fixtures/attestation/', import.meta.url);
const ROOTS = new URL('../roots/amd/', import.meta.url);
const report = new Uint8Array(readFileSync(new URL('sev-snp/go-sev-guest/attestation.bin', FIX)));
const vcekDer = new Uint8Array(readFileSync(new URL('sev-snp/go-sev-guest/vcek.testcer', FIX)));
const milanPem = readFileSync(new URL('roots/amd/ask_ark_milan.pem', FIX), 'utf8');
const genoaPem = readFileSync(new URL('roots/amd/ask_ark_genoa.pem', FIX), 'utf8');
const NOW = 1663981200; // 2022-09-24T01:00:00Z (README)


test('SNP: the go-sev-guest Milan report verifies with its VCEK and the pinned Milan chain', () => {
  for (const certChainPem of [milanPem, undefined]) {
    const v = verifySnpReport(report, { now: NOW, vcekDer, certChainPem, product: 'Milan' });
    assert.equal(v.teeType, 'sev-snp');
    assert.equal(v.status, 'Verified');
    assert.equal(v.version, 2);
    assert.equal(v.simulated, false);
    assert.equal(v.debug, true, 'policy 0xB0000 has bit 19 (DEBUG)');
    assert.equal(v.measurements.measurement, 'b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01');
    assert.equal(v.measurements.reportData, '0102030405' + '00'.repeat(59));
    assert.equal(v.measurements.policy, '00000000000b0000');
    assert.equal(v.measurements.reportedTcb, '0200000000000544');
    assert.equal(v.measurements.vmpl, 0);
    assert.match(v.measurements.chipId!, /^3ac3fe21[0-9a-f]+006b5d$/);
    assert.equal(v.measurements.hostData, '00'.repeat(32));
    assert.equal(v.validUntil, '2029-09-24T00:55:28Z');
  }
  // Without opts.product: the product comes from the VCEK (Milan-B0). Any time up to 2029-09-24 works.
  assert.equal(verifySnpReport(report, { now: 1800000000, vcekDer }).status, 'Verified');
});

test('SNP: parser fields (ABI #56860 Table 22)', () => {
  const r = parseSnpReport(report);
  assert.equal(r.version, 2);
  assert.equal(r.signatureAlgo, 1);
  assert.equal(r.policy, 0xb0000n);
  assert.equal(r.currentTcb, '0200000000000544');
  assert.equal(r.signingKey, 0);
  assert.equal(r.cpuidFamId, undefined, 'v2 has no CPUID fields');
  assert.deepEqual(decodeSnpTcb(Buffer.from(r.reportedTcb, 'hex'), 'Milan'), { bootloader: 2, tee: 0, snp: 5, microcode: 68 });
  assert.deepEqual(decodeSnpTcb(Uint8Array.from([9, 2, 0, 5, 0, 0, 0, 68]), 'Turin'), { fmc: 9, bootloader: 2, tee: 0, snp: 5, microcode: 68 });
  assert.equal(r.signatureP1363.length, 96);
});

test('SNP: embedded roots equal roots/amd files; Milan ARK fingerprint as published', () => {
  assert.equal(SNP_ROOTS.Milan.arkSha256, '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd');
  const files = { Milan: ['ask_ark_milan.pem', 'ask_ark_milan_vlek.pem'], Genoa: ['ask_ark_genoa.pem', 'ask_ark_genoa_vlek.pem'], Turin: ['ask_ark_turin_vcek.pem', 'ask_ark_turin_vlek.pem'] } as const;
  for (const [p, [vcekFile, vlekFile]] of Object.entries(files) as [keyof typeof files, readonly [string, string]][]) {
    const b64 = (f: string) => [...readFileSync(new URL(f, ROOTS), 'utf8').matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END/g)].map((m) => m[1]!.replace(/\s/g, ''));
    const [ask, ark] = b64(vcekFile);
    const [asvk, ark2] = b64(vlekFile);
    assert.equal(SNP_ROOTS[p].ask, ask);
    assert.equal(SNP_ROOTS[p].ark, ark);
    assert.equal(SNP_ROOTS[p].ark, ark2);
    assert.equal(SNP_ROOTS[p].asvk, asvk);
    assert.equal(createHash('sha256').update(Buffer.from(ark!, 'base64')).digest('hex'), SNP_ROOTS[p].arkSha256);
    const arkCert = new X509Certificate(Buffer.from(ark!, 'base64'));
    assert.match(arkCert.subject, new RegExp(`CN=ARK-${p}`));
    assert.ok(arkCert.verify(arkCert.publicKey));
    assert.ok(new X509Certificate(Buffer.from(asvk!, 'base64')).verify(arkCert.publicKey), `${p} ASVK issued by ARK`);
  }
});

test('SNP: byte flips in the signed region and in the signature are refused (ATTEST_SNP_SIGNATURE)', () => {
  // Offsets in 0x000-0x29F except VERSION (0x00-0x03) and SIGNATURE_ALGO (0x34-0x37), which the parser checks
  // first (ATTEST_DECODE), plus the low 48 bytes of r (0x2A0) and s (0x2E8).
  const offsets = [0x04, 0x08, 0x0a, 0x30, 0x38, 0x50, 0x54, 0x90, 0xbf, 0xc0, 0x180, 0x186, 0x1a0, 0x1df, 0x1e0, 0x29f, 0x2a0, 0x2cf, 0x2e8, 0x317];
  for (const off of offsets) {
    const t = report.slice();
    t[off]! ^= 0x01;
    assert.equal(codeOf(() => verifySnpReport(t, { now: NOW, vcekDer })), 'ATTEST_SNP_SIGNATURE', `flip at 0x${off.toString(16)}`);
  }
  // A flip that turns SIGNING_KEY (flags word 0x48, bits 2-4) into 1 claims a VLEK signature: the VCEK given is then
  // the wrong kind of key, refused before any signature check (ATTEST_CHAIN_INVALID). Every other flip is a signature
  // failure. Found by an unseeded run (counterexample 0x48 ^ 4); the property is seeded now, and this case is pinned.
  const flags = report[0x48]!;
  const expected = (off: number, t: Uint8Array) => (off === 0x48 && ((t[0x48]! >> 2) & 7) === 1 && ((flags >> 2) & 7) !== 1 ? 'ATTEST_CHAIN_INVALID' : 'ATTEST_SNP_SIGNATURE');
  const vlekClaim = report.slice();
  vlekClaim[0x48]! ^= 0x04;
  assert.equal(codeOf(() => verifySnpReport(vlekClaim, { now: NOW, vcekDer })), expected(0x48, vlekClaim));
  assert.equal(expected(0x48, vlekClaim), 'ATTEST_CHAIN_INVALID');
  fc.assert(
    fc.property(fc.integer({ min: 0x38, max: 0x29f }), fc.integer({ min: 1, max: 255 }), (off, x) => {
      const t = report.slice();
      t[off]! ^= x;
      return codeOf(() => verifySnpReport(t, { now: NOW, vcekDer })) === expected(off, t);
    }),
    { numRuns: 60, seed: 20261201 },
  );
});

test('SNP: wrong product chain is refused (ATTEST_CHAIN_INVALID)', () => {
  assert.equal(codeOf(() => verifySnpReport(report, { now: NOW, vcekDer, certChainPem: genoaPem })), 'ATTEST_CHAIN_INVALID');
  assert.equal(codeOf(() => verifySnpReport(report, { now: NOW, vcekDer, product: 'Genoa' })), 'ATTEST_CHAIN_INVALID');
  assert.equal(codeOf(() => verifySnpReport(report, { now: NOW, vcekDer, product: 'Turin' })), 'ATTEST_CHAIN_INVALID');
  // Milan ASK with the Genoa ARK appended: ARK is not the pinned Milan ARK.
  const askMilan = milanPem.split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n';
  const arkGenoa = '-----BEGIN CERTIFICATE-----' + genoaPem.split('-----BEGIN CERTIFICATE-----')[2];
  assert.equal(codeOf(() => verifySnpReport(report, { now: NOW, vcekDer, certChainPem: askMilan + arkGenoa })), 'ATTEST_CHAIN_INVALID');
  // The ASK alone given as the VCEK: not an endorsement key.
  const askDer = new X509Certificate(askMilan).raw;
  assert.equal(codeOf(() => verifySnpReport(report, { now: NOW, vcekDer: new Uint8Array(askDer) })), 'ATTEST_CHAIN_INVALID');
});

test('SNP: time after the certificate validity is ATTEST_CERT_EXPIRED, before it ATTEST_CERT_NOT_YET_VALID; missing VCEK', () => {
  assert.equal(codeOf(() => verifySnpReport(report, { now: Date.parse('2029-09-24T01:00:00Z') / 1000, vcekDer })), 'ATTEST_CERT_EXPIRED');
  assert.equal(codeOf(() => verifySnpReport(report, { now: Date.parse('2022-09-24T00:00:00Z') / 1000, vcekDer })), 'ATTEST_CERT_NOT_YET_VALID');
  assert.equal(codeOf(() => verifySnpReport(report, { now: NOW })), 'ATTEST_COLLATERAL_MISSING');
});

test('SNP: truncated, extended and random inputs give ATTEST_DECODE only (property)', () => {
  for (const n of [0, 1, 100, SNP_REPORT_LEN - 1, SNP_REPORT_LEN + 1]) {
    const t = new Uint8Array(n);
    t.set(report.subarray(0, Math.min(n, report.length)));
    assert.equal(codeOf(() => parseSnpReport(t)), 'ATTEST_DECODE', `length ${n}`);
  }
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 1300 }), (bytes) => {
      const c = codeOf(() => verifySnpReport(bytes, { now: NOW, vcekDer }));
      return c === 'ATTEST_DECODE';
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: SNP_REPORT_LEN - 1 }), (n) => codeOf(() => verifySnpReport(report.subarray(0, n), { now: NOW, vcekDer })) === 'ATTEST_DECODE'),
    { numRuns: 100 },
  );
  // Random bytes with a plausible header (version 2, algo 1): parse succeeds or refuses with ATTEST_DECODE;
  // verification then fails on the signature, never with an untyped error.
  fc.assert(
    fc.property(fc.uint8Array({ minLength: SNP_REPORT_LEN, maxLength: SNP_REPORT_LEN }), (bytes) => {
      const t = bytes.slice();
      new DataView(t.buffer).setUint32(0, 2, true);
      new DataView(t.buffer).setUint32(0x34, 1, true);
      const c = codeOf(() => verifySnpReport(t, { now: NOW, vcekDer }));
      return c === 'ATTEST_DECODE' || c === 'ATTEST_SNP_SIGNATURE';
    }),
    { numRuns: 100 },
  );
  // A garbage certificate: ATTEST_DECODE.
  assert.equal(codeOf(() => verifySnpReport(report, { now: NOW, vcekDer: new Uint8Array(50) })), 'ATTEST_DECODE');
});
