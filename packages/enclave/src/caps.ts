import {
  MAX_OUTPUTS_PER_REQUEST, MAX_OUTPUT_BYTES_PER_BATCH, MAX_OUTPUT_BYTES_PER_REQUEST, encodedOutputBytes,
} from '@geode/protocol';

/**
 * The output caps of a batch in one place (docs/protocol.md#caps). Nothing a user sends can make a commitment too
 * large to land on-chain:
 *
 * 1. A request's outputs are judged as a whole after its handler returned: more than MAX_OUTPUTS_PER_REQUEST
 *    outputs or more than MAX_OUTPUT_BYTES_PER_REQUEST encoded output bytes and the request is refused
 *    (ENCLAVE_OUTPUT_LIMIT): one error output to its sender replaces them and its state changes are dropped.
 * 2. The batch keeps a running total. A request whose outputs would take the total over MAX_OUTPUT_BYTES_PER_BATCH
 *    is not run in this batch: the batch ends before it. Its outcome is decided in the next batch, from the same
 *    state, so where the host cuts batches never changes an outcome.
 *
 * Both judgements depend only on the request's outputs (their count and plaintext sizes), never on which
 * recipients have output keys, so they are a function of (state, request).
 */

/** What the cap check needs of an output: its plaintext size in bytes. */
export interface SizedOutput {
  plaintext: Uint8Array;
}

/** Sum of encodedOutputBytes over `outputs`. */
export function outputsBytes(outputs: readonly SizedOutput[]): number {
  let n = 0;
  for (const o of outputs) n += encodedOutputBytes(o.plaintext.length);
  return n;
}

/** Why a request's outputs are refused, or null when they are within the per-request caps (rule 1). */
export function requestCapExceeded(outputs: readonly SizedOutput[]): { outputs: number; bytes: number } | null {
  const bytes = outputsBytes(outputs);
  if (outputs.length > MAX_OUTPUTS_PER_REQUEST || bytes > MAX_OUTPUT_BYTES_PER_REQUEST) return { outputs: outputs.length, bytes };
  return null;
}

/** The ENCLAVE_OUTPUT_LIMIT refusal the sender receives (code and a bounded message). */
export function outputLimitRefusal(seq: bigint, over: { outputs: number; bytes: number }): { code: string; message: string } {
  return {
    code: 'ENCLAVE_OUTPUT_LIMIT',
    message: `Request ${seq} would produce ${over.outputs} outputs of ${over.bytes} encoded bytes; the limits are ${MAX_OUTPUTS_PER_REQUEST} outputs and ${MAX_OUTPUT_BYTES_PER_REQUEST} bytes per request. It was refused and changed nothing: send a request with fewer or smaller results (e.g. shorter messages, fewer participants on one key).`,
  };
}

/** Running total of a batch's encoded output bytes (rule 2). */
export class BatchOutputBudget {
  private used = 0;

  /** True when `bytes` more fit in the batch. The first request always fits (per-request cap <= per-batch cap). */
  fits(bytes: number): boolean {
    return this.used + bytes <= MAX_OUTPUT_BYTES_PER_BATCH;
  }

  /** Count `bytes` into the batch. */
  add(bytes: number): void {
    this.used += bytes;
  }
}
