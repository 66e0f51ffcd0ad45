/**
 * DCAP fixture table shared by the dcap*.test.ts files and bench/attest.ts.
 * Every row follows /work/shared/fixtures/attestation/README.md (file, pinned `now`, expected verdict).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { QuoteCollateral } from '../src/dcap/collateral.ts';
import { parseQuote } from '../src/dcap/quote.ts';

/** Root of the shared fixtures (read-only). */
export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/attestation/', import.meta.url));

export const bin = (p: string): Uint8Array => new Uint8Array(readFileSync(FIXTURES + p));
export const hexFile = (p: string): Uint8Array => new Uint8Array(Buffer.from(readFileSync(FIXTURES + p, 'utf8').trim().replace(/^0x/, ''), 'hex'));
export const json = (p: string): QuoteCollateral & Record<string, string> => JSON.parse(readFileSync(FIXTURES + p, 'utf8'));

export interface DcapCase {
  name: string;
  quote: () => Uint8Array;
  collateral: string;
  now: number;
  /** Expected outcome: a verdict or an error code. */
  expect: { status: string; advisoryIds: string[]; teeType: 'sgx' | 'tdx'; version: number; validFrom?: string; validUntil?: string; trailingBytes?: number } | { code: string };
  /** dcap-qvl (0.3.9) outcome on the same input: status, or error message substring. */
  dcapQvl: { status: string; advisoryIds: string[] } | { error: string };
}

export const DCAP_CASES: DcapCase[] = [
  {
    name: 'dcap-qvl sgx_quote (SGX v3, Processor CA)',
    quote: () => bin('dcap-qvl/sgx_quote'),
    collateral: 'dcap-qvl/sgx_quote_collateral.json',
    now: 1752919277,
    expect: { status: 'ConfigurationAndSWHardeningNeeded', advisoryIds: ['INTEL-SA-00289', 'INTEL-SA-00615'], teeType: 'sgx', version: 3, validFrom: '2025-06-19T10:56:11Z', validUntil: '2025-07-19T10:01:18Z' },
    dcapQvl: { status: 'ConfigurationAndSWHardeningNeeded', advisoryIds: ['INTEL-SA-00289', 'INTEL-SA-00615'] },
  },
  {
    name: 'dcap-qvl tdx_quote (TDX v4, 70 trailing bytes)',
    quote: () => bin('dcap-qvl/tdx_quote'),
    collateral: 'dcap-qvl/tdx_quote_collateral.json',
    now: 1752919234,
    expect: { status: 'UpToDate', advisoryIds: [], teeType: 'tdx', version: 4, validFrom: '2025-06-19T10:32:27Z', validUntil: '2025-07-19T10:00:35Z', trailingBytes: 70 },
    dcapQvl: { status: 'UpToDate', advisoryIds: [] },
  },
  {
    name: 'dcap-qvl tdx_quote_outdated (TDX v5 TD1.5, SGX comp 8 too low)',
    quote: () => bin('dcap-qvl/tdx_quote_outdated'),
    collateral: 'dcap-qvl/tdx_quote_outdated_collateral.json',
    now: 1774003274,
    expect: { code: 'ATTEST_TCB_LEVEL_NOT_FOUND' },
    dcapQvl: { error: 'No matching TCB level found' },
  },
  {
    name: 'dcap-qvl tdx-quote.hex with tdx_quote_collateral',
    quote: () => hexFile('dcap-qvl/tdx-quote.hex'),
    collateral: 'dcap-qvl/tdx_quote_collateral.json',
    now: 1752919234,
    expect: { code: 'ATTEST_TCB_LEVEL_NOT_FOUND' },
    dcapQvl: { error: 'No matching TCB level found' },
  },
  {
    name: 'dcap-qvl quote-from-tappd.hex with tdx_quote_collateral',
    quote: () => hexFile('dcap-qvl/quote-from-tappd.hex'),
    collateral: 'dcap-qvl/tdx_quote_collateral.json',
    now: 1752919234,
    expect: { code: 'ATTEST_TCB_LEVEL_NOT_FOUND' },
    dcapQvl: { error: 'No matching TCB level found' },
  },
  {
    name: 'automata sgx_v3_sampleQuote (SGX v3, Platform CA)',
    quote: () => hexFile('automata/extracted/sgx_v3_sampleQuote.hex'),
    collateral: 'automata/bundles/sgx_v3_0825.collateral.json',
    now: 1755236700,
    expect: { status: 'SWHardeningNeeded', advisoryIds: ['INTEL-SA-00615'], teeType: 'sgx', version: 3, validFrom: '2025-08-15T05:41:26Z', validUntil: '2025-09-14T04:36:46Z' },
    dcapQvl: { status: 'SWHardeningNeeded', advisoryIds: ['INTEL-SA-00615'] },
  },
  {
    name: 'automata alibaba_quote_5 (TDX v5, non-zero MRSERVICETD)',
    quote: () => bin('automata/quotes/alibaba_quote_5.dat'),
    collateral: 'automata/bundles/alibaba_quote_5_0625.collateral.json',
    now: 1749945600,
    // Our window also covers the PCK leaf certificate (notBefore 2025-06-14T16:04:26Z), the README's only the collateral.
    expect: { status: 'UpToDate', advisoryIds: [], teeType: 'tdx', version: 5, validFrom: '2025-06-14T16:04:26Z', validUntil: '2025-07-04T09:19:31Z' },
    dcapQvl: { error: 'Invalid mr service td' },
  },
  {
    name: 'go-tdx-guest tdx_prod_quote_SPR_E4 + bundle',
    quote: () => bin('go-tdx-guest/tdx_prod_quote_SPR_E4.dat'),
    collateral: 'go-tdx-guest/bundles/tdx_prod_quote_SPR_E4.collateral.json',
    now: 1688173200,
    expect: { code: 'ATTEST_TCB_LEVEL_NOT_FOUND' },
    dcapQvl: { error: 'No matching TCB level found' },
  },
  {
    name: 'go-tdx-guest quote_v5_sample with tdx_quote_outdated_collateral (constructed pairing)',
    quote: () => bin('go-tdx-guest/quote_v5_sample.dat'),
    collateral: 'dcap-qvl/tdx_quote_outdated_collateral.json',
    now: 1774003274,
    expect: { status: 'UpToDate', advisoryIds: [], teeType: 'tdx', version: 5 },
    dcapQvl: { status: 'UpToDate', advisoryIds: [] },
  },
];

