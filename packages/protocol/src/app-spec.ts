import { decodeAbiParameters, encodeAbiParameters, type AbiParameter, type DecodeAbiParametersReturnType, type Hex } from 'viem';
import type { z } from 'zod';
import { defineError, GeodeError } from './errors.ts';

/**
 * The declaration half of `defineApp` (docs/apps.md#defineapp): what an app's requests look like, shared by the
 * client (encoders) and the enclave (decoders, @geode/enclave `defineApp`). Pure: no enclave code, no I/O, so client
 * code imports it freely.
 *
 * - Public request kinds: ABI parameter lists (viem `AbiParameter`, Solidity ABI spec). The app contract appends
 *   `_appendPublicRequest(sender, "<app>.<kind>", abi.encode(<params>))`; {@link AppSpec.encodePublic} is the same
 *   encoding in TypeScript, {@link AppSpec.decodePublic} the enclave's strict inverse.
 * - Private requests: zod schemas of the request body. Wire form (the HPKE plaintext): UTF-8 JSON
 *   `{"op":"<name>", ...body}`; {@link AppSpec.encodePrivate} / {@link AppSpec.decodePrivate}.
 *
 * Decoding failures throw {@link AppRequestError} (code APP_REQUEST_INVALID): inside the enclave the framework turns
 * it into an error output to the sender, never a crash.
 */

/** Public request kinds: kind name (without the app prefix) -> ABI parameters of its body. */
export type PublicKinds = Record<string, readonly AbiParameter[]>;
/** Private requests: op name -> zod schema of its body (an object schema; `op` is added by the framework). */
export type PrivateOps = Record<string, z.ZodType<Record<string, unknown>>>;

/** What {@link appSpec} takes. */
export interface AppSpecInput<P extends PublicKinds, Q extends PrivateOps> {
  /** App name: lowercase letters, digits and '-' (1..32); public kinds are "<name>.<kind>". */
  name: string;
  /** Public request kinds (may be empty). */
  public: P;
  /** Private requests (may be empty). */
  private: Q;
}

/** The decoded body of public kind `K` (viem's ABI-to-TypeScript mapping: uint256 -> bigint, address -> Hex, ...). */
export type PublicBody<P extends PublicKinds, K extends keyof P> = DecodeAbiParametersReturnType<P[K]>;
/** A decoded private request: its op and the schema's output. */
export type PrivateRequest<Q extends PrivateOps> = { [K in keyof Q & string]: { op: K; body: z.output<Q[K]> } }[keyof Q & string];

/** An app's request declaration with its codecs. */
export interface AppSpec<P extends PublicKinds, Q extends PrivateOps> {
  readonly name: string;
  readonly public: P;
  readonly private: Q;
  /** "<name>.<kind>": the kind string the contract appends. */
  publicKind(kind: keyof P & string): string;
  /** abi.encode(<params of kind>)(args), 0x hex: the body the contract appends for `kind`. */
  encodePublic<K extends keyof P & string>(kind: K, args: PublicBody<P, K>): Hex;
  /**
   * The declared kind and decoded args of a public request (`fullKind` as appended, body bytes). Throws
   * AppRequestError APP_REQUEST_INVALID when the kind is not "<name>.<declared kind>" or the body is not exactly the
   * ABI encoding of the kind's parameters (re-encoding must give the same bytes: no trailing or non-canonical data).
   */
  decodePublic(fullKind: string, body: Uint8Array): { kind: keyof P & string; args: readonly unknown[] };
  /** UTF-8 JSON bytes of {"op": op, ...body}, after checking `body` with the op's schema (AppRequestError otherwise). */
  encodePrivate<K extends keyof Q & string>(op: K, body: z.input<Q[K]>): Uint8Array;
  /**
   * Strict inverse of encodePrivate: UTF-8 (fatal) JSON object whose own `op` names a declared op and whose other
   * members satisfy its schema. Throws AppRequestError APP_REQUEST_INVALID otherwise.
   */
  decodePrivate(bytes: Uint8Array): PrivateRequest<Q>;
}

