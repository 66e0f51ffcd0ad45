/**
 * The transfers enclave app (docs/apps.md#transfers): private balances of ETH deposited into Transfers.sol.
 * Trusted code: imports only @geode/enclave, @geode/protocol-level code, zod and viem's encoding utilities.
 *
 * State: one collection `balance`, key [lowercase address] -> balance in wei (decimal string); an absent key is 0.
 * Every handler validates before it writes, and a refusal is a thrown app error (the framework drops its effects).
 * Conservation: deposit adds msg.value; transfer moves an amount between two balances; withdraw removes it from a
 * balance and publishes exactly that amount for the contract to pay out. Nothing else changes a balance.
 */
import { encodeAbiParameters, type Address } from 'viem';
import { z } from 'zod';
import { defineApp, type AppContext } from '@geode/enclave';
import { InsufficientBalanceError, ZeroAmountError } from '../errors.ts';
import { WITHDRAWAL_OUTPUT, transfersSpec, weiString, type TransfersOutput } from '../spec.ts';

const state = { balance: weiString };
type Ctx = AppContext<typeof state>;

async function balanceOf(ctx: Ctx, who: Address): Promise<bigint> {
  return BigInt((await ctx.collections.balance.get([who])) ?? '0');
}

function setBalance(ctx: Ctx, who: Address, v: bigint): void {
  if (v === 0n) ctx.collections.balance.delete([who]); // absent = 0: the state holds only non-zero balances
  else ctx.collections.balance.set([who], v.toString());
}

function nonZero(amount: bigint, what: string): void {
  if (amount === 0n) throw new ZeroAmountError(`A ${what} of 0 wei does nothing; send a positive amount.`);
}

async function debit(ctx: Ctx, amount: bigint, what: string): Promise<bigint> {
  const have = await balanceOf(ctx, ctx.sender);
  if (have < amount) {
    throw new InsufficientBalanceError(`Your balance is below the ${amount} wei of this ${what}; deposit more or ${what} less (ask for your balance with the balance request).`);
  }
  return have - amount;
}

const say = (ctx: Ctx, to: Address, m: TransfersOutput) => ctx.emit(to, m);

/** The app the runtime runs (src/enclave/main.ts). */
export const transfersApp = defineApp(transfersSpec, {
  state,
  public: {
    async deposit([amount], ctx) {
      nonZero(amount, 'deposit');
      const balance = (await balanceOf(ctx, ctx.sender)) + amount;
      setBalance(ctx, ctx.sender, balance);
      say(ctx, ctx.sender, { op: 'deposited', amount: amount.toString(), balance: balance.toString() });
    },
  },
  private: {
    async transfer(req, ctx) {
      const to = req.to.toLowerCase() as Address;
      const amount = BigInt(req.amount);
      nonZero(amount, 'transfer');
      const left = await debit(ctx, amount, 'transfer');
      setBalance(ctx, ctx.sender, left);
      // Read after the debit: a transfer to oneself leaves the balance as it was.
      const theirs = (await balanceOf(ctx, to)) + amount;
      setBalance(ctx, to, theirs);
      say(ctx, ctx.sender, { op: 'sent', to, amount: req.amount, balance: (to === ctx.sender ? theirs : left).toString() });
      if (to !== ctx.sender) say(ctx, to, { op: 'received', from: ctx.sender, amount: req.amount, balance: theirs.toString() });
    },
    async withdraw(req, ctx) {
      const amount = BigInt(req.amount);
      nonZero(amount, 'withdrawal');
      const left = await debit(ctx, amount, 'withdrawal');
      setBalance(ctx, ctx.sender, left);
      ctx.publish(encodeAbiParameters(WITHDRAWAL_OUTPUT, [ctx.sender, amount]));
      say(ctx, ctx.sender, { op: 'withdrawn', amount: req.amount, balance: left.toString() });
    },
    async balance(_req: z.output<typeof transfersSpec.private.balance>, ctx) {
      say(ctx, ctx.sender, { op: 'balance', balance: (await balanceOf(ctx, ctx.sender)).toString() });
    },
  },
});
