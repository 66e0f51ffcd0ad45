/**
 * Typed errors of the computations app (codes `APP_*`, documented in docs/apps.md#errors).
 *
 * The enclave throws these from its handlers; the Geode runtime turns a thrown GeodeError into the
 * output `{ seq, ok: false, error: { code, message } }` for the request's sender and discards the
 * handler's partial mutation. Clients branch on `code` (or `instanceof` on the client side when the
 * error is raised locally, e.g. by {@link encodeRequest} or {@link decodeOutput}), never on the message.
 */
import { defineError } from '@geode/protocol';

/** Options accepted by every computations error constructor. */
export interface ComputationsErrorOptions {
  /** JSON-serialisable context (computation name, quorum, ...). Never a submitted value. */
  details?: Record<string, unknown>;
  /** Underlying error, if any. */
  cause?: unknown;
}

/** Base class of every computations app error. `code` starts with `APP_`. */
export class ComputationsError extends defineError({
  build: (code: string, message: string, opts: ComputationsErrorOptions = {}) => ({
    code,
    message,
    details: opts.details,
    cause: opts.cause,
    docsPath: `apps.md#${code.toLowerCase().replace(/_/g, '-')}`,
  }),
}) {}

/** `APP_BAD_REQUEST`: the request bytes are not UTF-8 JSON of a known request shape (or a public body does not ABI-decode). */
export class BadRequestError extends defineError({ code: 'APP_BAD_REQUEST', base: ComputationsError }) {}

/** `APP_NOT_AUTHORISED`: the sender is not a participant of the computation. */
export class NotAuthorisedError extends defineError({ code: 'APP_NOT_AUTHORISED', base: ComputationsError }) {}

/** `APP_DOES_NOT_EXIST`: no computation of that name has been created. */
export class DoesNotExistError extends defineError({ code: 'APP_DOES_NOT_EXIST', base: ComputationsError }) {}

/** `APP_ALREADY_EXISTS`: a computation of that name already exists (names are unique and never reused). */
export class AlreadyExistsError extends defineError({ code: 'APP_ALREADY_EXISTS', base: ComputationsError }) {}

/** `APP_QUORUM_NOT_REACHED`: fewer distinct participants have submitted than the computation's quorum. */
export class QuorumNotReachedError extends defineError({ code: 'APP_QUORUM_NOT_REACHED', base: ComputationsError }) {}

/** `APP_LOCKED`: the computation's result has been fixed; submissions are no longer accepted. */
export class LockedError extends defineError({ code: 'APP_LOCKED', base: ComputationsError }) {}

/** `APP_INVALID_VALUE`: the request is well-formed but its value/op does not fit the computation (wrong type, non-finite number, key too long, ...). */
export class InvalidValueError extends defineError({ code: 'APP_INVALID_VALUE', base: ComputationsError }) {}

/** `APP_BAD_OUTPUT` (client side only): decrypted output bytes are not a computations output. */
export class BadOutputError extends defineError({ code: 'APP_BAD_OUTPUT', base: ComputationsError }) {}
