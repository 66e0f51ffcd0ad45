// Hardware platforms through real-format test doubles (docs/enclave.md#platform): a fake configfs-tsm tree and a
// fake Gramine /dev/attestation, answered by test PKIs whose TDX quotes (v4, v5), SNP reports and SGX quotes the
// real verifiers accept under a policy trusting the test root. Everything above the PlatformFiles interface is
// the code hardware runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { evaluatePolicy, parsePolicy, parseQuote, quoteMeasurements, verifyAttestation, verifyDcapQuote } from '@geode/attestation';
import { enclaveIdentityOf, snpEnclaveIdentity, tdxEnclaveIdentity } from '@geode/attestation/evidence';
import { buildSimQuote, createSimulationPki, type SimulationPki } from '@geode/attestation/sim';
import { SNP_MAX_CERT_TABLE_BYTES, parseSnpCertTable, verifySnpReport } from '@geode/attestation/snp';
import { sessionCreateReportData } from '@geode/protocol';
import { EnclaveRuntime, evidenceBytes, openConfigfsTsmPlatform, openGraminePlatform, sealingKeyFor, type TdxPlatform } from '../src/index.ts';
import { fakeConfigfsTsm, fakeGramine } from '../../../test/harness/tee/devices.ts';
import { buildTdxQuote, tdxCollateral, testTd, type TestTd } from '../../../test/harness/tee/tdx.ts';
import { buildSnpReport, createSnpTestPki, testSnpMeasurement, type SnpTestPki } from '../../../test/harness/tee/snp.ts';
import { CONTRACT, setup, tmpDir } from './helpers.ts';
import { counterApp } from './fixtures/counter-app.ts';

const NOW = 1_700_000_000;
let pki: SimulationPki;
let snpPki: SnpTestPki;
const pkiReady = (async () => {
  pki = await createSimulationPki({ now: NOW - 86_400, validityDays: 30, seed: new Uint8Array(32).fill(11) });
  snpPki = await createSnpTestPki(NOW - 86_400, 30);
})();
const rd = (b: number) => new Uint8Array(64).fill(b);

function tdxDevice(root: string, td: TestTd, version: 4 | 5, extra: Partial<Parameters<typeof fakeConfigfsTsm>[0]> = {}) {
  return fakeConfigfsTsm({ root, provider: 'tdx_guest', respond: (inblob) => ({ outblob: buildTdxQuote(pki, td, inblob, version) }), ...extra });
}

for (const version of [4, 5] as const) {
  test(`TDX (quote v${version}) through configfs-tsm: identity = SHA-256(MRTD||RTMRs), evidence verifies with verifyDcapQuote`, async () => {
    await pkiReady;
    const root = join(tmpDir(), 'tsm');
    const td = testTd(`v${version}`);
    const files = tdxDevice(root, td, version);
    const p = (await openConfigfsTsmPlatform({ tee: 'tdx', root, files })) as TdxPlatform;
    assert.equal(p.teeType, 'tdx');
    assert.equal(p.simulated, false);
    assert.equal(p.sealing.kind, 'none');
    assert.deepEqual(p.measurement, tdxEnclaveIdentity(td.mrTd, td.rtmrs));
    assert.deepEqual(p.mrTd, td.mrTd);
    const ev = p.evidence(rd(7));
    assert.equal(ev.kind, 'dcap-quote');
    const quote = ev.kind === 'dcap-quote' ? ev.quote : new Uint8Array();
    assert.equal(parseQuote(quote).header.version, version);
    const verdict = verifyDcapQuote(quote, tdxCollateral(pki), { now: NOW, rootCaDer: pki.rootCaDer });
    assert.equal(verdict.teeType, 'tdx');
    assert.equal(verdict.status, 'UpToDate');
    assert.equal(verdict.measurements.reportData, bytesToHex(rd(7)).slice(2));
    assert.deepEqual(enclaveIdentityOf(verdict), p.measurement, 'a client derives the contract\'s measurement from the verdict');
    assert.equal(verdict.measurements.mrTd, bytesToHex(td.mrTd).slice(2));
    // Under a policy trusting the test root (simulation allowed) it is accepted for this MRTD.
    evaluatePolicy(verdict, parsePolicy({ teeTypes: ['tdx'], acceptedStatuses: ['UpToDate'], allowSimulation: true, tdx: { mrTd: [bytesToHex(td.mrTd).slice(2)] } }), { now: NOW });
    assert.equal(files.requests, 2, 'one probe at open, one for the evidence');
    assert.deepEqual(readdirSync(root), [], 'every report entry is removed');
  });
}

