import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { runFailoverDemo } from '../src/commands/demo-failover.ts';
import type { Reporter } from '../src/output.ts';

test('geode demo --scenario failover: A processes, B joins by handover, A is killed with its data dir deleted, B continues, an epoch rotation, C joins from B after it from a state snapshot; nothing lost or duplicated', { timeout: 240_000 }, async () => {
  const said: string[] = [];
  const rep: Reporter = { json: true, progress() {}, say: (m) => { said.push(m); }, result() {}, logger: pino({ level: 'silent' }) };
  const r = await runFailoverDemo(rep);
  assert.deepEqual({ ...r, elapsedMs: 0 }, { ok: true, instances: 3, handovers: 2, rotations: 1, requests: 24, lost: 0, duplicated: 0, elapsedMs: 0 });
  assert.ok(said.some((l) => l.startsWith('instance A: SIGKILL')), 'A was killed mid-round');
  assert.ok(said.some((l) => l.startsWith('instance B took over')));
  assert.ok(said.some((l) => l === 'instance B committed the rotation: the request key is at epoch 1'), said.join('\n'));
  assert.ok(said.some((l) => /^instance C started from a state snapshot at seq [1-9]/.test(l)), said.join('\n'));
  assert.ok(!said.some((l) => l.includes('mismatch')), said.join('\n'));
});
