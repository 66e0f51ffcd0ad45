import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluatePolicy, loadPolicy, parsePolicy } from '../src/policy.ts';
import { verifyDcapQuote } from '../src/dcap/verify.ts';
import type { Verdict } from '../src/types.ts';
import { DCAP_CASES, json, SGX_OK, TDX_OK, SGX_PLATFORM_OK } from './dcap-fixtures.ts';

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code ?? `untyped: ${(e as Error).message}`;
  }
  return 'accepted';
};
const verdictOf = (c: (typeof DCAP_CASES)[number]) => verifyDcapQuote(c.quote(), json(c.collateral), { now: c.now });
const sgx = verdictOf(SGX_OK);
const tdx = verdictOf(TDX_OK);
const sgxPlatform = verdictOf(SGX_PLATFORM_OK);
const alibaba = verdictOf(DCAP_CASES[6]);
const NOW = SGX_OK.now;

test('defaults: UpToDate TDX accepted; non-UpToDate SGX refused (POLICY_TCB_STATUS)', () => {
  assert.equal(codeOf(() => evaluatePolicy(tdx, {}, { now: TDX_OK.now })), 'accepted');
  assert.equal(codeOf(() => evaluatePolicy(sgx, {}, { now: NOW })), 'POLICY_TCB_STATUS');
});

test('accepted statuses and advisories', () => {
  const p = { acceptedStatuses: ['UpToDate', 'ConfigurationAndSWHardeningNeeded'] as const };
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...p, acceptedStatuses: [...p.acceptedStatuses] }, { now: NOW })), 'POLICY_ADVISORY');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { acceptedStatuses: ['ConfigurationAndSWHardeningNeeded'], allowedAdvisoryIds: ['INTEL-SA-00289'] }, { now: NOW })), 'POLICY_ADVISORY');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { acceptedStatuses: ['ConfigurationAndSWHardeningNeeded'], allowedAdvisoryIds: ['INTEL-SA-00289', 'INTEL-SA-00615'] }, { now: NOW })), 'accepted');
  assert.equal(codeOf(() => evaluatePolicy(sgxPlatform, { acceptedStatuses: ['SWHardeningNeeded'], allowedAdvisoryIds: ['*'] }, { now: SGX_PLATFORM_OK.now })), 'accepted');
});

test('measurements: MRENCLAVE / MRSIGNER lists (0x and uppercase accepted), ISVPRODID, minimum ISVSVN', () => {
  const base = { acceptedStatuses: ['ConfigurationAndSWHardeningNeeded' as const], allowedAdvisoryIds: ['*'] };
  const mre = sgx.measurements.mrEnclave!;
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...base, sgx: { mrEnclave: ['00'.repeat(32), '0x' + mre.toUpperCase()] } }, { now: NOW })), 'accepted');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...base, sgx: { mrEnclave: '00'.repeat(32) } }, { now: NOW })), 'POLICY_MEASUREMENT');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...base, sgx: { mrSigner: sgx.measurements.mrSigner!, isvProdId: 0, minIsvSvn: 0 } }, { now: NOW })), 'accepted');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...base, sgx: { mrSigner: 'ab'.repeat(32) } }, { now: NOW })), 'POLICY_MEASUREMENT');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...base, sgx: { isvProdId: 1 } }, { now: NOW })), 'POLICY_MEASUREMENT');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...base, sgx: { minIsvSvn: 1 } }, { now: NOW })), 'POLICY_MEASUREMENT');
});

test('TDX measurements: MRTD and RTMRs', () => {
  const m = tdx.measurements;
  assert.equal(codeOf(() => evaluatePolicy(tdx, { tdx: { mrTd: m.mrTd!, rtmrs: [m.rtmrs![0], null, [m.rtmrs![2]]] } }, { now: TDX_OK.now })), 'accepted');
  assert.equal(codeOf(() => evaluatePolicy(tdx, { tdx: { mrTd: '11'.repeat(48) } }, { now: TDX_OK.now })), 'POLICY_MEASUREMENT');
  assert.equal(codeOf(() => evaluatePolicy(tdx, { tdx: { rtmrs: [null, null, null, '11'.repeat(48)] } }, { now: TDX_OK.now })), 'POLICY_MEASUREMENT');
});

test('report data: exact (zero-padded) and prefix', () => {
  const base = { acceptedStatuses: ['ConfigurationAndSWHardeningNeeded' as const], allowedAdvisoryIds: ['*'] };
  const hello = Buffer.from('Hello, world!').toString('hex');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...base, reportData: { exact: hello } }, { now: NOW })), 'accepted');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...base, reportData: { prefix: '0x' + hello.slice(0, 10) } }, { now: NOW })), 'accepted');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...base, reportData: { exact: hello + '01' } }, { now: NOW })), 'POLICY_REPORT_DATA');
  assert.equal(codeOf(() => evaluatePolicy(sgx, { ...base, reportData: { prefix: 'ff' } }, { now: NOW })), 'POLICY_REPORT_DATA');
});

test('debug refused by default (POLICY_DEBUG), allowed with allowDebug', () => {
  const dbg: Verdict = { ...tdx, debug: true };
  assert.equal(codeOf(() => evaluatePolicy(dbg, {}, { now: TDX_OK.now })), 'POLICY_DEBUG');
  assert.equal(codeOf(() => evaluatePolicy(dbg, { allowDebug: true }, { now: TDX_OK.now })), 'accepted');
});

