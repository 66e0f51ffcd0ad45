import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { detectEvidence, verifyAttestation } from '../src/verify.ts';
import { FIXTURES, SGX_OK, TDX_OK } from './dcap-fixtures.ts';

const read = (p: string) => new Uint8Array(readFileSync(FIXTURES + p));

test('detectEvidence: binary, hex (with/without 0x), base64, as bytes or string', () => {
  const sgx = SGX_OK.quote();
  const forms: [Uint8Array | string, string][] = [
    [sgx, 'binary'],
    [Buffer.from(sgx).toString('hex'), 'hex'],
    ['0x' + Buffer.from(sgx).toString('hex').toUpperCase(), 'hex'],
    [Buffer.from(sgx).toString('base64'), 'base64'],
    [new TextEncoder().encode(Buffer.from(sgx).toString('base64').replace(/(.{76})/g, '$1\n')), 'base64'],
  ];
  for (const [input, encoding] of forms) {
    const d = detectEvidence(input);
    assert.equal(d.kind, 'dcap');
    assert.equal(d.teeType, 'sgx');
    assert.equal(d.encoding, encoding);
    assert.deepEqual(Buffer.from(d.bytes), Buffer.from(sgx));
  }
  assert.equal(detectEvidence(read('dcap-qvl/tdx-quote.hex')).teeType, 'tdx');
  assert.equal(detectEvidence(read('go-tdx-guest/quote_v5_sample.dat')).version, 5);
  const snp = detectEvidence(read('sev-snp/go-sev-guest/attestation.bin'));
  assert.deepEqual([snp.kind, snp.version], ['sev-snp', 2]);
  const nitro = detectEvidence(read('nitro/blocky-nitrite/nitro_attestation.b64'));
  assert.deepEqual([nitro.kind, nitro.encoding], ['nitro', 'base64']);
});

test('detectEvidence: garbage is typed', () => {
  const codeOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return 'none';
  };
  assert.equal(codeOf(() => detectEvidence(new Uint8Array([0xff, 0x00, 0x01]))), 'ATTEST_UNSUPPORTED_EVIDENCE');
  assert.equal(codeOf(() => detectEvidence('hello world!')), 'ATTEST_DECODE');
  assert.equal(codeOf(() => detectEvidence('abcd')), 'ATTEST_UNSUPPORTED_EVIDENCE');
});

test('verifyAttestation dispatches DCAP (collateral required) and SEV-SNP', async () => {
  const v = await verifyAttestation(Buffer.from(TDX_OK.quote()).toString('hex'), { collateral: readFileSync(FIXTURES + TDX_OK.collateral, 'utf8'), now: TDX_OK.now });
  assert.equal(v.status, 'UpToDate');
  await assert.rejects(verifyAttestation(TDX_OK.quote(), { now: TDX_OK.now }), (e: { code?: string }) => e.code === 'ATTEST_COLLATERAL_MISSING');
  const snp = await verifyAttestation(read('sev-snp/go-sev-guest/attestation.bin'), { collateral: read('sev-snp/go-sev-guest/vcek.testcer'), now: 1663981200 });
  assert.equal(snp.teeType, 'sev-snp');
  assert.equal(snp.measurements.measurement, 'b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01');
});

test('verifyAttestation dispatches Nitro (document timestamp as default time)', async () => {
  const v = await verifyAttestation(readFileSync(FIXTURES + 'nitro/blocky-nitrite/nitro_attestation.b64', 'utf8'), {});
  assert.equal(v.teeType, 'nitro');
  assert.equal(v.measurements.pcrs?.[0], 'e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a');
});