test('SEV-SNP through configfs-tsm: report + certificate table (auxblob) verify with verifySnpReport under the test ARK', async () => {
  await pkiReady;
  const root = join(tmpDir(), 'tsm');
  const m = testSnpMeasurement('app');
  const files = fakeConfigfsTsm({ root, provider: 'sev_guest', respond: (inblob) => ({ outblob: buildSnpReport(snpPki, m, inblob), auxblob: snpPki.certTable }) });
  const p = await openConfigfsTsmPlatform({ tee: 'sev-snp', root, files });
  assert.equal(p.teeType, 'sev-snp');
  assert.deepEqual(p.measurement, snpEnclaveIdentity(m));
  const ev = p.evidence(rd(9));
  assert.equal(ev.kind, 'snp-report');
  if (ev.kind !== 'snp-report') return;
  assert.ok(ev.certificates);
  const certs = parseSnpCertTable(ev.certificates);
  const v = verifySnpReport(ev.report, { now: NOW, vcekDer: certs.vcek, certChainPem: snpPki.certChainPem, trustedArkDer: certs.ark });
  assert.equal(v.status, 'Verified');
  assert.equal(v.simulated, true, 'a non-AMD root is never reported as real hardware');
  assert.equal(v.measurements.measurement, bytesToHex(m).slice(2));
  assert.equal(v.measurements.reportData, bytesToHex(rd(9)).slice(2));
  // Without the substitute root, the pinned AMD ARK refuses the test chain.
  assert.throws(() => verifySnpReport(ev.report, { now: NOW, vcekDer: certs.vcek, certChainPem: snpPki.certChainPem }), { code: 'ATTEST_CHAIN_INVALID' });
});

test('SEV-SNP evidence on the wire (report || certificate table) verifies with no other collateral, under the trusted ARK only', async () => {
  await pkiReady;
  const root = join(tmpDir(), 'tsm');
  const m = testSnpMeasurement('wire');
  const p = await openConfigfsTsmPlatform({ tee: 'sev-snp', root, files: fakeConfigfsTsm({ root, provider: 'sev_guest', respond: (inblob) => ({ outblob: buildSnpReport(snpPki, m, inblob), auxblob: snpPki.certTable }) }) });
  const ev = p.evidence(rd(5));
  const wire = evidenceBytes(ev);
  assert.equal(wire.length, 0x4a0 + snpPki.certTable.length, 'the report, then the table');
  const ark = parseSnpCertTable(snpPki.certTable).ark!;
  const v = await verifyAttestation(wire, { now: NOW, roots: { amdArkDer: ark } });
  assert.equal(v.teeType, 'sev-snp');
  assert.equal(v.simulated, true);
  assert.equal(v.measurements.reportData, bytesToHex(rd(5)).slice(2));
  assert.deepEqual(enclaveIdentityOf(v), p.measurement, 'the contract\'s measurement, from the verdict');
  // The table alone proves nothing: its ARK is not AMD's pinned root.
  await assert.rejects(verifyAttestation(wire, { now: NOW }), { code: 'ATTEST_CHAIN_INVALID' });
  // Without the table there is no VCEK to check the signature with.
  await assert.rejects(verifyAttestation(wire.subarray(0, 0x4a0), { now: NOW, roots: { amdArkDer: ark } }), { code: 'ATTEST_COLLATERAL_MISSING' });
  // One flipped report_data byte: the signature no longer verifies.
  const bad = wire.slice();
  bad[0x50] ^= 1;
  await assert.rejects(verifyAttestation(bad, { now: NOW, roots: { amdArkDer: ark } }), { code: 'ATTEST_SNP_SIGNATURE' });
  // A truncated table is malformed, not silently ignored.
  await assert.rejects(verifyAttestation(wire.subarray(0, 0x4a0 + 30), { now: NOW, roots: { amdArkDer: ark } }), { code: 'ATTEST_DECODE' });
  // A host-provisioned table over the cap is refused at the source: no peer would accept the evidence.
  const bigRoot = join(tmpDir(), 'tsm');
  const big = new Uint8Array(SNP_MAX_CERT_TABLE_BYTES + 1);
  big.set(snpPki.certTable);
  const p2 = await openConfigfsTsmPlatform({ tee: 'sev-snp', root: bigRoot, files: fakeConfigfsTsm({ root: bigRoot, provider: 'sev_guest', respond: (inblob) => ({ outblob: buildSnpReport(snpPki, m, inblob), auxblob: big }) }) });
  assert.throws(() => p2.evidence(rd(5)), { code: 'ENCLAVE_ATTESTOR_UNAVAILABLE' });
  assert.deepEqual(readdirSync(bigRoot), [], 'the report entry is removed');
});

