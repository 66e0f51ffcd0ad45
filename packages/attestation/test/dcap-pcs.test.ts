import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcsCollateralSource, collateralKeyForQuote, type FetchFn } from '../src/dcap/pcs.ts';
import { verifyDcapQuote } from '../src/dcap/verify.ts';
import { FIXTURES, bin, json } from './dcap-fixtures.ts';

const read = (p: string) => readFileSync(FIXTURES + p);
/** A fake PCS serving the go-tdx-guest fixture bodies (what PCS returned for that platform). */
function fakePcs(log: string[], opts: { fail?: number; rootHex?: boolean } = {}): FetchFn {
  const enc = (p: string) => encodeURIComponent(read(p).toString('utf8'));
  const routes: Record<string, { body: Buffer; headers: Record<string, string> }> = {
    '/tdx/certification/v4/tcb?fmspc=50806F000000': { body: read('go-tdx-guest/sample_tcbInfo_response'), headers: { 'TCB-Info-Issuer-Chain': enc('go-tdx-guest/extracted/tcbInfoIssuerChain.pem') } },
    '/tdx/certification/v4/qe/identity': { body: read('go-tdx-guest/sample_qeIdentity_response'), headers: { 'SGX-Enclave-Identity-Issuer-Chain': enc('go-tdx-guest/extracted/qeIdentityIssuerChain.pem') } },
    '/sgx/certification/v4/pckcrl?ca=platform&encoding=der': { body: read('go-tdx-guest/pckcrl'), headers: { 'SGX-PCK-CRL-Issuer-Chain': enc('go-tdx-guest/extracted/pckCrlIssuerChain.pem') } },
    '/sgx/certification/v4/rootcacrl': { body: opts.rootHex ? Buffer.from(read('go-tdx-guest/rootcrl.der').toString('hex')) : read('go-tdx-guest/rootcrl.der'), headers: {} },
    'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der': { body: read('go-tdx-guest/rootcrl.der'), headers: {} },
  };
  return async (url) => {
    log.push(url);
    if (opts.fail && log.length === opts.fail) return { ok: false, status: 503, headers: { get: () => null }, arrayBuffer: async () => new ArrayBuffer(0) };
    const key = Object.keys(routes).find((k) => url.endsWith(k));
    if (!key) return { ok: false, status: 404, headers: { get: () => null }, arrayBuffer: async () => new ArrayBuffer(0) };
    const r = routes[key];
    return {
      ok: true,
      status: 200,
      headers: { get: (n: string) => Object.entries(r.headers).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1] ?? null },
      arrayBuffer: async () => r.body.buffer.slice(r.body.byteOffset, r.body.byteOffset + r.body.byteLength) as ArrayBuffer,
    };
  };
}

const QUOTE = bin('go-tdx-guest/tdx_prod_quote_SPR_E4.dat');
const NOW = 1688173200;

test('collateral key from the quote: TDX, FMSPC 50806f000000, Platform CA', () => {
  assert.deepEqual(collateralKeyForQuote(QUOTE), { tee: 'tdx', fmspc: '50806f000000', ca: 'platform' });
  assert.deepEqual(collateralKeyForQuote(bin('dcap-qvl/sgx_quote')), { tee: 'sgx', fmspc: '00a067110000', ca: 'processor' });
});

test('PCS source: fetches the four resources and rebuilds the fixture bundle byte for byte', async () => {
  const log: string[] = [];
  const src = new PcsCollateralSource({ fetch: fakePcs(log), clock: () => NOW });
  const c = await src.getCollateralForQuote(QUOTE);
  const bundle = json('go-tdx-guest/bundles/tdx_prod_quote_SPR_E4.collateral.json');
  for (const k of Object.keys(bundle)) assert.equal((c as unknown as Record<string, string>)[k].toLowerCase(), bundle[k].toLowerCase(), k);
  assert.deepEqual(log, [
    'https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=50806F000000',
    'https://api.trustedservices.intel.com/tdx/certification/v4/qe/identity',
    'https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=platform&encoding=der',
    'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der',
  ]);
  // Verification with it behaves as with the bundle (collateral verifies; TCB level not found).
  assert.throws(() => verifyDcapQuote(QUOTE, c, { now: NOW, cache: null }), (e: { code?: string }) => e.code === 'ATTEST_TCB_LEVEL_NOT_FOUND');
});

test('PCS source: memory cache until nextUpdate, then refetch; disk cache shared across instances', async () => {
  const log: string[] = [];
  let now = NOW;
  const dir = mkdtempSync(join(tmpdir(), 'geode-pcs-'));
  const src = new PcsCollateralSource({ fetch: fakePcs(log), clock: () => now, cacheDir: dir, baseUrl: 'https://pccs.local:8081/', pccs: true });
  const a = await src.getCollateralForQuote(QUOTE);
  assert.equal(log.length, 4);
  assert.equal(log[3], 'https://pccs.local:8081/sgx/certification/v4/rootcacrl');
  const b = await src.getCollateralForQuote(QUOTE);
  assert.equal(log.length, 4);
  assert.deepEqual(a, b);
  assert.deepEqual(readdirSync(dir), ['tdx-50806f000000-platform.json']);
  const other = new PcsCollateralSource({ fetch: fakePcs(log), clock: () => now, cacheDir: dir });
  assert.deepEqual(await other.getCollateralForQuote(QUOTE), a);
  assert.equal(log.length, 4);
  now = Date.parse('2023-07-09T00:00:00Z') / 1000; // after the QE Identity nextUpdate
  await src.getCollateralForQuote(QUOTE);
  assert.equal(log.length, 8);
});

test('PCS source: PCCS hex root CRL accepted; HTTP errors and missing headers are ATTEST_COLLATERAL_FETCH', async () => {
  const log: string[] = [];
  const c = await new PcsCollateralSource({ fetch: fakePcs(log, { rootHex: true }), baseUrl: 'https://pccs', pccs: true, clock: () => NOW }).fetchCollateral({ tee: 'tdx', fmspc: '50806f000000', ca: 'platform' });
  assert.equal(c.root_ca_crl, read('go-tdx-guest/rootcrl.der').toString('hex'));
  await assert.rejects(new PcsCollateralSource({ fetch: fakePcs([], { fail: 2 }), clock: () => NOW }).getCollateralForQuote(QUOTE), (e: { code?: string }) => e.code === 'ATTEST_COLLATERAL_FETCH');
  await assert.rejects(new PcsCollateralSource({ fetch: fakePcs([]), clock: () => NOW }).getCollateral({ tee: 'sgx', fmspc: '00a067110000', ca: 'processor' }), (e: { code?: string }) => e.code === 'ATTEST_COLLATERAL_FETCH');
  const throwing: FetchFn = async () => {
    throw new Error('ENOTFOUND');
  };
  await assert.rejects(new PcsCollateralSource({ fetch: throwing }).getCollateralForQuote(QUOTE), (e: { code?: string }) => e.code === 'ATTEST_COLLATERAL_FETCH');
});
