import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { verifyDcapQuote } from '../src/dcap/verify.ts';
import { parseQuote } from '../src/dcap/quote.ts';
import { createDcapCache } from '../src/dcap/cache.ts';
import { collateralFromPcsBodies, extractJsonValueText, parseCollateral } from '../src/dcap/collateral.ts';
import { intelSgxRootCaDer, INTEL_SGX_ROOT_CA_SHA256 } from '../src/dcap/roots.ts';
import { convergeStatus } from '../src/dcap/tcb.ts';
import { DCAP_CASES, FIXTURES, bin, hexFile, json, SGX_OK, TDX_OK } from './dcap-fixtures.ts';
import { codeOf } from './util.ts';


for (const c of DCAP_CASES) {
  test(`fixture verdict: ${c.name}`, () => {
    const run = () => verifyDcapQuote(c.quote(), json(c.collateral), { now: c.now, cache: createDcapCache() });
    if ('code' in c.expect) {
      assert.equal(codeOf(run), c.expect.code);
      return;
    }
    const v = run();
    assert.equal(v.status, c.expect.status);
    assert.deepEqual(v.advisoryIds, c.expect.advisoryIds);
    assert.equal(v.teeType, c.expect.teeType);
    assert.equal(v.version, c.expect.version);
    assert.equal(v.simulated, false);
    assert.equal(v.debug, false);
    if (c.expect.validFrom) assert.equal(v.validFrom, c.expect.validFrom);
    if (c.expect.validUntil) assert.equal(v.validUntil, c.expect.validUntil);
    assert.equal(v.trailingBytes, c.expect.trailingBytes);
    assert.ok(v.checks.length >= 9);
  });
}

test('SGX fixture measurements (README: MRENCLAVE, MRSIGNER, attributes, report data)', () => {
  const v = verifyDcapQuote(SGX_OK.quote(), json(SGX_OK.collateral), { now: SGX_OK.now });
  assert.equal(v.measurements.mrEnclave, '33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb');
  assert.equal(v.measurements.mrSigner, '815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6');
  assert.equal(v.measurements.isvProdId, 0);
  assert.equal(v.measurements.isvSvn, 0);
  assert.equal(v.measurements.attributes, '0500000000000000e700000000000000');
  assert.equal(v.measurements.reportData, Buffer.concat([Buffer.from('Hello, world!'), Buffer.alloc(51)]).toString('hex'));
  assert.equal(v.fmspc, '00a067110000');
  assert.equal(v.pceId, '0000');
});

test('automata SGX fixture measurements', () => {
  const c = DCAP_CASES[5];
  const v = verifyDcapQuote(c.quote(), json(c.collateral), { now: c.now });
  assert.equal(v.measurements.mrEnclave, 'a4f45c39dac622cb1dd32ddb35a52ec92db41d0fa88a1c911c49e59c534f61cd');
  assert.equal(v.measurements.mrSigner, '8f2dbc0f9c5d3378d596974b2deed1f93223cc49242899f83809bcc92546132c');
  assert.equal(v.measurements.reportData, '00'.repeat(64));
  assert.equal(v.fmspc, '00606a000000');
});

test('TDX v4 fixture measurements (MRTD, TEE_TCB_SVN, TDATTRIBUTES)', () => {
  const v = verifyDcapQuote(TDX_OK.quote(), json(TDX_OK.collateral), { now: TDX_OK.now });
  assert.equal(v.measurements.mrTd, '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7');
  assert.ok(v.measurements.teeTcbSvn?.startsWith('06010300'));
  assert.equal(v.measurements.tdAttributes, '0000001000000000');
  assert.equal(v.measurements.rtmrs?.length, 4);
  assert.equal(v.measurements.mrServiceTd, undefined);
  assert.equal(v.fmspc, 'b0c06f000000');
});

test('alibaba v5 fixture: MRTD and non-zero MRSERVICETD are reported', () => {
  const c = DCAP_CASES[6];
  const v = verifyDcapQuote(c.quote(), json(c.collateral), { now: c.now });
  assert.equal(v.measurements.mrTd, '157768a71a6a31f5561978c4cde665809d22976ef5dead2952839b7b3ea23b6c2931c9148fe1d117c99faefac18bb73b');
  assert.ok(v.measurements.mrServiceTd?.startsWith('383c87d3'));
  assert.ok(v.measurements.mrServiceTd?.endsWith('a033d'));
  assert.equal(v.fmspc, '90c06f000000');
});