test('configfs-tsm refusals: another writer (generation race), wrong provider, foreign report data, changed RTMR, no device', async () => {
  await pkiReady;
  const td = testTd('refusals');
  // Another process writes our entry between our inblob write and our outblob read.
  const raceRoot = join(tmpDir(), 'tsm');
  let race = false;
  const racy = tdxDevice(raceRoot, td, 4, { afterGenerate: (entry) => { if (race) racy.write(join(entry, 'inblob'), rd(0xee)); } });
  const p = await openConfigfsTsmPlatform({ tee: 'tdx', root: raceRoot, files: racy });
  race = true;
  assert.throws(() => p.evidence(rd(1)), { code: 'ENCLAVE_PLATFORM_RACE' });
  assert.deepEqual(readdirSync(raceRoot), []);
  // A bundle built for TDX on an SNP guest.
  const wrongRoot = join(tmpDir(), 'tsm');
  await assert.rejects(openConfigfsTsmPlatform({ tee: 'tdx', root: wrongRoot, files: fakeConfigfsTsm({ root: wrongRoot, provider: 'sev_guest', respond: () => ({ outblob: new Uint8Array() }) }) }), { code: 'ENCLAVE_PLATFORM_MISMATCH' });
  // A device that quotes other report data than written (a replayed quote).
  let replay: Uint8Array | null = null;
  const replayRoot = join(tmpDir(), 'tsm');
  const replaying = fakeConfigfsTsm({ root: replayRoot, provider: 'tdx_guest', respond: (inblob) => ({ outblob: replay ?? buildTdxQuote(pki, td, inblob) }) });
  const p2 = await openConfigfsTsmPlatform({ tee: 'tdx', root: replayRoot, files: replaying });
  replay = buildTdxQuote(pki, td, rd(3));
  assert.throws(() => p2.evidence(rd(4)), { code: 'ENCLAVE_PLATFORM_MISMATCH' });
  // RTMR3 extended after open: a new identity, refused rather than quoted under the old one.
  let current = td;
  const extRoot = join(tmpDir(), 'tsm');
  const p3 = await openConfigfsTsmPlatform({ tee: 'tdx', root: extRoot, files: fakeConfigfsTsm({ root: extRoot, provider: 'tdx_guest', respond: (inblob) => ({ outblob: buildTdxQuote(pki, current, inblob) }) }) });
  current = { ...td, rtmrs: [td.rtmrs[0], td.rtmrs[1], td.rtmrs[2], new Uint8Array(48).fill(1)] };
  assert.throws(() => p3.evidence(rd(5)), { code: 'ENCLAVE_PLATFORM_MISMATCH' });
  // No configfs-tsm at all (the default node:fs interface).
  await assert.rejects(openConfigfsTsmPlatform({ tee: 'tdx', root: join(tmpDir(), 'absent') }), { code: 'ENCLAVE_ATTESTOR_UNAVAILABLE' });
});

test('SGX under Gramine: quote via /dev/attestation verifies with verifyDcapQuote; MRENCLAVE seal key gives a deterministic, context-bound key', async () => {
  await pkiReady;
  const mrEnclave = new Uint8Array(32).fill(0x42);
  const mrSigner = new Uint8Array(32).fill(0x24);
  const dev = (dir: string, o: { sealKey?: Uint8Array; type?: string; mr?: () => Uint8Array } = {}) => fakeGramine({
    dir, sealKey: o.sealKey ?? new Uint8Array(16).fill(1), type: o.type,
    quote: (u) => buildSimQuote({ pki, mrEnclave: o.mr?.() ?? mrEnclave, mrSigner, reportData: u }),
  });
  const dir = join(tmpDir(), 'attestation');
  const p = await openGraminePlatform({ dir, files: dev(dir) });
  assert.equal(p.teeType, 'sgx');
  assert.deepEqual(p.measurement, mrEnclave);
  assert.deepEqual(p.mrSigner, mrSigner);
  const ev = p.evidence(rd(6));
  assert.equal(ev.kind, 'dcap-quote');
  const quote = ev.kind === 'dcap-quote' ? ev.quote : new Uint8Array();
  const v = verifyDcapQuote(quote, pki.collateral(), { now: NOW, rootCaDer: pki.rootCaDer });
  assert.equal(quoteMeasurements(parseQuote(quote)).mrEnclave, bytesToHex(mrEnclave).slice(2));
  assert.equal(v.measurements.reportData, bytesToHex(rd(6)).slice(2));
  assert.equal(p.sealing.kind, 'hardware');
  const c1 = new Uint8Array(32).fill(1), c2 = new Uint8Array(32).fill(2);
  const k1 = sealingKeyFor(p, c1);
  assert.equal(k1.length, 32);
  assert.deepEqual(sealingKeyFor(p, c1), k1);
  assert.notDeepEqual(sealingKeyFor(p, c2), k1);
  const dir2 = join(tmpDir(), 'attestation');
  const other = await openGraminePlatform({ dir: dir2, files: dev(dir2, { sealKey: new Uint8Array(16).fill(2) }) });
  assert.notDeepEqual(sealingKeyFor(other, c1), k1, 'another CPU / MRENCLAVE seal key derives another key');
  // Refusals: not DCAP; a quote of another enclave after open; no device.
  const dir3 = join(tmpDir(), 'attestation');
  await assert.rejects(openGraminePlatform({ dir: dir3, files: dev(dir3, { type: 'epid' }) }), { code: 'ENCLAVE_ATTESTOR_UNAVAILABLE' });
  let mr = mrEnclave;
  const dir4 = join(tmpDir(), 'attestation');
  const p4 = await openGraminePlatform({ dir: dir4, files: dev(dir4, { mr: () => mr }) });
  mr = new Uint8Array(32).fill(0x43);
  assert.throws(() => p4.evidence(rd(1)), { code: 'ENCLAVE_PLATFORM_MISMATCH' });
  await assert.rejects(openGraminePlatform({ dir: join(tmpDir(), 'absent') }), { code: 'ENCLAVE_ATTESTOR_UNAVAILABLE' });
});

