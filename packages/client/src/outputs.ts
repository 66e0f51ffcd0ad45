import type { Address, Hex, PublicClient } from 'viem';
import { decodeOutputMessage, GeodeError } from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts';
import type { ReceivedOutput } from './client.ts';

/**
 * Reading what the enclave sent (docs/client.md#outputs). An output's plaintext is canonical JSON (protocol
 * encodeOutputMessage): `{"seq":"<decimal>","ok":true,"message":<app JSON>}` or
 * `{"seq":"<decimal>","ok":false,"error":{"code":"…","message":"…"}}`. The framework itself sends one kind of
 * message: `{"registered":"0x<32-byte key>"}` after a `geode.register-key` request (an acknowledgement, not an app
 * output). `decodeClientOutput` tells the three apart so app code never has to.
 */
export type ClientOutput =
  | { kind: 'message'; seq: bigint; sessionId: bigint; block: bigint; message: unknown }
  | { kind: 'error'; seq: bigint; sessionId: bigint; block: bigint; error: { code: string; message: string } }
  | { kind: 'registered'; seq: bigint; sessionId: bigint; block: bigint; outputKey: Hex };

/**
 * Decode a decrypted output (GeodeClient.readOutputs) into a ClientOutput. Throws GeodeError ENVELOPE_INVALID when
 * the plaintext is not an output message, or when its `seq` differs from the commitment's (a malformed output).
 */
export function decodeClientOutput(o: ReceivedOutput): ClientOutput {
  const m = decodeOutputMessage(o.plaintext);
  const base = { seq: o.seq, sessionId: o.sessionId, block: o.block };
  if (m.seq !== o.seq.toString()) {
    throw new GeodeError('ENVELOPE_INVALID', `Output for request ${o.seq} names request ${m.seq} inside; it is malformed. Report it: an enclave never sends this.`, { docsPath: 'client.md#outputs' });
  }
  if (!m.ok) return { kind: 'error', ...base, error: m.error };
  const msg = m.message as Record<string, unknown> | null;
  if (msg && typeof msg === 'object' && !Array.isArray(msg) && Object.keys(msg).length === 1 && typeof msg.registered === 'string') {
    return { kind: 'registered', ...base, outputKey: msg.registered as Hex };
  }
  return { kind: 'message', ...base, message: m.message };
}

/** Request `seq` was not committed within the time allowed. */
export class CommitTimeoutError extends GeodeError {
  constructor(seq: bigint, timeoutMs: number, committedSeq: bigint) {
    super('CLIENT_COMMIT_TIMEOUT', `Request ${seq} was not committed within ${Math.round(timeoutMs / 1000)} s (the contract has committed up to ${committedSeq}). Check that the host and enclave are running (\`geode status\`), then wait longer.`, { details: { seq: seq.toString(), timeoutMs, committedSeq: committedSeq.toString() }, docsPath: 'client.md#waiting' });
  }
}

/** Options of {@link waitForCommitted}. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default 60,000). */
  timeoutMs?: number;
  /** Poll interval, milliseconds (default 250). */
  pollMs?: number;
}

/**
 * Resolve once the contract's `committedSeq` (a uint256 view) is at least `seq`, i.e. request `seq`'s batch has
 * landed and its outputs are in a BatchCommitted event. Returns the committedSeq seen. Throws CommitTimeoutError
 * after `timeoutMs`. Polls the view (a client can also watch BatchCommitted events with `to >= seq`).
 */
export async function waitForCommitted(publicClient: PublicClient, contract: Address, seq: bigint, opts: WaitOptions = {}): Promise<bigint> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const pollMs = opts.pollMs ?? 250;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const committed = await publicClient.readContract({ address: contract, abi: GeodeCoreAbi, functionName: 'committedSeq' });
    if (committed >= seq) return committed;
    if (Date.now() >= end) throw new CommitTimeoutError(seq, timeoutMs, committed);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