/** The four cases that verify (used by mutation tests and the benchmark). */
export const SGX_OK = DCAP_CASES[0];
export const TDX_OK = DCAP_CASES[1];
export const TDX_V5_OK = DCAP_CASES[8];
export const SGX_PLATFORM_OK = DCAP_CASES[5];

/** Offset of one byte inside each signed or bound region of a DCAP quote (flipping it must be refused). */
export function quoteRegions(q: Uint8Array): Record<string, number> {
  const p = parseQuote(q);
  const off = (sub: Uint8Array) => sub.byteOffset - q.byteOffset;
  const sd = p.signatureData;
  const bodyStart = p.header.version === 5 ? 54 : 48;
  return {
    'header (user data)': 28 + 5,
    'header (QE vendor id)': 12 + 3,
    'body (first byte)': bodyStart,
    'body (report data)': p.signedBytes.length - 1,
    'quote signature': off(sd.signature) + 7,
    'attestation key': off(sd.attestationKey) + 9,
    'QE report': off(sd.qe.qeReportRaw) + 70,
    'QE report signature': off(sd.qe.qeReportSignature) + 40,
    'QE auth data': off(sd.qe.qeAuthData) + 1,
  } as Record<string, number>;
}

/** The code each region's mutation is refused with (the QE report data is checked before the quote signature). */
export const QUOTE_MUTATION_CODES: Record<string, string> = {
  'header (user data)': 'ATTEST_QUOTE_SIGNATURE',
  'header (QE vendor id)': 'ATTEST_QUOTE_SIGNATURE',
  'body (first byte)': 'ATTEST_QUOTE_SIGNATURE',
  'body (report data)': 'ATTEST_QUOTE_SIGNATURE',
  'quote signature': 'ATTEST_QUOTE_SIGNATURE',
  // The QE report data binds the key, and it is checked before the quote signature.
  'attestation key': 'ATTEST_QE_REPORT_DATA',
  'QE report': 'ATTEST_QE_REPORT_SIGNATURE',
  'QE report signature': 'ATTEST_QE_REPORT_SIGNATURE',
  'QE auth data': 'ATTEST_QE_REPORT_DATA',
};

