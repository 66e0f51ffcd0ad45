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
    opts: GeodeErrorOptions = {},
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

/** Options every GeodeError constructor accepts besides code and message. */
export interface GeodeErrorOptions {
  details?: Record<string, unknown>;
  docsPath?: string;
  cause?: unknown;
}

/** What a defineError `build` function returns: the fields of one instance. */
export interface ErrorFields<Code extends string = string> extends GeodeErrorOptions {
  code: Code;
  message: string;
}

/** A class defineError may extend: GeodeError itself or a family class made by defineError with a `(code, message, opts)` constructor. */
export type GeodeErrorBase = abstract new (code: string, message: string, opts?: GeodeErrorOptions) => GeodeError;

/** The class defineError returns (extend it: `class XError extends defineError({...}) {}`). */
export interface GeodeErrorClass<Code extends string, Args extends unknown[], I extends GeodeError = GeodeError> {
  new (...args: Args): I & { readonly code: Code };
  readonly prototype: I & { readonly code: Code };
  /** Every code an instance may carry; undefined for an open family (any well-formed code). */
  readonly codes: readonly Code[] | undefined;
}

/** SCREAMING_SNAKE with an area prefix (`CLI_BAD_ARGUMENT`), docs/conventions.md "Errors". */
const CODE_RE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/;

/** Throws TypeError for a declared code list with a code that is not SCREAMING_SNAKE (checked once, at definition). */
function checkCodes(codes: readonly string[] | undefined): void {
  const bad = codes?.filter((c) => !CODE_RE.test(c)) ?? [];
  if (bad.length) throw new TypeError(`defineError: codes must be SCREAMING_SNAKE with an area prefix, got ${bad.join(', ')}`);
}

/** defineError's spec for a class with one code and the `(message, opts?)` constructor of GeodeErrorOptions. */
export interface FixedErrorSpec<Code extends string, B extends GeodeErrorBase> {
  readonly code: Code;
  readonly docsPath?: string;
  readonly base?: B;
}

/** defineError's spec for a class whose constructor is `build` (any arguments). */
export interface BuiltErrorSpec<Code extends string, Args extends unknown[], B extends GeodeErrorBase> {
  readonly codes?: readonly Code[];
  readonly build: (...args: Args) => ErrorFields<Code>;
  readonly docsPath?: string | ((code: Code) => string);
  readonly base?: B;
}

/**
 * The one way Geode packages and apps declare an error class (docs/conventions.md "Errors"); extend what it returns:
 *
 *   export class CliTimeoutError extends defineError({
 *     codes: ['CLI_TIMEOUT'],
 *     build: (what: string, seconds: number) => ({ code: 'CLI_TIMEOUT', message: `${what} did not complete ...`, details: { seconds } }),
 *   }) {}
 *   export class DecodeError extends defineError({ code: 'ATTEST_DECODE', base: AttestationError }) {} // new DecodeError(message, opts?)
 *
 * - `code`: the class's one code; the constructor is then `(message: string, opts?: GeodeErrorOptions)`.
 * - `codes` + `build`: every code an instance may carry, and the constructor: it maps its arguments to the instance's
 *   code, message (what a person should do), details (JSON-serialisable), cause and docsPath. Omit `codes` only for
 *   an open family base (AttestationError: any `ATTEST_*`/`POLICY_*` code), whose subclasses name theirs.
 * - `docsPath`: the docs/ page (`file.md#anchor`) of every instance, or a function of the code. Precedence: the
 *   docsPath `build` (or `opts`) gives, then this one, then the base family's (test/docs/docs-paths.test.ts checks them).
 * - `base`: the class to extend (default GeodeError); a family made by defineError with a `(code, message, opts)`
 *   constructor. `instanceof` holds for the declared class, `base` and GeodeError; `name` is the declared class name.
 *
 * Codes are stable SCREAMING_SNAKE with an area prefix. Throws TypeError at definition for a declared code that is
 * not, and at construction for a code outside `codes` (or an empty code in an open family): a bug in the declaring
 * module, never bad input.
 */
export function defineError<const Code extends string, B extends GeodeErrorBase = typeof GeodeError>(
  spec: FixedErrorSpec<Code, B>,
): GeodeErrorClass<Code, [message: string, opts?: GeodeErrorOptions], InstanceType<B>>;
export function defineError<const Code extends string, Args extends unknown[], B extends GeodeErrorBase = typeof GeodeError>(
  spec: BuiltErrorSpec<Code, Args, B>,
): GeodeErrorClass<Code, Args, InstanceType<B>>;
export function defineError(spec: FixedErrorSpec<string, GeodeErrorBase> | BuiltErrorSpec<string, unknown[], GeodeErrorBase>): GeodeErrorClass<string, unknown[]> {
  const Base = (spec.base ?? GeodeError) as unknown as new (code: string, message: string, opts?: GeodeErrorOptions) => GeodeError;
  const fixedCode = 'code' in spec ? spec.code : undefined;
  const codes: readonly string[] | undefined = fixedCode !== undefined ? [fixedCode] : (spec as BuiltErrorSpec<string, unknown[], GeodeErrorBase>).codes;
  const build = 'build' in spec ? spec.build : (message: unknown, opts?: unknown): ErrorFields => ({ ...(opts as GeodeErrorOptions | undefined), code: fixedCode!, message: String(message) });
  checkCodes(codes);
  const docs = spec.docsPath;
  class Defined extends Base {
    static readonly codes = codes;
    constructor(...args: unknown[]) {
      const f = build(...args);
      // A closed class checks its codes; an open family (codes omitted) may carry a code from elsewhere (an enclave
      // refusal relayed by the host), which must not turn into a TypeError.
      if (codes ? !codes.includes(f.code) : typeof f.code !== 'string' || f.code.length === 0) {
        throw new TypeError(`error code ${JSON.stringify(f.code)} is not one of this class's codes (${codes?.join(', ') ?? 'a non-empty string'})`);
      }
      const docsPath = f.docsPath ?? (typeof docs === 'function' ? docs(f.code) : docs);
      super(f.code, f.message, { details: f.details, cause: f.cause, docsPath });
    }
  }
  return Defined as unknown as GeodeErrorClass<string, unknown[]>;
}
