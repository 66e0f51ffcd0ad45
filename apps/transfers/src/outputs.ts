import { AppRequestError, decodeOutputMessage } from '@geode/protocol';
import { transfersOutput, type TransfersOutput } from './spec.ts';

/** A decoded output of the transfers app: seq (decimal string) and either its message or the refusal. */
export type TransfersOutputMessage =
  | { seq: string; ok: true; message: TransfersOutput }
  | { seq: string; ok: false; error: { code: string; message: string } };

/**
 * Decode an output plaintext (GeodeClient.readOutputs). Returns null for the framework's `{registered}`
 * acknowledgement of an output key. Throws GeodeError ENVELOPE_INVALID (not an output message) or AppRequestError
 * APP_REQUEST_INVALID (an ok message that is not a transfers output).
 */
export function decodeTransfersOutput(plaintext: Uint8Array): TransfersOutputMessage | null {
  const m = decodeOutputMessage(plaintext);
  if (!m.ok) return m;
  const msg = m.message as Record<string, unknown> | null;
  if (msg !== null && typeof msg === 'object' && Object.keys(msg).length === 1 && Object.hasOwn(msg, 'registered')) return null;
  const parsed = transfersOutput.safeParse(m.message);
  if (!parsed.success) throw new AppRequestError(`Output ${m.seq} is not a transfers output: ${parsed.error.issues[0]?.message ?? 'invalid'}.`);
  return { seq: m.seq, ok: true, message: parsed.data };
}
