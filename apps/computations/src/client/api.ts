/**
 * The computations app's client API: create computations (public), send encrypted requests, decode outputs and judge
 * creation verdicts. Used by the app's CLI commands (./commands.ts), its demo scenario (./demo.ts) and tests.
 */
import type { Address, Hex } from 'viem';
import { decodeOutputMessage } from '@geode/protocol';
import { GeodeClient, type ReceivedOutput } from '@geode/client';
import { ComputationsAbi } from '../../generated/artifacts.ts';
import { ctypeFromName, encodeRequest, outputSchema, type Output, type Request } from '../index.ts';

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

/** What the enclave said about a creation request, as the CLI reports it. */
export type CreationVerdict = { created: true } | { created: false; error: { code: string; message: string } };

/**
 * Judge the enclave's output for a `createComputation` request: created only when the enclave accepted exactly this
 * name (`{ ok: true, op: 'create', computation: name }`). On-chain acceptance alone is not creation (names are bytes,
 * docs/apps.md#names). `out` is the creator's first app output for the request, or null if none reached it.
 * Refusal codes: the enclave's (e.g. APP_ALREADY_EXISTS), CLI_NO_VERDICT (no output), CLI_VERDICT_MISMATCH (an ok
 * output that is not this name's creation).
 */
export function creationVerdict(name: string, out: AppOutput | null): CreationVerdict {
  if (!out) return { created: false, error: { code: 'CLI_NO_VERDICT', message: 'the enclave sent no output this identity can read; register its output key and check with `geode computation list`' } };
  if (!out.ok) return { created: false, error: out.error };
  if (out.op !== 'create' || out.computation !== name) {
    return { created: false, error: { code: 'CLI_VERDICT_MISMATCH', message: `the enclave's output for this request confirms ${out.op} of ${JSON.stringify(out.computation)}, not the creation of ${JSON.stringify(name)}` } };
  }
  return { created: true };
}
