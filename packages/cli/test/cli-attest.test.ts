import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerAttestCommands, runAttestInspect, runAttestVerify, parseNow, type AttestIo } from '../src/commands/attest.ts';
import { FIXTURES, SGX_OK, TDX_OK, DCAP_CASES } from '../../attestation/test/dcap-fixtures.ts';

const io = () => {
  const lines: string[] = [];
  const sink: AttestIo & { lines: string[] } = { lines, out: (t) => lines.push(t), clock: () => 1_000_000_000 };
  return sink;
};
const f = (p: string) => FIXTURES + p;
const dir = mkdtempSync(join(tmpdir(), 'geode-cli-attest-'));

test('parseNow: unix seconds and ISO-8601, milliseconds kept', () => {
  assert.equal(parseNow('1752919277'), 1752919277);
  assert.equal(parseNow('2025-07-19T10:01:17Z'), 1752919277);
  assert.equal(parseNow('2025-07-19T10:01:17.405Z'), 1752919277.405);
  assert.equal(parseNow('1752919277.405'), 1752919277.405);
  assert.equal(parseNow('yesterday'), null);
});

test('verify --now keeps milliseconds: the Nitro leaf (valid 14:37:36 .. 17:37:39) is checked at the exact instant', async () => {
  const nitro = f('nitro/blocky-nitrite/nitro_attestation.b64');
  const at = async (now: string) => {
    const s = io();
    const code = await runAttestVerify(nitro, { now, json: true }, s);
    const j = JSON.parse(s.lines[0]!) as { now: string; error?: { code: string } };
    return { code, now: j.now, error: j.error?.code };
  };
  assert.deepEqual(await at('2024-09-07T17:37:39.000Z'), { code: 0, now: '2024-09-07T17:37:39Z', error: undefined });
  // 400 ms past notAfter: with the milliseconds dropped this was checked at 17:37:39.000 and accepted.
  assert.deepEqual(await at('2024-09-07T17:37:39.400Z'), { code: 1, now: '2024-09-07T17:37:39.400Z', error: 'ATTEST_CERT_EXPIRED' });
  assert.deepEqual(await at('2024-09-07T14:37:35.999Z'), { code: 1, now: '2024-09-07T14:37:35.999Z', error: 'ATTEST_CERT_NOT_YET_VALID' });
  assert.deepEqual(await at('2024-09-07T14:37:36.000Z'), { code: 0, now: '2024-09-07T14:37:36Z', error: undefined });
});

test('verify --json: accepted TDX quote (UpToDate) exits 0 with measurements', async () => {
  const s = io();
  const code = await runAttestVerify(f('dcap-qvl/tdx_quote'), { collateral: f(TDX_OK.collateral), now: String(TDX_OK.now), json: true }, s);
  assert.equal(code, 0);
  assert.equal(s.lines.length, 1);
  const j = JSON.parse(s.lines[0]);
  assert.equal(j.accepted, true);
  assert.equal(j.status, 'UpToDate');
  assert.deepEqual(j.advisoryIds, []);
  assert.equal(j.teeType, 'tdx');
  assert.equal(j.measurements.mrTd, '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7');
  assert.equal(j.nowSource, 'option');
});

test('verify --json: SGX quote verifies but the default policy refuses its status (exit 1, POLICY_TCB_STATUS)', async () => {
  const s = io();
  const code = await runAttestVerify(f('dcap-qvl/sgx_quote'), { collateral: f(SGX_OK.collateral), now: '2025-07-19T10:01:17Z', json: true }, s);
  assert.equal(code, 1);
  const j = JSON.parse(s.lines[0]);
  assert.equal(j.accepted, false);
  assert.equal(j.status, 'ConfigurationAndSWHardeningNeeded');
  assert.deepEqual(j.advisoryIds, ['INTEL-SA-00289', 'INTEL-SA-00615']);
  assert.equal(j.code, 'POLICY_TCB_STATUS');
  assert.equal(j.error.stage, 'policy');
  assert.equal(j.measurements.mrEnclave, '33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb');
});

