/**
 * Property test: over random submission sequences, the enclave's average/max/min equal an independent
 * plaintext model, every participant receives the same locked result, and later submissions are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Address } from 'viem';
import { create, harness, ok, refused, send, single } from './requests.ts';

const PEOPLE = Array.from({ length: 6 }, (_, i) => `0x${(0xf0 - i * 0x21).toString(16)}${'0'.repeat(36)}${i.toString(16).padStart(2, '0')}` as Address);
const EVE = '0xeee0000000000000000000000000000000000005' as Address;

const valueArb = fc.oneof(
  fc.integer({ min: -3, max: 3 }), // frequent ties
  fc.constant(-0),
  fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true }),
);

/** Plaintext model, written independently of the app: replay the log, keep the last value and the first index. */
function model(type: 'average' | 'max' | 'min', subs: { who: number; value: number }[]) {
  const last = new Map<number, number>();
  const first = new Map<number, number>();
  subs.forEach((s, i) => { last.set(s.who, s.value); if (!first.has(s.who)) first.set(s.who, i); });
  if (type === 'average') {
    const byAddress = [...last.keys()].sort((a, b) => PEOPLE[a]!.localeCompare(PEOPLE[b]!));
    const sum = byAddress.reduce((acc, w) => acc + last.get(w)!, 0);
    return { type, value: sum / last.size + 0, count: last.size };
  }
  const values = [...last.values()];
  const extreme = type === 'max' ? Math.max(...values) : Math.min(...values);
  const tied = [...last.keys()].filter((w) => last.get(w) === extreme || (extreme === 0 && last.get(w) === 0));
  tied.sort((a, b) => first.get(a)! - first.get(b)!);
  return { type, participant: PEOPLE[tied[0]!]! };
}

test('property: average/max/min equal a plaintext model; the lock gives everyone the same result', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('average' as const, 'max' as const, 'min' as const),
      fc.integer({ min: 2, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.record({ who: fc.nat(), value: valueArb }), { minLength: 1, maxLength: 30 }),
      async (type, n, q, raw) => {
        const quorum = Math.min(q, n);
        const participants = PEOPLE.slice(0, n);
        const subs = raw.map((s) => ({ who: s.who % n, value: s.value }));
        const h = harness();
        ok(await create(h, EVE, 'p', type, participants, quorum));
        for (const s of subs) ok(await send(h, participants[s.who]!, { op: 'submit', computation: 'p', value: s.value }));
        const distinct = new Set(subs.map((s) => s.who)).size;
        if (distinct < quorum) {
          refused(await send(h, participants[0]!, { op: 'result', computation: 'p' }), 'APP_QUORUM_NOT_REACHED');
          return;
        }
        const expected = model(type, subs);
        const first = single(await send(h, participants[n - 1]!, { op: 'result', computation: 'p' }), participants[n - 1]!);
        assert.deepEqual(first, expected);
        refused(await send(h, participants[0]!, { op: 'submit', computation: 'p', value: 1e6 }), 'APP_LOCKED');
        const r = await h.restart();
        for (const p of participants) assert.deepEqual(single(await send(r, p, { op: 'result', computation: 'p' }), p), expected);
      },
    ),
    { numRuns: 300, seed: 20240601 },
  );
});
