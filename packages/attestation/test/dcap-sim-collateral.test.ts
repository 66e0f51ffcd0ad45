/**
 * Verifier paths no real fixture reaches (Revoked TCB, QE identity mismatch, PCE-ID mismatch,
 * status convergence, revoked PCK certificate, debug), exercised with the Geode simulation PKI:
 * its TCB Info / QE Identity / PCK CRL are edited and re-signed with the simulation keys, so
 * every signature is genuine and only the tested field differs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulationPki, buildSimQuote, type SimulationPki } from '../src/sim/index.ts';
import { verifyDcapQuote } from '../src/dcap/verify.ts';
import { evaluatePolicy } from '../src/policy.ts';
import { codeOf } from './util.ts';
import { resign, withRevokedPckLeaf } from './sim-edits.ts';

const NOW = 1_750_000_000;
const AT = NOW + 3600;
const SEED = new Uint8Array(32).fill(7);
let pkiP: Promise<SimulationPki> | undefined;
const getPki = () => (pkiP ??= createSimulationPki({ now: NOW, seed: SEED }));
const quoteOf = (pki: SimulationPki, attributes?: Uint8Array) =>
  buildSimQuote({ pki, mrEnclave: new Uint8Array(32).fill(1), mrSigner: new Uint8Array(32).fill(2), reportData: new Uint8Array(64).fill(3), attributes });

type Level = { tcbStatus: string; advisoryIDs?: string[]; tcb: Record<string, unknown> };

test('sim baseline: verifies as simulated UpToDate; the default policy refuses simulation', async () => {
  const pki = await getPki();
  const v = verifyDcapQuote(quoteOf(pki), pki.collateral() as never, { now: AT, rootCaDer: pki.rootCaDer, cache: null });
  assert.equal(v.status, 'UpToDate');
  assert.equal(v.simulated, true);
  assert.throws(() => evaluatePolicy(v, {}, { now: AT }), (e: { code?: string }) => e.code === 'POLICY_SIMULATION');
  evaluatePolicy(v, { allowSimulation: true }, { now: AT });
});

test('re-signed TCB Info: Revoked -> ATTEST_TCB_REVOKED; SWHardeningNeeded with advisories is reported', async () => {
  const pki = await getPki();
  const revoked = resign(pki, 'tcb_info', (j) => (j.tcbLevels as Level[]).forEach((l) => (l.tcbStatus = 'Revoked')));
  assert.equal(codeOf(() => verifyDcapQuote(quoteOf(pki), revoked as never, { now: AT, rootCaDer: pki.rootCaDer, cache: null })), 'ATTEST_TCB_REVOKED');
  const sw = resign(pki, 'tcb_info', (j) => (j.tcbLevels as Level[]).forEach((l) => Object.assign(l, { tcbStatus: 'SWHardeningNeeded', advisoryIDs: ['INTEL-SA-00615', 'INTEL-SA-00001'] })));
  const v = verifyDcapQuote(quoteOf(pki), sw as never, { now: AT, rootCaDer: pki.rootCaDer, cache: null });
  assert.equal(v.status, 'SWHardeningNeeded');
  assert.deepEqual(v.advisoryIds, ['INTEL-SA-00001', 'INTEL-SA-00615']);
});

test('re-signed TCB Info: PCE-ID and FMSPC mismatches; a level above the platform -> TCB level not found', async () => {
  const pki = await getPki();
  const opts = { now: AT, rootCaDer: pki.rootCaDer, cache: null };
  assert.equal(codeOf(() => verifyDcapQuote(quoteOf(pki), resign(pki, 'tcb_info', (j) => (j.pceId = '0001')) as never, opts)), 'ATTEST_PCEID_MISMATCH');
  assert.equal(codeOf(() => verifyDcapQuote(quoteOf(pki), resign(pki, 'tcb_info', (j) => (j.fmspc = '00AA00000000')) as never, opts)), 'ATTEST_FMSPC_MISMATCH');
  const tooHigh = resign(pki, 'tcb_info', (j) =>
    (j.tcbLevels as Level[]).forEach((l) => {
      l.tcb.pcesvn = 99;
    }),
  );
  assert.equal(codeOf(() => verifyDcapQuote(quoteOf(pki), tooHigh as never, opts)), 'ATTEST_TCB_LEVEL_NOT_FOUND');
});

test('re-signed QE Identity: MRSIGNER, ISVPRODID, masked ATTRIBUTES, ISVSVN below every level; QE OutOfDate converges', async () => {
  const pki = await getPki();
  const opts = { now: AT, rootCaDer: pki.rootCaDer, cache: null };
  const q = quoteOf(pki);
  const mismatch = (edit: (j: Record<string, unknown>) => void) => codeOf(() => verifyDcapQuote(q, resign(pki, 'qe_identity', edit) as never, opts));
  assert.equal(mismatch((j) => (j.mrsigner = 'AB'.repeat(32))), 'ATTEST_QE_IDENTITY_MISMATCH');
  assert.equal(mismatch((j) => (j.isvprodid = 7)), 'ATTEST_QE_IDENTITY_MISMATCH');
  assert.equal(mismatch((j) => Object.assign(j, { attributes: 'FF'.repeat(16), attributesMask: 'FF'.repeat(16) })), 'ATTEST_QE_IDENTITY_MISMATCH');
  assert.equal(mismatch((j) => (j.tcbLevels as Level[]).forEach((l) => (l.tcb.isvsvn = 200))), 'ATTEST_QE_IDENTITY_MISMATCH');
  assert.equal(mismatch((j) => (j.id = 'TD_QE')), 'ATTEST_QE_IDENTITY_MISMATCH');
  const out = resign(pki, 'qe_identity', (j) => (j.tcbLevels as Level[]).forEach((l) => Object.assign(l, { tcbStatus: 'OutOfDate', advisoryIDs: ['INTEL-SA-00999'] })));
  const v = verifyDcapQuote(q, out as never, opts);
  assert.equal(v.status, 'OutOfDate');
  assert.deepEqual(v.advisoryIds, ['INTEL-SA-00999']);
  const revoked = resign(pki, 'qe_identity', (j) => (j.tcbLevels as Level[]).forEach((l) => (l.tcbStatus = 'Revoked')));
  assert.equal(codeOf(() => verifyDcapQuote(q, revoked as never, opts)), 'ATTEST_TCB_REVOKED');
});

test('PCK CRL re-signed with the leaf listed -> ATTEST_CERT_REVOKED', async () => {
  const pki = await getPki();
  const q = quoteOf(pki);
  const col = withRevokedPckLeaf(pki, q, NOW);
  assert.equal(codeOf(() => verifyDcapQuote(q, col as never, { now: AT, rootCaDer: pki.rootCaDer, cache: null })), 'ATTEST_CERT_REVOKED');
});

test('debug SGX enclave: verdict debug true, policy POLICY_DEBUG', async () => {
  const pki = await getPki();
  const attrs = Buffer.from('07000000000000000300000000000000', 'hex');
  const v = verifyDcapQuote(quoteOf(pki, attrs), pki.collateral() as never, { now: AT, rootCaDer: pki.rootCaDer, cache: null });
  assert.equal(v.debug, true);
  assert.throws(() => evaluatePolicy(v, { allowSimulation: true }, { now: AT }), (e: { code?: string }) => e.code === 'POLICY_DEBUG');
});