test('verify with a YAML policy accepting the status and advisories: exit 0, readable output', async () => {
  const p = join(dir, 'policy.yaml');
  writeFileSync(p, 'acceptedStatuses: [ConfigurationAndSWHardeningNeeded]\nallowedAdvisoryIds: [INTEL-SA-00289, INTEL-SA-00615]\nsgx:\n  mrEnclave: ["0x33D8736DB756ED4997E04BA358D27833188F1932FF7B1D156904D3F560452FBB"]\n');
  const s = io();
  const code = await runAttestVerify(f('dcap-qvl/sgx_quote'), { collateral: f(SGX_OK.collateral), now: String(SGX_OK.now), policy: p }, s);
  assert.equal(code, 0);
  const text = s.lines.join('\n');
  assert.match(text, /TCB status: ConfigurationAndSWHardeningNeeded/);
  assert.match(text, /advisories: INTEL-SA-00289, INTEL-SA-00615/);
  assert.match(text, /mrEnclave: 33d8736d/);
  assert.match(text, /valid: 2025-06-19T10:56:11Z \.\. 2025-07-19T10:01:18Z/);
  assert.match(text, /ACCEPTED by policy .* at 2025-07-19T10:01:17Z \(--now\)$/);
});

test('verify: crypto failure names the failed check (ATTEST_TCB_LEVEL_NOT_FOUND), exit 1', async () => {
  const c = DCAP_CASES[2];
  const s = io();
  const code = await runAttestVerify(f('dcap-qvl/tdx_quote_outdated'), { collateral: f(c.collateral), now: String(c.now) }, s);
  assert.equal(code, 1);
  assert.match(s.lines.join('\n'), /verification failed: ATTEST_TCB_LEVEL_NOT_FOUND[\s\S]*REFUSED/);
});

test('verify without --now uses the clock and says so (collateral then expired: refused)', async () => {
  const s = io();
  const code = await runAttestVerify(f('dcap-qvl/tdx_quote'), { collateral: f(TDX_OK.collateral) }, s);
  assert.equal(code, 1);
  const text = s.lines.join('\n');
  // The time is printed only with the verdict: nothing before the failure reads like success.
  assert.doesNotMatch(text, /verified at/);
  assert.match(text, /verification failed: [A-Z_]+[\s\S]*\nREFUSED at 2001-09-09T01:46:40Z \(the current time: no --now given\)$/);
  const s2 = io();
  await runAttestVerify(f('dcap-qvl/tdx_quote'), { collateral: f(TDX_OK.collateral), json: true }, s2);
  assert.equal(JSON.parse(s2.lines[0]).nowSource, 'clock');
});

test('verify: hex evidence file, missing collateral, bad --now, missing file', async () => {
  let s = io();
  assert.equal(await runAttestVerify(f('dcap-qvl/tdx-quote.hex'), { now: String(TDX_OK.now), json: true }, s), 1);
  assert.equal(JSON.parse(s.lines[0]).code, 'ATTEST_COLLATERAL_MISSING');
  s = io();
  assert.equal(await runAttestVerify(f('dcap-qvl/tdx_quote'), { now: 'soon', json: true }, s), 2);
  assert.equal(JSON.parse(s.lines[0]).error.code, 'CLI_ARGUMENT');
  s = io();
  assert.equal(await runAttestVerify(join(dir, 'nope.bin'), { json: true }, s), 2);
  assert.equal(JSON.parse(s.lines[0]).error.code, 'CLI_FILE');
});

test('verify: SEV-SNP with a VCEK collateral file', async () => {
  const s = io();
  await runAttestVerify(f('sev-snp/go-sev-guest/attestation.bin'), { collateral: f('sev-snp/go-sev-guest/vcek.testcer'), now: '1663981200', json: true }, s);
  const j = JSON.parse(s.lines[0]);
  assert.equal(j.teeType, 'sev-snp');
  assert.equal(j.measurements.measurement, 'b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01');
});

test('inspect: DCAP structure without verification', () => {
  const s = io();
  assert.equal(runAttestInspect(f('go-tdx-guest/quote_v5_sample.dat'), { json: true }, s), 0);
  const j = JSON.parse(s.lines[0]);
  assert.equal(j.kind, 'dcap');
  assert.deepEqual(j.bodyDescriptor, { type: 3, size: 648 });
  assert.equal(j.certificationDataType, 6);
  assert.equal(j.pckChainCertificates, 3);
  const t = io();
  assert.equal(runAttestInspect(f('dcap-qvl/tdx_quote'), {}, t), 0);
  assert.match(t.lines[0], /trailingBytes: 70/);
  const bad = join(dir, 'bad.bin');
  writeFileSync(bad, Buffer.from([1, 2, 3, 255]));
  const u = io();
  assert.equal(runAttestInspect(bad, { json: true }, u), 1);
  assert.equal(JSON.parse(u.lines[0]).error.code, 'ATTEST_UNSUPPORTED_EVIDENCE');
});

