/**
 * The transfers app's declaration (docs/apps.md#transfers), shared by its client and its enclave: Quartz's transfers
 * example (private balances of deposited ETH) on Geode.
 *
 * - `transfers.deposit` (public, appended by Transfers.deposit(), payable): body abi.encode(uint256 amount), amount =
 *   msg.value in wei, attributed to the depositor. Deposits are public by nature (ETH moves on-chain).
 * - `transfer` (private): { to, amount } — recipient and amount stay encrypted.
 * - `withdraw` (private): { amount } — the enclave debits the sender and publishes abi.encode(address to, uint256
 *   amount); the contract credits it in its hook and the user claims it (Transfers.claim()). The amount and the
 *   withdrawer become public, as any ETH payout does.
 * - `balance` (private): {} — the balance, answered encrypted to the asker.
 *
 * Amounts are wei as decimal strings ("0" excluded where noted), at most 2^256 - 1.
 */
import { z } from 'zod';
import { appSpec } from '@geode/protocol';

/** Largest wei amount (uint256). */
export const MAX_WEI = (1n << 256n) - 1n;

/** A wei amount: canonical decimal string (no sign, no leading zeros), at most MAX_WEI. */
export const weiString = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'a wei amount as a decimal string').refine((s) => BigInt(s) <= MAX_WEI, 'at most 2^256 - 1');
/** A 20-byte address as 0x hex (any case; the handlers lower-case it). */
export const addressString = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte address');

/** The app's requests. */
export const transfersSpec = appSpec({
  name: 'transfers',
  public: {
    deposit: [{ name: 'amount', type: 'uint256' }],
  },
  private: {
    transfer: z.object({ to: addressString, amount: weiString }).strict(),
    withdraw: z.object({ amount: weiString }).strict(),
    balance: z.object({}).strict(),
  },
} as const);

/** The ABI of a withdrawal's public output: abi.encode(address to, uint256 amount) (Transfers._onPublicOutput). */
export const WITHDRAWAL_OUTPUT = [{ name: 'to', type: 'address' }, { name: 'amount', type: 'uint256' }] as const;

/** What the enclave sends a user (the `message` of an ok output), all amounts decimal wei strings. */
export const transfersOutput = z.discriminatedUnion('op', [
  z.object({ op: z.literal('deposited'), amount: weiString, balance: weiString }),
  z.object({ op: z.literal('sent'), to: addressString, amount: weiString, balance: weiString }),
  z.object({ op: z.literal('received'), from: addressString, amount: weiString, balance: weiString }),
  z.object({ op: z.literal('withdrawn'), amount: weiString, balance: weiString }),
  z.object({ op: z.literal('balance'), balance: weiString }),
]);
/** A decoded transfers output message. */
export type TransfersOutput = z.infer<typeof transfersOutput>;
