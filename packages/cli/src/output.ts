import { posix } from 'node:path';
import pino, { type Logger } from 'pino';
import { isGeodeError } from '@geode/protocol';

/** How a command reports: human text on stdout/stderr, or one JSON line for scripts (--json). */
export interface Reporter {
  json: boolean;
  /** Progress of a long step: stderr only, never stdout (docs/cli.md#progress). With --json only when stderr is a terminal. */
  progress(msg: string): void;
  /** Human output line (stdout; suppressed in --json mode). */
  say(msg: string): void;
  /** The final JSON object (stdout, --json mode only). */
  result(obj: unknown): void;
  logger: Logger;
}

/**
 * A progress sink for a command (docs/cli.md#progress): writes `… msg (N.Ns)` (seconds since it was made) to
 * stderr, never stdout, so stdout keeps only the command's output or its one JSON line. With `json` it writes only
 * when stderr is a terminal (a person watching); a script that captures stderr gets no progress lines.
 */
export function progressSink(json: boolean, stderr: { write(s: string): unknown; isTTY?: boolean } = process.stderr): (msg: string) => void {
  const t0 = performance.now();
  const show = !json || stderr.isTTY === true;
  return (msg) => {
    if (show) stderr.write(`… ${msg} (${((performance.now() - t0) / 1000).toFixed(1)}s)\n`);
  };
}

export function reporter(opts: { json?: boolean; verbose?: boolean }): Reporter {
  const json = !!opts.json;
  return {
    json,
    progress: progressSink(json),
    say: (msg) => {
      if (!json) process.stdout.write(`${msg}\n`);
    },
    result: (obj) => {
      if (json) process.stdout.write(`${JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    },
    logger: pino({ level: opts.verbose ? 'debug' : 'warn' }, pino.destination(2)),
  };
}

/**
 * The repository path of an error's docs page, e.g. `attestation.md#errors` -> `docs/attestation.md#errors`,
 * `../README.md#by-hand` -> `README.md#by-hand` (GeodeError.docsPath is relative to docs/). Undefined when none.
 */
export function docsLink(docsPath: unknown): string | undefined {
  return typeof docsPath === 'string' && docsPath.length > 0 ? posix.normalize(posix.join('docs', docsPath)) : undefined;
}

/**
 * Report a failure and set a non-zero exit code. GeodeErrors print their code, message (it says what to do) and
 * the docs page that explains the code (`docsPath` in --json); anything else is a bug and prints its stack.
 */
export function fail(r: Pick<Reporter, 'json'>, e: unknown, exitCode = 1): void {
  process.exitCode = exitCode;
  const g = isGeodeError(e) ? (e as unknown as { code: string; message: string; details?: unknown; docsPath?: string }) : undefined;
  if (r.json) {
    const error = g ? { code: g.code, message: g.message, details: g.details, docsPath: g.docsPath } : { code: 'INTERNAL', message: String(e) };
    process.stdout.write(`${JSON.stringify({ ok: false, error }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    return;
  }
  const link = docsLink(g?.docsPath);
  if (g) process.stderr.write(`error ${g.code}: ${g.message}\n${link ? `  see ${link}\n` : ''}`);
  else process.stderr.write(`internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
}
