import type { Address, Hex } from 'viem';
import { decodeOutputMessage } from '@geode/protocol';
import { GeodeClient, type ReceivedOutput } from '@geode/client';
import { ComputationsAbi } from '@geode/contracts/generated/artifacts';
import { ctypeFromName, encodeRequest, outputSchema, type Output, type Request } from '@geode/app-computations';

/** One decrypted output of the computations app, with the framework-level refusals folded in. */
export type AppOutput = Output & { seq: string };

/** Create a computation on-chain (public). Throws TransactionRevertedError (e.g. ComputationExists). */
export async function createComputation(client: GeodeClient, c: { name: string; type: string; participants: Address[]; quorum: number }): Promise<{ seq: bigint; hash: Hex }> {
  return client.sendAndSeq('createComputation', [c.name, ctypeFromName(c.type), c.participants, BigInt(c.quorum)], `Creating computation "${c.name}"`, ComputationsAbi);
}

/** Encrypt and submit a computations request. Throws APP_* (bad input, before anything is sent) or CLIENT_TX_REVERTED. */
export async function sendRequest(client: GeodeClient, req: Request): Promise<{ seq: bigint }> {
  return client.submit(encodeRequest(req));
}

/**
 * Decode a received output: the framework envelope {seq, ok, message|error} around the app's output.
 * Returns null for framework acknowledgements that are not app outputs (`{ registered: key }` after geode.register-key).
 */
export function decodeAppOutput(o: ReceivedOutput): AppOutput | null {
  const m = decodeOutputMessage(o.plaintext);
  if (!m.ok) return { seq: m.seq, ok: false, error: m.error };
  if (m.message && typeof m.message === 'object' && 'registered' in m.message) return null;
  const r = outputSchema.safeParse(m.message);
  if (!r.success) return { seq: m.seq, ok: false, error: { code: 'APP_BAD_OUTPUT', message: 'the enclave sent an output this client does not understand' } };
  return r.data as AppOutput;
}
