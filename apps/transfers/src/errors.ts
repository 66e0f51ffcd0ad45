/**
 * The transfers app's errors (codes APP_TRANSFERS_*, documented in docs/apps.md#transfers-errors), declared with
 * @geode/protocol defineAppErrors. A handler throws one to refuse a request: the sender gets the code in an encrypted
 * error output and nothing changes.
 */
import { defineAppErrors } from '@geode/protocol';

/** Every transfers error class, by name. */
export const TransfersErrors = defineAppErrors('transfers', ['INSUFFICIENT_BALANCE', 'ZERO_AMOUNT'] as const);

/** APP_TRANSFERS_INSUFFICIENT_BALANCE: a transfer or withdrawal of more than the sender's private balance. */
export const InsufficientBalanceError = TransfersErrors.INSUFFICIENT_BALANCE;
/** APP_TRANSFERS_ZERO_AMOUNT: a deposit, transfer or withdrawal of 0 wei. */
export const ZeroAmountError = TransfersErrors.ZERO_AMOUNT;
