/**
 * Base class of every error Geode throws on purpose.
 *
 * Modelled on viem's BaseError: a short message that tells a person what to do,
 * a stable machine-readable `code` (SCREAMING_SNAKE, never changes once released),
 * optional structured `details`, and a pointer into docs/.
 *
 * Callers branch on `code` (or `instanceof`), never on the message text.
 */
export class GeodeError extends Error {
  /** Stable code, e.g. `ATTEST_QUOTE_SIGNATURE`. */
  readonly code: string;
  /** Structured context (offsets, expected/actual values as hex strings, ...). JSON-serialisable. */
  readonly details?: Record<string, unknown>;
  /**
   * Docs page that explains the failure, relative to docs/: `file.md#anchor` (e.g. `attestation.md#errors`;
   * `../README.md#by-hand` for the repository README). A test checks that every file and anchor exists, and the
   * CLI prints it with the error (`docsPath` in --json).
   */
  readonly docsPath?: string;

  constructor(
    code: string,
    message: string,
    opts: { details?: Record<string, unknown>; docsPath?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = opts.details;
    this.docsPath = opts.docsPath;
  }

  /** JSON form used by `--json` outputs and the enclave transport. */
  toJSON(): { name: string; code: string; message: string; details?: Record<string, unknown>; docsPath?: string } {
    return { name: this.name, code: this.code, message: this.message, details: this.details, docsPath: this.docsPath };
  }
}

/** True when `e` is a GeodeError (also across module copies, by duck typing on `code`). */
export function isGeodeError(e: unknown): e is GeodeError {
  return e instanceof GeodeError || (e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && (e as unknown as { code: string }).code.length > 0 && e.name !== 'Error');
}