test('MRSERVICETD non-zero refused unless allowed (alibaba fixture)', () => {
  assert.equal(codeOf(() => evaluatePolicy(alibaba, {}, { now: DCAP_CASES[6].now })), 'POLICY_MR_SERVICETD');
  assert.equal(codeOf(() => evaluatePolicy(alibaba, { allowMrServiceTd: true }, { now: DCAP_CASES[6].now })), 'accepted');
});

test('TDX SEPT_VE_DISABLE required by default (POLICY_TD_ATTRIBUTES)', () => {
  const v: Verdict = { ...tdx, measurements: { ...tdx.measurements, tdAttributes: '0000004000000000' } };
  assert.equal(codeOf(() => evaluatePolicy(v, {}, { now: TDX_OK.now })), 'POLICY_TD_ATTRIBUTES');
  assert.equal(codeOf(() => evaluatePolicy(v, { tdx: { requireSeptVeDisable: false } }, { now: TDX_OK.now })), 'accepted');
});

test('simulation refused unless allowSimulation (POLICY_SIMULATION)', () => {
  const sim: Verdict = { ...tdx, simulated: true };
  assert.equal(codeOf(() => evaluatePolicy(sim, {}, { now: TDX_OK.now })), 'POLICY_SIMULATION');
  assert.equal(codeOf(() => evaluatePolicy(sim, { allowSimulation: true }, { now: TDX_OK.now })), 'accepted');
});

test('collateral age (POLICY_COLLATERAL_AGE)', () => {
  const issued = Date.parse(tdx.collateralIssuedAt!) / 1000;
  assert.equal(codeOf(() => evaluatePolicy(tdx, { maxCollateralAgeSeconds: 86400 * 30 }, { now: TDX_OK.now })), 'accepted');
  assert.equal(codeOf(() => evaluatePolicy(tdx, { maxCollateralAgeSeconds: 3600 }, { now: issued + 3601 })), 'POLICY_COLLATERAL_AGE');
});

test('TEE types, SNP and Nitro expectations', () => {
  assert.equal(codeOf(() => evaluatePolicy(tdx, { teeTypes: ['sgx'] }, { now: TDX_OK.now })), 'POLICY_TEE_TYPE');
  const snp: Verdict = { teeType: 'sev-snp', version: 2, status: 'Verified', advisoryIds: [], debug: false, simulated: false, checks: [], measurements: { measurement: 'aa'.repeat(48), vmpl: 0 } };
  assert.equal(codeOf(() => evaluatePolicy(snp, { snp: { measurement: ['aa'.repeat(48)], maxVmpl: 0 } }, { now: 0 })), 'accepted');
  assert.equal(codeOf(() => evaluatePolicy(snp, { snp: { measurement: ['bb'.repeat(48)] } }, { now: 0 })), 'POLICY_MEASUREMENT');
  const nitro: Verdict = { teeType: 'nitro', version: 1, status: 'Verified', advisoryIds: [], debug: false, simulated: false, checks: [], measurements: { pcrs: { 0: 'cc'.repeat(48) } } };
  assert.equal(codeOf(() => evaluatePolicy(nitro, { nitro: { pcrs: { '0': 'cc'.repeat(48) } } }, { now: 0 })), 'accepted');
  assert.equal(codeOf(() => evaluatePolicy(nitro, { nitro: { pcrs: { '0': 'dd'.repeat(48) } } }, { now: 0 })), 'POLICY_MEASUREMENT');
});

test('loadPolicy reads JSON and YAML; malformed policies are POLICY_INVALID', () => {
  const dir = mkdtempSync(join(tmpdir(), 'geode-policy-'));
  const j = join(dir, 'p.json');
  writeFileSync(j, JSON.stringify({ acceptedStatuses: ['UpToDate'], sgx: { mrEnclave: ['0xAB'] } }));
  assert.deepEqual(loadPolicy(j).sgx?.mrEnclave, ['ab']);
  const y = join(dir, 'p.yaml');
  writeFileSync(y, 'allowMrServiceTd: true\ntdx:\n  mrTd:\n    - "0x' + 'AA'.repeat(48) + '"\nmaxCollateralAgeSeconds: 2592000\n');
  const p = loadPolicy(y);
  assert.equal(p.allowMrServiceTd, true);
  assert.deepEqual(p.tdx?.mrTd, ['aa'.repeat(48)]);
  writeFileSync(y, 'acceptedStatuses: [Fine]\n');
  assert.equal(codeOf(() => loadPolicy(y)), 'POLICY_INVALID');
  writeFileSync(y, 'unknownKey: 1\n');
  assert.equal(codeOf(() => loadPolicy(y)), 'POLICY_INVALID');
  writeFileSync(y, 'a: [\n');
  assert.equal(codeOf(() => loadPolicy(y)), 'POLICY_INVALID');
  assert.equal(codeOf(() => loadPolicy(join(dir, 'missing.yaml'))), 'POLICY_INVALID');
  assert.equal(codeOf(() => parsePolicy({ sgx: { mrEnclave: 'xyz' } })), 'POLICY_INVALID');
});
