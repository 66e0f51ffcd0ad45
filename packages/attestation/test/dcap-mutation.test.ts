/**
 * Mutation tests: flipping a byte in each signed region of the quote or collateral, or moving
 * `now` outside each validity window, is refused with the right code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import { verifyDcapQuote } from '../src/dcap/verify.ts';
import { parseQuote } from '../src/dcap/quote.ts';
import { createDcapCache } from '../src/dcap/cache.ts';
import { COLLATERAL_MUTATIONS, DCAP_CASES, json, QUOTE_MUTATION_CODES, quoteRegions, SGX_OK, TDX_OK, TDX_V5_OK, type DcapCase } from './dcap-fixtures.ts';
import { codeOf } from './util.ts';

const errOf = (f: () => unknown): { code?: string; details?: Record<string, unknown> } => {
  try {
    f();
  } catch (e) {
    return e as { code?: string; details?: Record<string, unknown> };
  }
  return {};
};

for (const c of [SGX_OK, TDX_OK, TDX_V5_OK]) {
  test(`quote mutations are refused: ${c.name}`, () => {
    const cache = createDcapCache();
    const col = json(c.collateral);
    // Unmutated: verifies (and warms the cache, so mutations are checked on the warm path too).
    verifyDcapQuote(c.quote(), col, { now: c.now, cache });
    for (const [name, at] of Object.entries(quoteRegions(c.quote()))) {
      const q = c.quote();
      q[at] ^= 0x01;
      assert.equal(codeOf(() => verifyDcapQuote(q, col, { now: c.now, cache })), QUOTE_MUTATION_CODES[name], name);
      assert.equal(codeOf(() => verifyDcapQuote(q, col, { now: c.now, cache: null })), QUOTE_MUTATION_CODES[name], `${name} (cold)`);
    }
  });

  test(`PCK certificate chain mutations are refused: ${c.name}`, () => {
    const col = json(c.collateral);
    const q0 = c.quote();
    const pem = parseQuote(q0).signatureData.qe.certification;
    const start = pem.data.byteOffset - q0.byteOffset;
    const text = pem.pemChain as string;
    // Flip a base64 character inside the leaf's signature (just before the first END line).
    const end = text.indexOf('-----END CERTIFICATE-----');
    const q = c.quote();
    const i = start + end - 10;
    q[i] = q[i] === 0x41 ? 0x42 : 0x41;
    assert.equal(codeOf(() => verifyDcapQuote(q, col, { now: c.now, cache: null })), 'ATTEST_CHAIN_INVALID');
    // The embedded chain is leaf, PCK CA, root.
    const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) as string[];
    assert.equal(certs.length, 3);
  });
}

for (const c of [SGX_OK, TDX_OK]) {
  test(`collateral mutations are refused: ${c.name}`, () => {
    const cache = createDcapCache();
    verifyDcapQuote(c.quote(), json(c.collateral), { now: c.now, cache });
    for (const [name, mutate, code] of COLLATERAL_MUTATIONS) {
      const col = json(c.collateral);
      const before = JSON.stringify(col);
      mutate(col);
      assert.ok(JSON.stringify(col) !== before, `${name} mutated nothing`);
      assert.equal(codeOf(() => verifyDcapQuote(c.quote(), col, { now: c.now, cache })), code, name);
    }
  });
}

test('collateral of another platform: FMSPC mismatch; wrong PCK CRL (Platform vs Processor CA) is refused', () => {
  // TDX quote with the other TDX collateral: same Platform CA, other FMSPC.
  const other = json('dcap-qvl/tdx_quote_outdated_collateral.json');
  assert.equal(codeOf(() => verifyDcapQuote(TDX_OK.quote(), other, { now: 1774003274, cache: null })), 'ATTEST_FMSPC_MISMATCH');
  // SGX quote (Processor CA) with a Platform CA CRL.
  const sgxCol = json(SGX_OK.collateral);
  const tdxCol = json(TDX_OK.collateral);
  const mixed = { ...sgxCol, pck_crl: tdxCol.pck_crl, pck_crl_issuer_chain: tdxCol.pck_crl_issuer_chain };
  assert.equal(codeOf(() => verifyDcapQuote(SGX_OK.quote(), mixed, { now: SGX_OK.now, cache: null })), 'ATTEST_CRL_INVALID');
  // The PCK CRL of the right CA but with the other CA's issuer chain: its signature does not verify.
  const wrongIssuer = { ...sgxCol, pck_crl_issuer_chain: tdxCol.pck_crl_issuer_chain };
  assert.equal(codeOf(() => verifyDcapQuote(SGX_OK.quote(), wrongIssuer, { now: SGX_OK.now, cache: null })), 'ATTEST_CRL_INVALID');
  // SGX TCB info for a TDX quote.
  const sgxTcb = { ...tdxCol, tcb_info: sgxCol.tcb_info, tcb_info_signature: sgxCol.tcb_info_signature, tcb_info_issuer_chain: sgxCol.tcb_info_issuer_chain };
  assert.equal(codeOf(() => verifyDcapQuote(TDX_OK.quote(), sgxTcb, { now: SGX_OK.now - 60, cache: null })), 'ATTEST_COLLATERAL_SIGNATURE');
  // SGX QE identity for a TDX quote.
  const sgxQe = { ...tdxCol, qe_identity: sgxCol.qe_identity, qe_identity_signature: sgxCol.qe_identity_signature };
  assert.equal(codeOf(() => verifyDcapQuote(TDX_OK.quote(), sgxQe, { now: SGX_OK.now - 60, cache: null })), 'ATTEST_QE_IDENTITY_MISMATCH');
});

function pckLeaf(c: DcapCase): X509Certificate {
  const pem = parseQuote(c.quote()).signatureData.qe.certification.pemChain as string;
  return new X509Certificate(pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/)![0]);
}
const secs = (d: Date | string) => Math.floor(new Date(d).getTime() / 1000);
const crlTimes = (hex: string) => {
  const t = AsnConvert.parse(Buffer.from(hex, 'hex'), CertificateList).tbsCertList;
  return { thisUpdate: t.thisUpdate.getTime(), nextUpdate: t.nextUpdate!.getTime() };
};

for (const c of [SGX_OK, TDX_OK, DCAP_CASES[5], DCAP_CASES[6]]) {
  test(`time windows: ${c.name}`, () => {
    const col = json(c.collateral);
    const cache = createDcapCache();
    const v = verifyDcapQuote(c.quote(), col, { now: c.now, cache });
    const from = Date.parse(v.validFrom!) / 1000;
    const until = Date.parse(v.validUntil!) / 1000;
    // Window edges are inclusive.
    assert.equal(verifyDcapQuote(c.quote(), col, { now: from, cache }).status, v.status);
    assert.equal(verifyDcapQuote(c.quote(), col, { now: until, cache }).status, v.status);
    const before = errOf(() => verifyDcapQuote(c.quote(), col, { now: from - 1, cache }));
    const after = errOf(() => verifyDcapQuote(c.quote(), col, { now: until + 1, cache }));
    assert.match(before.code ?? '', /^ATTEST_(CERT_NOT_YET_VALID|COLLATERAL_EXPIRED)$/);
    assert.equal(after.code, 'ATTEST_COLLATERAL_EXPIRED');
    // The PCK certificate's own window.
    const leaf = pckLeaf(c);
    assert.equal(codeOf(() => verifyDcapQuote(c.quote(), col, { now: secs(leaf.validTo) + 1, cache })), 'ATTEST_CERT_EXPIRED');
    assert.equal(codeOf(() => verifyDcapQuote(c.quote(), col, { now: secs(leaf.validFrom) - 1, cache })), 'ATTEST_CERT_NOT_YET_VALID');
    // Each CRL's window (the PCK certificates are still valid then).
    for (const [field, label] of [['pck_crl', 'PCK CRL'], ['root_ca_crl', 'Root CA CRL']] as const) {
      const crl = crlTimes(col[field]);
      const t = secs(crl.nextUpdate) + 1;
      if (t < secs(leaf.validTo)) {
        const e = errOf(() => verifyDcapQuote(c.quote(), col, { now: t, cache }));
        assert.equal(e.code, 'ATTEST_COLLATERAL_EXPIRED', label);
        assert.match(String(e.details?.what), /CRL/);
      }
      const t0 = secs(crl.thisUpdate) - 1;
      if (t0 > secs(leaf.validFrom)) assert.equal(codeOf(() => verifyDcapQuote(c.quote(), col, { now: t0, cache })), 'ATTEST_COLLATERAL_EXPIRED', `${label} before`);
    }
    // TCB Info and QE Identity windows, each alone.
    for (const [field, label] of [['tcb_info', 'TCB Info'], ['qe_identity', 'QE Identity']] as const) {
      const j = JSON.parse(col[field]);
      const t = Date.parse(j.nextUpdate) / 1000 + 1;
      const e = errOf(() => verifyDcapQuote(c.quote(), col, { now: t, cache }));
      assert.match(e.code ?? '', /^ATTEST_(COLLATERAL|CERT)_EXPIRED$/, label);
      const tb = Date.parse(j.issueDate) / 1000 - 1;
      assert.match(codeOf(() => verifyDcapQuote(c.quote(), col, { now: tb, cache })), /^ATTEST_(COLLATERAL_EXPIRED|CERT_NOT_YET_VALID)$/, `${label} before`);
    }
  });
}

test('go-tdx-guest: the PCK expires 2029-09-20T13:20:31Z (README), the old TCB Signing cert 2025-05-21', () => {
  const c = DCAP_CASES[7];
  const col = json(c.collateral);
  const e = errOf(() => verifyDcapQuote(c.quote(), col, { now: Date.parse('2053-07-01T00:00:00Z') / 1000, cache: null }));
  assert.equal(e.code, 'ATTEST_CERT_EXPIRED');
  assert.match(String(e.details?.what), /PCK/);
  assert.equal(new Date(pckLeaf(c).validTo).toISOString(), '2029-09-20T13:20:31.000Z');
});