test('parser: README facts of the parse-only and negative fixtures', () => {
  const spr = parseQuote(bin('go-tdx-guest/tdx_prod_quote_SPR_E4.dat'));
  assert.equal(spr.header.version, 4);
  if (spr.body.kind !== 'td10') throw new Error(`expected a TD 1.0 body, got ${spr.body.kind}`);
  assert.equal(Buffer.from(spr.body.report.tdAttributes).toString('hex'), '0000004000000000');
  assert.equal(Buffer.from(spr.body.report.mrTd).toString('hex'), '6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb');
  const v5 = parseQuote(bin('go-tdx-guest/quote_v5_sample.dat'));
  assert.deepEqual(v5.bodyDescriptor, { type: 3, size: 648 });
  assert.equal(v5.body.kind, 'td15');
  const hexq = parseQuote(hexFile('dcap-qvl/tdx-quote.hex'));
  assert.equal(hexq.header.version, 4);
  assert.equal(hexq.trailingBytes, 70);
  const sgx = parseQuote(SGX_OK.quote());
  assert.equal(sgx.signatureData.outerCertType, 5);
  assert.equal(sgx.signatureData.qe.certification.type, 5);
  assert.equal(sgx.signatureData.qe.qeAuthData.length, 32);
  assert.equal(Buffer.from(sgx.header.qeVendorId).toString('hex'), '939a7233f79c4ca9940a0db3957f0607');
  assert.equal(sgx.signedBytes.length, 48 + 384);
  const tdx = parseQuote(TDX_OK.quote());
  assert.equal(tdx.signatureData.outerCertType, 6);
  assert.equal(tdx.signedBytes.length, 48 + 584);
  assert.equal(v5.signedBytes.length, 48 + 6 + 648);
});

test('the embedded Intel root equals roots/intel/IntelSGXRootCA.der and the fixture, with the published fingerprint', () => {
  const embedded = intelSgxRootCaDer();
  const file = readFileSync(new URL('../roots/intel/IntelSGXRootCA.der', import.meta.url));
  assert.deepEqual(Buffer.from(embedded), file);
  assert.deepEqual(Buffer.from(embedded), readFileSync(FIXTURES + 'roots/intel/IntelSGXRootCA.der'));
  assert.equal(createHash('sha256').update(embedded).digest('hex'), INTEL_SGX_ROOT_CA_SHA256);
});

test('explicit rootCaDer equal to the Intel root is not simulated; a different root refuses the Intel chain', () => {
  const v = verifyDcapQuote(SGX_OK.quote(), json(SGX_OK.collateral), { now: SGX_OK.now, rootCaDer: intelSgxRootCaDer() });
  assert.equal(v.simulated, false);
  const other = new Uint8Array(readFileSync(FIXTURES + 'automata/extracted/IntelSGXPCKPlatformCA.der'));
  assert.equal(codeOf(() => verifyDcapQuote(SGX_OK.quote(), json(SGX_OK.collateral), { now: SGX_OK.now, rootCaDer: other })), 'ATTEST_CHAIN_INVALID');
});

test('collateral: JSON text, bytes, number arrays and 0x hex are accepted; missing fields are typed', () => {
  const raw = json(SGX_OK.collateral);
  const text = readFileSync(FIXTURES + SGX_OK.collateral, 'utf8');
  const asArrays = { ...raw, root_ca_crl: [...Buffer.from(raw.root_ca_crl, 'hex')], pck_crl: '0x' + raw.pck_crl };
  for (const c of [text, new TextEncoder().encode(text), asArrays]) {
    const v = verifyDcapQuote(SGX_OK.quote(), parseCollateral(c), { now: SGX_OK.now });
    assert.equal(v.status, 'ConfigurationAndSWHardeningNeeded');
  }
  const v = verifyDcapQuote(SGX_OK.quote(), text, { now: SGX_OK.now });
  assert.equal(v.status, 'ConfigurationAndSWHardeningNeeded');
  const { tcb_info: _drop, ...missing } = raw;
  assert.equal(codeOf(() => parseCollateral(missing)), 'ATTEST_COLLATERAL_MISSING');
  assert.equal(codeOf(() => parseCollateral('{nope')), 'ATTEST_DECODE');
  assert.equal(codeOf(() => parseCollateral({ ...raw, pck_crl: 'zz' })), 'ATTEST_DECODE');
});

