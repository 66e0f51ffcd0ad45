import { defineError } from './errors.ts';

/** Largest frame either side accepts, in bytes (64 MiB). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Thrown when a peer sends a frame larger than MAX_FRAME_BYTES or otherwise breaks framing. */
export class FrameError extends defineError({
  codes: ['TRANSPORT_FRAME'],
  docsPath: 'protocol.md#transport',
  build: (message: string) => ({ code: 'TRANSPORT_FRAME', message: `${message}. The peer is not speaking the Geode transport protocol; restart it.` }),
}) {}

/** Encode one message: 4-byte big-endian length || UTF-8 JSON. */
export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > MAX_FRAME_BYTES) throw new FrameError(`frame of ${body.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/**
 * Incremental frame decoder: feed it stream chunks, it calls `onMessage` with each parsed JSON value.
 * A frame whose body is not JSON is passed to `onError` and skipped; an oversized length is fatal (onError, then
 * the decoder refuses further input) because the stream position can no longer be trusted.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private dead = false;
  constructor(private onMessage: (m: unknown) => void, private onError: (e: Error) => void) {}

  push(chunk: Buffer): void {
    if (this.dead) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_FRAME_BYTES) {
        this.dead = true;
        this.onError(new FrameError(`frame length ${len} exceeds ${MAX_FRAME_BYTES}`));
        return;
      }
      if (this.buf.length < 4 + len) return;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      let msg: unknown;
      try {
        msg = JSON.parse(body.toString('utf8'));
      } catch {
        this.onError(new FrameError('frame body is not JSON'));
        continue;
      }
      this.onMessage(msg);
    }
  }
}
