import {
  MAX_OUTPUTS_PER_REQUEST, MAX_OUTPUT_BYTES_PER_BATCH, MAX_OUTPUT_BYTES_PER_REQUEST, MAX_PUBLIC_OUTPUTS_PER_BATCH,
  MAX_PUBLIC_OUTPUTS_PER_REQUEST, MAX_PUBLIC_OUTPUT_BYTES, encodedOutputBytes, encodedPublicOutputBytes,
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
 * Public outputs (ctx.publish) are judged with them: at most MAX_PUBLIC_OUTPUTS_PER_REQUEST of at most
 * MAX_PUBLIC_OUTPUT_BYTES each per request (rule 1), their encodedPublicOutputBytes count into the same byte caps,
 * and a batch holds at most MAX_PUBLIC_OUTPUTS_PER_BATCH (rule 2), which bounds the gas of the contract's hooks.
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

/** What the cap check needs of a public output: its data size in bytes. */
export interface SizedPublicOutput {
  data: Uint8Array;
}

/** Sum of encodedPublicOutputBytes over `pubs`. */
export function publicOutputsBytes(pubs: readonly SizedPublicOutput[]): number {
  let n = 0;
  for (const p of pubs) n += encodedPublicOutputBytes(p.data.length);
  return n;
}

/** Why a request's outputs are refused, or null when they are within the per-request caps (rule 1). */
export function requestCapExceeded(outputs: readonly SizedOutput[], pubs: readonly SizedPublicOutput[] = []): { outputs: number; bytes: number } | null {
  const bytes = outputsBytes(outputs) + publicOutputsBytes(pubs);
  const count = outputs.length + pubs.length;
  if (outputs.length > MAX_OUTPUTS_PER_REQUEST || bytes > MAX_OUTPUT_BYTES_PER_REQUEST) return { outputs: count, bytes };
  if (pubs.length > MAX_PUBLIC_OUTPUTS_PER_REQUEST || pubs.some((p) => p.data.length > MAX_PUBLIC_OUTPUT_BYTES)) return { outputs: count, bytes };
  return null;
}

/** The ENCLAVE_OUTPUT_LIMIT refusal the sender receives (code and a bounded message). */
export function outputLimitRefusal(seq: bigint, over: { outputs: number; bytes: number }): { code: string; message: string } {
  return {
    code: 'ENCLAVE_OUTPUT_LIMIT',
    message: `Request ${seq} would produce ${over.outputs} outputs of ${over.bytes} encoded bytes; the limits are ${MAX_OUTPUTS_PER_REQUEST} outputs and ${MAX_OUTPUT_BYTES_PER_REQUEST} bytes per request, of which at most ${MAX_PUBLIC_OUTPUTS_PER_REQUEST} public outputs of ${MAX_PUBLIC_OUTPUT_BYTES} bytes each. It was refused and changed nothing: send a request with fewer or smaller results (e.g. shorter messages, fewer participants on one key).`,
  };
}

/** Running total of a batch's encoded output bytes and public outputs (rule 2). */
export class BatchOutputBudget {
  private used = 0;
  private publics = 0;

  /**
   * True when `bytes` more encoded bytes and `publicCount` more public outputs fit in the batch. The first request
   * always fits (per-request caps <= per-batch caps).
   */
  fits(bytes: number, publicCount = 0): boolean {
    return this.used + bytes <= MAX_OUTPUT_BYTES_PER_BATCH && this.publics + publicCount <= MAX_PUBLIC_OUTPUTS_PER_BATCH;
  }

  /** Count `bytes` and `publicCount` public outputs into the batch. */
  add(bytes: number, publicCount = 0): void {
    this.used += bytes;
    this.publics += publicCount;
  }
}