test('registerAttestCommands wires commander: exitCode reflects the verdict', async () => {
  const program = new Command().exitOverride();
  registerAttestCommands(program);
  const writes: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array) => (writes.push(String(c)), true)) as typeof process.stdout.write;
  const before = process.exitCode;
  try {
    await program.parseAsync(['node', 'geode', 'attest', 'verify', f('dcap-qvl/tdx_quote'), '--collateral', f(TDX_OK.collateral), '--now', String(TDX_OK.now), '--json']);
    assert.equal(process.exitCode, 0);
    await program.parseAsync(['node', 'geode', 'attest', 'verify', f('dcap-qvl/sgx_quote'), '--collateral', f(SGX_OK.collateral), '--now', String(SGX_OK.now), '--json']);
    assert.equal(process.exitCode, 1);
  } finally {
    process.stdout.write = orig;
    process.exitCode = before;
  }
  assert.equal(JSON.parse(writes[0]).accepted, true);
  assert.equal(JSON.parse(writes[1]).accepted, false);
});

test('verify --onchain --json: the on-chain verifier gives the same verdict and reports its gas', async () => {
  const s = io();
  const code = await runAttestVerify(f('dcap-qvl/tdx_quote'), { collateral: f(TDX_OK.collateral), now: String(TDX_OK.now), json: true, onchain: true }, s);
  assert.equal(code, 0, s.lines.join('\n'));
  const j = JSON.parse(s.lines[0]);
  assert.equal(j.accepted, true);
  assert.equal(j.onchain.status, j.status);
  assert.deepEqual(j.onchain.advisoryIds, j.advisoryIds);
  assert.equal(j.onchain.reportData, j.measurements.reportData);
  assert.ok(Number.isInteger(j.onchain.gasQuote) && j.onchain.gasQuote > j.onchain.gasQuoteCached, JSON.stringify(j.onchain));
  assert.ok(j.onchain.gasRegistration > j.onchain.gasQuote);
  // Past the collateral's window the contract refuses like the TypeScript verifier (stage verify comes first).
  const late = io();
  assert.equal(await runAttestVerify(f('dcap-qvl/tdx_quote'), { collateral: f(TDX_OK.collateral), now: String(TDX_OK.now + 86400 * 60), json: true, onchain: true }, late), 1);
  const k = JSON.parse(late.lines[0]);
  assert.equal(k.onchain.error.code, k.code);
  assert.equal(k.onchain.error.stage, 'onchain');
});

test('verify --onchain refuses evidence other than DCAP and a missing --collateral (exit 2)', async () => {
  const s = io();
  assert.equal(await runAttestVerify(f('dcap-qvl/tdx_quote'), { now: String(TDX_OK.now), json: true, onchain: true }, s), 2);
  assert.equal(JSON.parse(s.lines[0]).error.code, 'CLI_ARGUMENT');
});

test('inspect: SEV-SNP and Nitro print their fields as for DCAP quotes (measurements as attest verify names them)', async () => {
  const snp = f('sev-snp/go-sev-guest/attestation.bin');
  const s = io();
  assert.equal(runAttestInspect(snp, { json: true }, s), 0);
  const j = JSON.parse(s.lines[0]!);
  // The same measurement block `attest verify` reports for this report (verified with its VCEK at a pinned time).
  const v = io();
  await runAttestVerify(snp, { collateral: f('sev-snp/go-sev-guest/vcek.testcer'), now: '1663981200', json: true }, v);
  assert.deepEqual(j.measurements, JSON.parse(v.lines[0]!).measurements);
  assert.equal(j.signingKey, 'VCEK');
  assert.equal(j.debug, true);
  assert.match(j.firmware.current, /^\d+\.\d+\.\d+$/);
  const t = io();
  assert.equal(runAttestInspect(snp, {}, t), 0);
  const text = t.lines.join('\n');
  assert.ok(text.split('\n').length > 15, text);
  assert.match(text, /^sev-snp evidence \(sev-snp, version 2, binary, 1184 bytes\)\nmeasurements:\n  measurement: b07af962/);
  assert.match(text, /\nsigningKey: VCEK\n/);
  const n = io();
  assert.equal(runAttestInspect(f('nitro/blocky-nitrite/nitro_attestation.b64'), {}, n), 0);
  assert.match(n.lines.join('\n'), /\n  pcrs\[0\]: e72a46ca[\s\S]*\ntimestamp: 2024-09-07T14:37:39\.545Z\n/);
});