test('the runtime on a TDX platform: the handshake quotes are TDX quotes over the protocol report data; keys live only in the process', async () => {
  await pkiReady;
  const root = join(tmpDir(), 'tsm');
  const td = testTd('runtime');
  const platform = await openConfigfsTsmPlatform({ tee: 'tdx', root, files: tdxDevice(root, td, 5) });
  const { rt, dataDir, keys } = await setup(counterApp, tmpDir(), platform);
  const st = (await rt.handle('status', {})) as { teeType: string; simulated: boolean; measurement: Hex; sessionId: string };
  assert.equal(st.teeType, 'tdx');
  assert.equal(st.simulated, false);
  assert.equal(st.measurement, bytesToHex(tdxEnclaveIdentity(td.mrTd, td.rtmrs)));
  assert.equal(st.sessionId, '1');
  const kv = verifyDcapQuote(hexToBytes(keys.quote), tdxCollateral(pki), { now: NOW, rootCaDer: pki.rootCaDer });
  assert.equal(kv.teeType, 'tdx');
  const sc = (await rt.handle('sessionCreate', {})) as { nonce: Hex; quote: Hex };
  const v = verifyDcapQuote(hexToBytes(sc.quote), tdxCollateral(pki), { now: NOW, rootCaDer: pki.rootCaDer });
  const cfgHash = ((await rt.handle('init', { config: (await import('./helpers.ts')).testConfig() })) as { configHash: Hex }).configHash;
  assert.equal(v.measurements.reportData, sessionCreateReportData(31337n, CONTRACT, cfgHash, sc.nonce).slice(2) + '00'.repeat(32));
  // No sealing key on TDX: a new process (new platform object) cannot open this process's keys.sealed.
  const again = await openConfigfsTsmPlatform({ tee: 'tdx', root, files: tdxDevice(root, td, 5) });
  assert.notDeepEqual(sealingKeyFor(again, hexToBytes(cfgHash)), sealingKeyFor(platform, hexToBytes(cfgHash)));
  assert.ok(readdirSync(dataDir).includes('keys.sealed'));
});

test('the runtime on Gramine SGX: keys.sealed is protected by the MRENCLAVE seal key and survives a restart on the same CPU only', async () => {
  await pkiReady;
  const mrEnclave = new Uint8Array(32).fill(0x51);
  const open = (sealKey: Uint8Array) => {
    const dir = join(tmpDir(), 'attestation');
    return openGraminePlatform({ dir, files: fakeGramine({ dir, sealKey, quote: (u) => buildSimQuote({ pki, mrEnclave, mrSigner: new Uint8Array(32), reportData: u }) }) });
  };
  const cpu = new Uint8Array(16).fill(0xa1);
  const { rt: first, dataDir, keys } = await setup(counterApp, tmpDir(), await open(cpu));
  first.close(); // the first enclave process is gone
  const { testConfig } = await import('./helpers.ts');
  const restarted = new EnclaveRuntime(counterApp, { dataDir, platform: await open(cpu), log: () => {} });
  await restarted.handle('init', { config: testConfig() });
  const st = (await restarted.handle('status', {})) as { teeType: string; sessionId: string | null; encPubKey: Hex | null };
  assert.equal(st.teeType, 'sgx');
  assert.equal(st.sessionId, '1');
  assert.equal(st.encPubKey, keys.encPubKey, 'the same keys, unsealed with the same CPU seal key');
  const elsewhere = new EnclaveRuntime(counterApp, { dataDir, platform: await open(new Uint8Array(16).fill(0xb2)), log: () => {} });
  await elsewhere.handle('init', { config: testConfig() });
  assert.equal(((await elsewhere.handle('status', {})) as { sessionId: string | null }).sessionId, null, 'another CPU cannot open keys.sealed');
});
