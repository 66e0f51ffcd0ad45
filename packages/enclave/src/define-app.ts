import type { z } from 'zod';
import { GeodeError, type AppSpec, type PrivateOps, type PublicBody, type PublicKinds } from '@geode/protocol';
import type { EnclaveApp, HandlerContext } from './app.ts';
import { TypedStore } from './store/kv.ts';

/**
 * `defineApp` (docs/apps.md#defineapp): the enclave half of an app declared once. The app's {@link AppSpec}
 * (@geode/protocol `appSpec`, shared with its client) says what its requests look like; here each request gets its
 * handler, and the app's state its typed collections. The framework, not the app, then:
 *
 * 1. routes a public request by its kind (own properties only) and decodes its ABI body strictly (spec.decodePublic);
 * 2. routes a private request by its `op` and checks its body with the op's zod schema (spec.decodePrivate);
 * 3. turns a decoding failure into a typed error output to the sender (AppRequestError, APP_REQUEST_INVALID),
 *    never a crash: the handler does not run and nothing changes;
 * 4. gives the handler `ctx.collections`: one TypedStore per declared collection over `ctx.store`, whose reads are
 *    checked with the collection's zod schema.
 *
 * A handler refuses a request by throwing a GeodeError (e.g. one declared with defineAppErrors): the runtime drops
 * every write, emit and publish the handler made and sends the sender `{ seq, ok: false, error: { code, message } }`.
 */

/** Declared state collections: name -> zod schema of one value (plain JSON data; bigints as decimal strings). */
export type Collections = Record<string, z.ZodType>;

/** What a defineApp handler gets: the HandlerContext plus one TypedStore per declared collection. */
export interface AppContext<C extends Collections> extends HandlerContext {
  readonly collections: { readonly [K in keyof C]: TypedStore<z.output<C[K]>> };
}

/** The handlers (and state collections) of an app whose requests `spec` declares. */
export interface AppHandlers<P extends PublicKinds, Q extends PrivateOps, C extends Collections> {
  /** State collections (default none): each is the key prefix [name] inside the app's store. */
  state?: C;
  /** One handler per declared public kind, called with the decoded ABI arguments (viem's types). */
  public: { [K in keyof P & string]: (args: PublicBody<P, K>, ctx: AppContext<C>) => void | Promise<void> };
  /** One handler per declared private op, called with the schema-checked body. */
  private: { [K in keyof Q & string]: (body: z.output<Q[K]>, ctx: AppContext<C>) => void | Promise<void> };
}

/**
 * Bind `handlers` to `spec` and return the app the runtime runs (`runEnclave(app)`). Throws GeodeError APP_SPEC_INVALID when a
 * declared kind or op has no handler, or a handler is given for an undeclared one.
 */
export function defineApp<P extends PublicKinds, Q extends PrivateOps, C extends Collections = Record<never, z.ZodType>>(
  spec: AppSpec<P, Q>,
  handlers: AppHandlers<P, Q, C>,
): EnclaveApp {
  const pub = handlers.public as Record<string, (args: unknown, ctx: AppContext<C>) => void | Promise<void>>;
  const priv = handlers.private as Record<string, (body: unknown, ctx: AppContext<C>) => void | Promise<void>>;
  const same = (declared: object, given: object, what: string) => {
    const d = Object.keys(declared).sort().join(',');
    const g = Object.keys(given).sort().join(',');
    if (d !== g) throw new GeodeError('APP_SPEC_INVALID', `App ${spec.name}: the ${what} handlers (${g || 'none'}) must be exactly the declared ${what} requests (${d || 'none'}).`, { docsPath: 'apps.md#defineapp' });
  };
  same(spec.public, pub, 'public');
  same(spec.private, priv, 'private');
  const state = (handlers.state ?? {}) as C;

  const withCollections = (ctx: HandlerContext): AppContext<C> => {
    const collections: Record<string, TypedStore<unknown>> = {};
    for (const name of Object.keys(state)) collections[name] = new TypedStore(ctx.store, name, (v) => state[name]!.parse(v));
    return Object.assign(Object.create(null) as object, ctx, { collections }) as AppContext<C>;
  };

  return {
    name: spec.name,
    async onPublic(kind, body, ctx) {
      const { kind: k, args } = spec.decodePublic(kind, body); // APP_REQUEST_INVALID -> error output
      await pub[k]!(args, withCollections(ctx));
    },
    async onPrivate(request, ctx) {
      const { op, body } = spec.decodePrivate(request); // APP_REQUEST_INVALID -> error output
      await priv[op]!(body, withCollections(ctx));
    },
  };
}
