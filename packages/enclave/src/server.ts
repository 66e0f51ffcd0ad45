import type { Readable, Writable } from 'node:stream';
import { FrameDecoder, encodeFrame, isGeodeError, requestFrame } from '@geode/protocol';
import { EnclaveError } from './errors.ts';

/** Something that answers transport requests: EnclaveRuntime.handle. */
export interface Handler {
  handle(method: string, params: unknown): Promise<unknown>;
}

/** A transport response frame body. */
export type ResponseBody = { id: number; result: unknown } | { id: number; error: { code: string; message: string; details?: Record<string, unknown> } };

/** Map any thrown value to the wire error shape (non-Geode errors become ENCLAVE_INTERNAL, without stack). */
export function toWireError(e: unknown): { code: string; message: string; details?: Record<string, unknown> } {
  if (isGeodeError(e)) return { code: e.code, message: e.message, ...(e.details ? { details: jsonSafe(e.details) } : {}) };
  return { code: 'ENCLAVE_INTERNAL', message: `Internal enclave error: ${e instanceof Error ? e.message : String(e)}` };
}

function jsonSafe(d: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/**
 * Serve the Geode transport (docs/protocol.md#transport) on a pair of streams: length-prefixed JSON frames in,
 * responses out, one request at a time, in arrival order. A frame that is not a valid request is answered with
 * ENCLAVE_BAD_MESSAGE (id -> the frame's id when readable, else 0). Logs go to `log` (stderr), never to `output`.
 * Resolves when `input` ends.
 */
export function serveStreams(handler: Handler, input: Readable, output: Writable, log: (l: string) => void = (l) => process.stderr.write(`enclave: ${l}\n`)): Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  const send = (body: ResponseBody) => {
    output.write(encodeFrame(body));
  };
  const enqueue = (fn: () => Promise<void>) => {
    chain = chain.then(fn).catch((e) => log(`transport: ${String(e)}`));
  };
  const decoder = new FrameDecoder(
    (msg) => enqueue(async () => {
      const f = requestFrame.safeParse(msg);
      if (!f.success) {
        const id = typeof (msg as { id?: unknown })?.id === 'number' && Number.isInteger((msg as { id: number }).id) && (msg as { id: number }).id >= 0 ? (msg as { id: number }).id : 0;
        send({ id, error: toWireError(new EnclaveError('ENCLAVE_BAD_MESSAGE', 'Frame is not a request {id, method, params}.')) });
        return;
      }
      const { id, method, params } = f.data;
      try {
        send({ id, result: await handler.handle(method, params) });
      } catch (e) {
        if (!isGeodeError(e)) log(`internal error in ${method}: ${e instanceof Error ? e.stack : String(e)}`);
        send({ id, error: toWireError(e) });
      }
    }),
    (err) => enqueue(async () => {
      log(`framing: ${err.message}`);
      send({ id: 0, error: toWireError(new EnclaveError('ENCLAVE_BAD_MESSAGE', err.message)) });
    }),
  );
  return new Promise((resolve) => {
    input.on('data', (chunk: Buffer) => decoder.push(chunk));
    input.on('end', () => { void chain.then(() => resolve()); });
    input.on('close', () => { void chain.then(() => resolve()); });
  });
}
