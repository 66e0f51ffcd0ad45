import type { Hex } from 'viem';
import { EnclaveError } from './errors.ts';

/**
 * Working ahead of the chain (docs/protocol.md#pipelining): the enclave's own signed commitments that the chain has
 * not yet been proven to hold, so that the host can have batch k+1 processed while commitment k is in flight.
 *
 * The list lives in enclave memory only and is built from the enclave's own results; the host supplies nothing but
 * the proof of the chain's committed position. It is empty after a restart (the enclave then continues from the
 * proven committed state, as without pipelining).
 */

/** One commitment this enclave signed: requests [from, to] take the state from root `prevRoot` to root `newRoot`. */
export interface PendingCommitment {
  readonly from: bigint;
  readonly to: bigint;
  readonly prevRoot: Hex;
  readonly newRoot: Hex;
}

/**
 * Most commitments the enclave holds signed but not proven committed, the one being signed included. Bounds how far
 * the enclave's latest state may run ahead of the proven one, and the sealed state versions that must be kept for a
 * fall-back to the proven state: the proven root plus one per pending commitment, 1 + 3 = KEEP_STATE_FILES.
 */
export const MAX_PENDING_COMMITMENTS = 3;

/** The chain's committed position, as proven by the batch's storage proof. */
export interface ProvenPosition {
  readonly committedSeq: bigint;
  readonly stateRoot: Hex;
}

/** The enclave's latest state: the last seq it includes and its root. */
export interface HeadPosition {
  readonly lastSeq: bigint;
  readonly root: Hex;
}

/**
 * Base of a batch:
 * - `head`: run it on the enclave's latest state, which the proven position reaches through `pending` (the enclave's
 *   own commitments still to land, oldest first; empty when the latest state is the proven one);
 * - `proven`: run it on the state at the proven position (the runtime loads it; the batch must then start at
 *   committedSeq + 1), dropping every pending commitment.
 */
export type BatchBase =
  | { readonly kind: 'head'; readonly pending: readonly PendingCommitment[] }
  | { readonly kind: 'proven' };

/**
 * Choose the base of a batch starting at `from`. Pure. Rules, in order:
 * 1. The proven position is the head (committedSeq = head.lastSeq, stateRoot = head.root): `head`, nothing pending.
 * 2. The batch continues the head (from = head.lastSeq + 1) and the proven position is where one of the pending
 *    commitments starts (committedSeq = c.from - 1, stateRoot = c.prevRoot): `head`, with the commitments from that
 *    one on (the earlier ones have landed). More than MAX_PENDING_COMMITMENTS - 1 of them:
 *    ENCLAVE_SEQ_MISMATCH (the host must wait for a commitment to land).
 * 3. Anything else (a re-run from the committed state after a commitment failed, a restart, another instance's
 *    commitment): `proven`.
 */
export function chooseBatchBase(pending: readonly PendingCommitment[], proven: ProvenPosition, head: HeadPosition, from: bigint): BatchBase {
  // 1.
  if (proven.committedSeq === head.lastSeq && proven.stateRoot === head.root) return { kind: 'head', pending: [] };
  // 2.
  if (from === head.lastSeq + 1n) {
    const i = pending.findIndex((c) => c.from - 1n === proven.committedSeq && c.prevRoot === proven.stateRoot);
    if (i >= 0) {
      const still = pending.slice(i);
      if (still.length >= MAX_PENDING_COMMITMENTS) {
        throw new EnclaveError('ENCLAVE_SEQ_MISMATCH', `${still.length} commitments of this enclave after seq ${proven.committedSeq} have not landed yet; at most ${MAX_PENDING_COMMITMENTS - 1} may be pending when a batch is processed ahead. Submit them, then send this batch with a proof from a block that holds them.`, { details: { committedSeq: proven.committedSeq.toString(), pending: still.length } });
      }
      return { kind: 'head', pending: still };
    }
  }
  // 3.
  return { kind: 'proven' };
}