/** Collateral mutations (name, edit in place, code refusing it). */
export const COLLATERAL_MUTATIONS: [string, (c: Record<string, string>) => void, string][] = [
  ['tcb_info (a status)', (c) => (c.tcb_info = c.tcb_info.replace('"tcbStatus":"', '"tcbStatus" :"')), 'ATTEST_COLLATERAL_SIGNATURE'],
  ['tcb_info (an SVN)', (c) => (c.tcb_info = c.tcb_info.replace('"pcesvn":1', '"pcesvn":0')), 'ATTEST_COLLATERAL_SIGNATURE'],
  ['tcb_info (nextUpdate)', (c) => (c.tcb_info = c.tcb_info.replace(/"nextUpdate":"(\d{4})/, (_m, y) => `"nextUpdate":"${Number(y) + 1}`)), 'ATTEST_COLLATERAL_SIGNATURE'],
  ['tcb_info_signature', (c) => (c.tcb_info_signature = flipHex(c.tcb_info_signature, 10)), 'ATTEST_COLLATERAL_SIGNATURE'],
  ['qe_identity (isvsvn)', (c) => (c.qe_identity = c.qe_identity.replace('"isvsvn":', '"isvsvn": ')), 'ATTEST_COLLATERAL_SIGNATURE'],
  ['qe_identity (mrsigner)', (c) => (c.qe_identity = c.qe_identity.replace(/"mrsigner":"(.)/, (_m, ch) => `"mrsigner":"${ch === '0' ? '1' : '0'}`)), 'ATTEST_COLLATERAL_SIGNATURE'],
  ['qe_identity_signature', (c) => (c.qe_identity_signature = flipHex(c.qe_identity_signature, 70)), 'ATTEST_COLLATERAL_SIGNATURE'],
  ['root_ca_crl (signature)', (c) => (c.root_ca_crl = flipHex(c.root_ca_crl, c.root_ca_crl.length - 6)), 'ATTEST_CRL_INVALID'],
  ['pck_crl (signature)', (c) => (c.pck_crl = flipHex(c.pck_crl, c.pck_crl.length - 6)), 'ATTEST_CRL_INVALID'],
  ['pck_crl (truncated)', (c) => (c.pck_crl = c.pck_crl.slice(0, 200)), 'ATTEST_CRL_INVALID'],
  ['tcb_info_issuer_chain (leaf sig)', (c) => (c.tcb_info_issuer_chain = flipPem(c.tcb_info_issuer_chain)), 'ATTEST_CHAIN_INVALID'],
  ['qe_identity_issuer_chain (leaf sig)', (c) => (c.qe_identity_issuer_chain = flipPem(c.qe_identity_issuer_chain)), 'ATTEST_CHAIN_INVALID'],
  ['pck_crl_issuer_chain (leaf sig)', (c) => (c.pck_crl_issuer_chain = flipPem(c.pck_crl_issuer_chain)), 'ATTEST_CHAIN_INVALID'],
];

function flipHex(h: string, at: number): string {
  const c = h[at];
  const n = c === '0' ? '1' : '0';
  return h.slice(0, at) + n + h.slice(at + 1);
}
function flipPem(pem: string): string {
  const i = pem.indexOf('-----END CERTIFICATE-----') - 10;
  return pem.slice(0, i) + (pem[i] === 'A' ? 'B' : 'A') + pem.slice(i + 1);
}
