import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDemo, type DemoResult } from '../src/commands/demo.ts';
import type { Reporter } from '../src/output.ts';
import pino from 'pino';

const quiet: Reporter = { json: true, progress() {}, say() {}, result() {}, logger: pino({ level: 'silent' }) };

/** The demo's committed results, whichever light client gated them. */
function assertDemoResults(r: DemoResult): void {
  assert.equal(r.ok, true);
  assert.match(r.measurement, /^[0-9a-f]{64}$/);
  assert.equal(r.attestation.simulated, true);
  assert.equal(r.attestation.status, 'UpToDate');
  assert.equal(r.attestation.mrEnclave, r.measurement);
  const byName = Object.fromEntries(r.computations.map((c) => [c.name, c.results]));
  // Average of each participant's latest value at lock time: alice 100000, bob 130000 (replaced 120000), carol 90000.
  const avg = (100_000 + 130_000 + 90_000) / 3;
  for (const p of ['alice', 'bob', 'carol', 'dave']) assert.deepEqual(byName['salary-average']![p], { average: avg, count: 3 }, p);
  for (const p of ['alice', 'bob', 'carol']) assert.deepEqual(byName['top-seller']![p], { max: 'bob' }, p);
  for (const p of ['bob', 'carol', 'dave']) assert.deepEqual(byName['lowest-bid']![p], { min: 'carol' }, p);
  const km = byName['vin-claims']!;
  assert.equal(km.bob, null, 'bob matched no key');
  assert.deepEqual((km.alice as { messages: string[] }).messages.sort(), ['carol: claim C-2, total loss', 'dave: claim D-9']);
  assert.deepEqual((km.dave as { messages: string[] }).messages.sort(), ['alice: claim A-17, rear damage', 'carol: claim C-2, total loss']);
  const codes = r.refused.map((x) => `${x.who}:${x.code}`).sort();
  assert.deepEqual(codes, [
    'alice:APP_NOT_AUTHORISED', 'bob:APP_QUORUM_NOT_REACHED', 'bob:ComputationExists', 'dave:APP_LOCKED', 'eve:APP_DOES_NOT_EXIST', 'eve:APP_NOT_AUTHORISED',
  ]);
  assert.equal(r.requests, 38);
}

test('geode demo: end to end on the embedded devnet, every participant learns the locked result', { timeout: 180_000 }, async () => {
  const r = await runDemo(quiet);
  assert.equal(r.lightClient, 'devnet');
  assertDemoResults(r);
});

test('geode demo --light-client ethereum: the same results, every batch gated by the sync-committee light client over the devnet\'s Beacon API', { timeout: 420_000 }, async () => {
  const r = await runDemo(quiet, { lightClient: 'ethereum' });
  assert.equal(r.lightClient, 'ethereum');
  assertDemoResults(r);
});
