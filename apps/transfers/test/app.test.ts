import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAbiParameters, type Address } from 'viem';
import { transfersApp } from '../src/enclave/app.ts';
import { WITHDRAWAL_OUTPUT, transfersSpec } from '../src/index.ts';
import { AppHarness, ok, refused } from '@geode/testing';

const ALICE = '0xa11ce00000000000000000000000000000000001' as Address;
const BOB = '0x0b0b000000000000000000000000000000000002' as Address;

const deposit = (h: AppHarness, who: Address, amount: bigint) => h.publicRequest(who, transfersSpec.publicKind('deposit'), transfersSpec.encodePublic('deposit', [amount]));
const priv = (h: AppHarness, who: Address, bytes: Uint8Array) => h.privateRequest(who, bytes);
const transfer = (h: AppHarness, who: Address, to: Address, amount: bigint) => priv(h, who, transfersSpec.encodePrivate('transfer', { to, amount: amount.toString() }));
const withdraw = (h: AppHarness, who: Address, amount: bigint) => priv(h, who, transfersSpec.encodePrivate('withdraw', { amount: amount.toString() }));
const balance = async (h: AppHarness, who: Address): Promise<bigint> => {
  const [e] = ok(await priv(h, who, transfersSpec.encodePrivate('balance', {})));
  assert.equal(e!.to, who.toLowerCase());
  assert.ok(e!.out.ok && (e!.out.message as { op: string }).op === 'balance');
  return BigInt((e!.out as { message: { balance: string } }).message.balance);
};

test('transfers: deposit, transfer, withdraw and balance move wei between private balances and publish each withdrawal once', async () => {
  const h = new AppHarness(transfersApp);
  const [d] = ok(await deposit(h, ALICE, 1000n));
  assert.deepEqual(d!.out, { seq: '1', ok: true, message: { op: 'deposited', amount: '1000', balance: '1000' } });
  const sent = ok(await transfer(h, ALICE, BOB, 300n));
  assert.deepEqual(sent.map((e) => [e.to, e.out.ok && e.out.message]), [
    [ALICE, { op: 'sent', to: BOB, amount: '300', balance: '700' }],
    [BOB, { op: 'received', from: ALICE, amount: '300', balance: '300' }],
  ]);
  const w = await withdraw(h, BOB, 200n);
  ok(w);
  assert.equal(w.published.length, 1);
  const [to, amount] = decodeAbiParameters(WITHDRAWAL_OUTPUT, w.published[0]!);
  assert.equal(to.toLowerCase(), BOB);
  assert.equal(amount, 200n);
  assert.equal(await balance(h, ALICE), 700n);
  assert.equal(await balance(h, BOB), 100n);
  // A self-transfer changes nothing; a transfer of the whole balance removes the key (absent = 0).
  ok(await transfer(h, ALICE, ALICE, 700n));
  assert.equal(await balance(h, ALICE), 700n);
  ok(await transfer(h, BOB, ALICE, 100n));
  assert.equal(await balance(h, BOB), 0n);
  assert.equal((await h.state()).length, 1, 'only non-zero balances are stored');
  assert.equal(h.published.length, 1);
});

test('transfers: refusals (insufficient balance, zero amounts, malformed requests) change nothing and publish nothing', async () => {
  const h = new AppHarness(transfersApp);
  ok(await deposit(h, ALICE, 50n));
  const before = JSON.stringify(await h.state());
  refused(await transfer(h, ALICE, BOB, 51n), 'APP_TRANSFERS_INSUFFICIENT_BALANCE');
  refused(await withdraw(h, ALICE, 51n), 'APP_TRANSFERS_INSUFFICIENT_BALANCE');
  refused(await withdraw(h, BOB, 1n), 'APP_TRANSFERS_INSUFFICIENT_BALANCE');
  refused(await transfer(h, ALICE, BOB, 0n), 'APP_TRANSFERS_ZERO_AMOUNT');
  refused(await deposit(h, ALICE, 0n), 'APP_TRANSFERS_ZERO_AMOUNT');
  const raw = (o: unknown) => priv(h, ALICE, new TextEncoder().encode(JSON.stringify(o)));
  refused(await raw({ op: 'transfer', to: BOB, amount: '-1' }), 'APP_REQUEST_INVALID');
  refused(await raw({ op: 'transfer', to: BOB, amount: '01' }), 'APP_REQUEST_INVALID');
  refused(await raw({ op: 'transfer', to: BOB, amount: (1n << 256n).toString() }), 'APP_REQUEST_INVALID');
  refused(await raw({ op: 'transfer', to: 'bob', amount: '1' }), 'APP_REQUEST_INVALID');
  refused(await raw({ op: 'withdraw', amount: '1', extra: true }), 'APP_REQUEST_INVALID');
  refused(await raw({ op: '__proto__' }), 'APP_REQUEST_INVALID');
  refused(await raw({ op: 'toString' }), 'APP_REQUEST_INVALID');
  refused(await raw(['withdraw']), 'APP_REQUEST_INVALID');
  refused(await priv(h, ALICE, new Uint8Array([0xff, 0xfe])), 'APP_REQUEST_INVALID');
  refused(await h.publicRequest(ALICE, 'transfers.mint', transfersSpec.encodePublic('deposit', [5n])), 'APP_REQUEST_INVALID');
  refused(await h.publicRequest(ALICE, 'transfers.deposit', `${transfersSpec.encodePublic('deposit', [5n])}00`), 'APP_REQUEST_INVALID');
  refused(await h.publicRequest(ALICE, 'transfers.deposit', '0x1234'), 'APP_REQUEST_INVALID');
  assert.equal(JSON.stringify(await h.state()), before);
  assert.equal(h.published.length, 0);
  assert.equal(await balance(h, ALICE), 50n);
});

test('transfers: balances survive a restart (the state round-trips through its canonical JSON)', async () => {
  const h = new AppHarness(transfersApp);
  ok(await deposit(h, ALICE, 10n ** 18n));
  ok(await transfer(h, ALICE, BOB, 10n ** 17n));
  const r = await h.restart();
  assert.equal(r.seq, h.seq, 'the restarted enclave continues at the next seq');
  assert.equal(await balance(r, ALICE), 9n * 10n ** 17n);
  assert.equal(await balance(r, BOB), 10n ** 17n);
});
