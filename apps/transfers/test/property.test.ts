// Property test: random deposits, transfers, withdrawals and balance queries against a plaintext model. After every
// request: the enclave's outcome (ok or the refusal code) and every balance equal the model's; deposits == balances +
// withdrawals published (conservation); no withdrawal exceeds the balance it was made from; a restart in between
// changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAbiParameters, type Address } from 'viem';
import { transfersApp } from '../src/enclave/app.ts';
import { WITHDRAWAL_OUTPUT, transfersSpec } from '../src/index.ts';
import { AppHarness, type Outcome } from '@geode/testing';

const USERS = ['0x1000000000000000000000000000000000000001', '0x2000000000000000000000000000000000000002', '0x3000000000000000000000000000000000000003'] as Address[];

type Op =
  | { t: 'deposit'; who: number; amount: bigint }
  | { t: 'transfer'; who: number; to: number; amount: bigint }
  | { t: 'withdraw'; who: number; amount: bigint }
  | { t: 'balance'; who: number }
  | { t: 'restart' };

const amount = fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.constant(10n ** 30n));
const user = fc.integer({ min: 0, max: USERS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('deposit' as const), who: user, amount }),
  fc.record({ t: fc.constant('transfer' as const), who: user, to: user, amount }),
  fc.record({ t: fc.constant('withdraw' as const), who: user, amount }),
  fc.record({ t: fc.constant('balance' as const), who: user }),
  fc.constant({ t: 'restart' as const }),
);

test('transfers property: the enclave equals a plaintext ledger model; value is conserved; no withdrawal beyond a balance', async () => {
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
    let h = new AppHarness(transfersApp);
    const model = new Map<Address, bigint>();
    const bal = (i: number) => model.get(USERS[i]!) ?? 0n;
    let deposited = 0n;
    let withdrawn = 0n;
    for (const o of ops) {
      if (o.t === 'restart') { h = await h.restart(); continue; }
      const who = USERS[o.who]!;
      let out: Outcome;
      let expect: string | null = null; // refusal code, or null for ok
      if (o.t === 'deposit') {
        out = await h.publicRequest(who, transfersSpec.publicKind('deposit'), transfersSpec.encodePublic('deposit', [o.amount]));
        if (o.amount === 0n) expect = 'APP_TRANSFERS_ZERO_AMOUNT';
        else { model.set(who, bal(o.who) + o.amount); deposited += o.amount; }
      } else if (o.t === 'transfer') {
        out = await h.privateRequest(who, transfersSpec.encodePrivate('transfer', { to: USERS[o.to]!, amount: o.amount.toString() }));
        if (o.amount === 0n) expect = 'APP_TRANSFERS_ZERO_AMOUNT';
        else if (bal(o.who) < o.amount) expect = 'APP_TRANSFERS_INSUFFICIENT_BALANCE';
        else { model.set(who, bal(o.who) - o.amount); model.set(USERS[o.to]!, bal(o.to) + o.amount); }
      } else if (o.t === 'withdraw') {
        out = await h.privateRequest(who, transfersSpec.encodePrivate('withdraw', { amount: o.amount.toString() }));
        if (o.amount === 0n) expect = 'APP_TRANSFERS_ZERO_AMOUNT';
        else if (bal(o.who) < o.amount) expect = 'APP_TRANSFERS_INSUFFICIENT_BALANCE';
        else { model.set(who, bal(o.who) - o.amount); withdrawn += o.amount; }
      } else {
        out = await h.privateRequest(who, transfersSpec.encodePrivate('balance', {}));
        assert.ok(out.ok);
        assert.deepEqual(out.emitted[0]!.out, { seq: h.seq.toString(), ok: true, message: { op: 'balance', balance: bal(o.who).toString() } });
      }
      if (expect) {
        assert.equal(out.ok ? 'ok' : out.error.code, expect);
      } else {
        assert.ok(out.ok, out.ok ? '' : out.error.code);
      }
      // Withdrawals published so far, each within the balance it came from (checked via the model above), sum as modelled.
      const published = h.published.reduce((n, p) => n + decodeAbiParameters(WITHDRAWAL_OUTPUT, p.data)[1], 0n);
      assert.equal(published, withdrawn);
      let held = 0n;
      for (const [k, v] of await h.state()) { assert.ok(typeof v === 'string' && BigInt(v) > 0n, `stored balance ${k} must be positive`); held += BigInt(v); }
      assert.equal(held + published, deposited, 'conservation: deposits == private balances + withdrawals');
    }
  }), { numRuns: 150, seed: 20261201 });
});