/** A request the app's declaration does not accept (APP_REQUEST_INVALID): bad bytes, unknown kind/op, schema mismatch. */
export class AppRequestError extends defineError({
  codes: ['APP_REQUEST_INVALID'],
  docsPath: 'apps.md#app-request-invalid',
  build: (message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) => ({ code: 'APP_REQUEST_INVALID', message, ...opts }),
}) {}

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
const bytesHex = (b: Uint8Array): Hex => `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;

/**
 * Declare an app's requests once (see the module doc). Throws GeodeError APP_SPEC_INVALID for a bad app name or
 * kind/op name (names: lowercase letters, digits, '-' and '_', 1..32 characters).
 */
export function appSpec<P extends PublicKinds, Q extends PrivateOps>(input: AppSpecInput<P, Q>): AppSpec<P, Q> {
  const { name } = input;
  if (!NAME_RE.test(name)) throw new GeodeError('APP_SPEC_INVALID', `App name ${JSON.stringify(name)} must be 1..32 lowercase letters, digits or '-'.`, { docsPath: 'apps.md#defineapp' });
  for (const k of [...Object.keys(input.public), ...Object.keys(input.private)]) {
    if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(k)) throw new GeodeError('APP_SPEC_INVALID', `Request name ${JSON.stringify(k)} of app ${name} must be 1..32 lowercase letters, digits, '-' or '_'.`, { docsPath: 'apps.md#defineapp' });
  }
  const prefix = `${name}.`;
  const publicKinds = input.public;
  const privateOps = input.private;
  return {
    name,
    public: publicKinds,
    private: privateOps,
    publicKind: (kind) => `${prefix}${kind}`,
    encodePublic(kind, args) {
      if (!Object.hasOwn(publicKinds, kind)) throw new AppRequestError(`App ${name} declares no public kind ${JSON.stringify(kind)}.`);
      return encodeAbiParameters(publicKinds[kind]! as readonly AbiParameter[], args as readonly unknown[]);
    },
    decodePublic(fullKind, body) {
      const kind = fullKind.startsWith(prefix) ? fullKind.slice(prefix.length) : null;
      if (kind === null || !Object.hasOwn(publicKinds, kind)) {
        throw new AppRequestError(`Public request kind ${JSON.stringify(fullKind)} is not one of app ${name}'s (${Object.keys(publicKinds).map((k) => prefix + k).join(', ') || 'none'}); send it through the app contract.`, { details: { kind: fullKind } });
      }
      const params = publicKinds[kind]!;
      const hex = bytesHex(body);
      let args: readonly unknown[];
      try {
        args = decodeAbiParameters(params, hex);
      } catch (e) {
        throw new AppRequestError(`The body of ${fullKind} is not abi.encode of its declared parameters; append it through the app contract.`, { cause: e, details: { kind: fullKind } });
      }
      // Strict: the same bytes must come back, so one body means one thing on both sides of the boundary.
      if (encodeAbiParameters(params, args).toLowerCase() !== hex) {
        throw new AppRequestError(`The body of ${fullKind} carries bytes beyond the canonical abi.encode of its parameters.`, { details: { kind: fullKind } });
      }
      return { kind, args };
    },
    encodePrivate(op, body) {
      if (!Object.hasOwn(privateOps, op)) throw new AppRequestError(`App ${name} declares no private request ${JSON.stringify(op)}.`);
      const parsed = privateOps[op]!.safeParse(body);
      if (!parsed.success) throw new AppRequestError(`Private request ${op} of app ${name} is invalid: ${issues(parsed.error)}.`);
      return new TextEncoder().encode(JSON.stringify({ ...parsed.data, op }));
    },
    decodePrivate(bytes) {
      let v: unknown;
      try {
        v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
      } catch (e) {
        throw new AppRequestError(`A private request of app ${name} must be UTF-8 JSON {"op": ..., ...}; encode it with the app's client.`, { cause: e });
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new AppRequestError(`A private request of app ${name} must be a JSON object {"op": ..., ...}.`);
      const obj = v as Record<string, unknown>;
      const op = Object.hasOwn(obj, 'op') ? obj.op : undefined;
      if (typeof op !== 'string' || !Object.hasOwn(privateOps, op)) {
        throw new AppRequestError(`Unknown private request op ${JSON.stringify(op ?? null)} for app ${name}; known: ${Object.keys(privateOps).join(', ') || 'none'}.`);
      }
      const { op: _op, ...rest } = obj;
      const parsed = privateOps[op]!.safeParse(rest);
      if (!parsed.success) throw new AppRequestError(`Private request ${op} of app ${name} is invalid: ${issues(parsed.error)}.`, { details: { op } });
      return { op, body: parsed.data } as PrivateRequest<Q>;
    },
  };
}

function issues(e: z.ZodError): string {
  return e.issues.slice(0, 4).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}
