import { defineError, GeodeError, type GeodeErrorOptions } from './errors.ts';

/**
 * App error classes from one declaration (docs/apps.md#app-errors), so an app never hand-writes them:
 *
 *   export const TransfersErrors = defineAppErrors('transfers', ['INSUFFICIENT_BALANCE', 'ZERO_AMOUNT'] as const);
 *   throw new TransfersErrors.INSUFFICIENT_BALANCE('Balance 5 wei is below 7 wei; deposit more or send less.');
 *
 * Each class has the stable code `APP_<APP>_<NAME>` (app name upper-cased, '-' as '_'), a docsPath
 * `<docsPage>#<code in lower kebab case>` (default page apps.md: document each code under a heading of that name) and
 * extends {@link AppError} (a GeodeError), so a handler that throws one has its request refused with that code and
 * its effects dropped, and clients branch on `code`.
 */

/** Options every app error constructor takes. */
export interface AppErrorOptions {
  /** JSON-serialisable context. Never a secret (it may reach the sender in an output). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** Base class of errors declared with defineAppErrors: an open family (`new AppError(code, message, opts?)`, any APP_* code). */
export class AppError extends defineError({
  // An app's own error classes (defineAppErrors) give their code's anchor; an AppError made directly, the section.
  docsPath: 'apps.md#errors',
  build: (code: string, message: string, opts: GeodeErrorOptions = {}) => ({ code, message, ...opts }),
}) {}

/** A class produced by defineAppErrors: `new C(message, opts?)`, with its code as a static. */
export interface AppErrorClass {
  new (message: string, opts?: AppErrorOptions): AppError;
  readonly code: string;
}

/**
 * One error class per name in `names` (SCREAMING_SNAKE, e.g. 'INSUFFICIENT_BALANCE') for app `app`. `docsPage` is
 * the docs file (relative to docs/) whose heading anchors document the codes. Throws GeodeError APP_SPEC_INVALID for a
 * name that is not SCREAMING_SNAKE.
 */
export function defineAppErrors<const N extends readonly string[]>(app: string, names: N, docsPage = 'apps.md'): { readonly [K in N[number]]: AppErrorClass } {
  const out: Record<string, AppErrorClass> = {};
  const prefix = `APP_${app.toUpperCase().replace(/-/g, '_')}_`;
  for (const n of names) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(n)) throw new GeodeError('APP_SPEC_INVALID', `App error name ${JSON.stringify(n)} must be SCREAMING_SNAKE (A-Z, 0-9, _).`, { docsPath: 'apps.md#app-errors' });
    const code = `${prefix}${n}`;
    const C = class extends AppError {
      static readonly code = code;
      constructor(message: string, opts: AppErrorOptions = {}) {
        super(code, message, { details: opts.details, cause: opts.cause, docsPath: `${docsPage}#${code.toLowerCase().replace(/_/g, '-')}` });
      }
    };
    // "INSUFFICIENT_BALANCE" -> "InsufficientBalanceError" (GeodeError sets this.name from the class name).
    Object.defineProperty(C, 'name', { value: `${n.toLowerCase().replace(/(^|_)([a-z0-9])/g, (_m, _s, c: string) => c.toUpperCase())}Error` });
    out[n] = C;
  }
  return out as { readonly [K in N[number]]: AppErrorClass };
}