test('collateral from raw PCS bodies keeps the exact signed bytes (go-tdx-guest bodies = bundle)', () => {
  const bundle = json('go-tdx-guest/bundles/tdx_prod_quote_SPR_E4.collateral.json');
  const tcbBody = readFileSync(FIXTURES + 'go-tdx-guest/sample_tcbInfo_response', 'utf8');
  const qeBody = readFileSync(FIXTURES + 'go-tdx-guest/sample_qeIdentity_response', 'utf8');
  assert.equal(extractJsonValueText(tcbBody, 'tcbInfo'), bundle.tcb_info);
  const c = collateralFromPcsBodies({
    tcbInfoBody: tcbBody,
    tcbInfoIssuerChain: readFileSync(FIXTURES + 'go-tdx-guest/extracted/tcbInfoIssuerChain.pem', 'utf8'),
    qeIdentityBody: qeBody,
    qeIdentityIssuerChain: readFileSync(FIXTURES + 'go-tdx-guest/extracted/qeIdentityIssuerChain.pem', 'utf8'),
    pckCrl: new Uint8Array(readFileSync(FIXTURES + 'go-tdx-guest/pckcrl')),
    pckCrlIssuerChain: readFileSync(FIXTURES + 'go-tdx-guest/extracted/pckCrlIssuerChain.pem', 'utf8'),
    rootCaCrl: new Uint8Array(readFileSync(FIXTURES + 'go-tdx-guest/rootcrl.der')),
  });
  assert.equal(c.tcb_info, bundle.tcb_info);
  assert.equal(c.qe_identity, bundle.qe_identity);
  assert.equal(c.tcb_info_signature, bundle.tcb_info_signature.toLowerCase());
  assert.equal(c.pck_crl, bundle.pck_crl.toLowerCase());
  // Collateral signatures verify; the TCB match then fails exactly as with the bundle.
  assert.equal(codeOf(() => verifyDcapQuote(bin('go-tdx-guest/tdx_prod_quote_SPR_E4.dat'), c, { now: 1688173200, cache: null })), 'ATTEST_TCB_LEVEL_NOT_FOUND');
});

test('raw PCS body with Platform CA CRL (automata 0825) matches its bundle', () => {
  const bundle = json('automata/bundles/sgx_v3_0825.collateral.json');
  const tcb = readFileSync(FIXTURES + 'automata/0825/sgx_tcbinfov3_00606a000000.json', 'utf8');
  const qe = readFileSync(FIXTURES + 'automata/0825/sgx_qeidentity_v4.json', 'utf8');
  assert.equal(extractJsonValueText(tcb, 'tcbInfo'), bundle.tcb_info);
  assert.equal(extractJsonValueText(qe, 'enclaveIdentity'), bundle.qe_identity);
});

test('cache: a warm verification hits the cache and gives the same verdict; null cache recomputes', () => {
  const cache = createDcapCache();
  const a = verifyDcapQuote(SGX_OK.quote(), json(SGX_OK.collateral), { now: SGX_OK.now, cache });
  const misses = cache.stats.misses;
  const b = verifyDcapQuote(SGX_OK.quote(), json(SGX_OK.collateral), { now: SGX_OK.now, cache });
  assert.deepEqual(a, b);
  assert.equal(cache.stats.misses, misses);
  assert.ok(cache.stats.hits >= 4);
  // A cached result never widens a window: the same collateral at a later time is refused.
  assert.equal(codeOf(() => verifyDcapQuote(SGX_OK.quote(), json(SGX_OK.collateral), { now: SGX_OK.now + 86400, cache })), 'ATTEST_COLLATERAL_EXPIRED');
  const c = verifyDcapQuote(SGX_OK.quote(), json(SGX_OK.collateral), { now: SGX_OK.now, cache: null });
  assert.deepEqual(a, c);
});

test('status convergence: worst of platform, QE and module', () => {
  assert.equal(convergeStatus('UpToDate', 'UpToDate'), 'UpToDate');
  assert.equal(convergeStatus('SWHardeningNeeded', 'ConfigurationNeeded'), 'ConfigurationAndSWHardeningNeeded');
  assert.equal(convergeStatus('ConfigurationNeeded', 'OutOfDate'), 'OutOfDateConfigurationNeeded');
  assert.equal(convergeStatus('SWHardeningNeeded', 'OutOfDate'), 'OutOfDate');
  assert.equal(convergeStatus('UpToDate', 'Revoked', 'OutOfDate'), 'Revoked');
  assert.equal(convergeStatus('ConfigurationAndSWHardeningNeeded', 'UpToDate'), 'ConfigurationAndSWHardeningNeeded');
});

test('opts.now is required', () => {
  assert.throws(() => verifyDcapQuote(SGX_OK.quote(), json(SGX_OK.collateral), {} as { now: number }), TypeError);
});
