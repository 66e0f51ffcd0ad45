import type { EnclaveApp, HandlerContext } from './app.ts';
import type { StoreEnclaveApp } from './define-app.ts';
import { EnclaveError } from './errors.ts';
import { decodeKey, encodeKey, type DecodedKeyPart, type KeyPart } from './store/key.ts';
import { REQUEST_WRITES_MAX, type KvStore } from './store/kv.ts';
import { decodeValue, encodeValue } from './store/value.ts';

/**
 * TRANSITIONAL (remove when the runtime keeps app state in the StateStore, issue 8 Phase B): runs a store-based app
 * ({@link StoreEnclaveApp}, the handler API every new app is written against) on the runtime's JSON app state.
 *
 * The JSON state is one object: lowercase hex of the store key bytes (store/key.ts encodeKey([app name, ...key]))
 * -> the value as plain JSON. The KvStore semantics are the state store's: values validated and copied with the
 * store's encodeValue (ENCLAVE_STORE_VALUE), keys with encodeKey (ENCLAVE_STORE_KEY), at most REQUEST_WRITES_MAX
 * distinct keys written per request (ENCLAVE_STORE_LIMIT), entries() in ascending key byte order (lowercase hex
 * strings of equal-prefix bytes compare as the bytes do). Rollback is the runtime's: a handler works on its own copy
 * of the state, dropped when it throws. Cost is O(state) per request (the copy) and O(keys) per entries() call:
 * fine for demos and tests, which is all this bridge is for.
 */
export type JsonKvState = Record<string, unknown>;

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** The KvStore of namespace `ns` over `state` (mutated in place by set/delete). */
export function jsonKvStore(state: JsonKvState, ns: string): KvStore {
  const full = (key: readonly KeyPart[]): string => hex(encodeKey([ns, ...key]));
  const written = new Set<string>();
  const write = (k: string) => {
    if (!written.has(k) && written.size >= REQUEST_WRITES_MAX) {
      throw new EnclaveError('ENCLAVE_STORE_LIMIT', `A request may write at most ${REQUEST_WRITES_MAX} distinct keys; this one tried more. Split the work over several requests.`, { details: { max: REQUEST_WRITES_MAX } });
    }
    written.add(k);
  };
  const read = (k: string): unknown => (Object.hasOwn(state, k) ? decodeValue(encodeValue(state[k])) : undefined);
  return {
    async get<V>(key: readonly KeyPart[]) {
      return read(full(key)) as V | undefined;
    },
    async has(key: readonly KeyPart[]) {
      return Object.hasOwn(state, full(key));
    },
    set(key: readonly KeyPart[], value: unknown) {
      const k = full(key);
      const copy = decodeValue(encodeValue(value)); // validated and detached now, as the store does
      write(k);
      state[k] = copy;
    },
    delete(key: readonly KeyPart[]) {
      const k = full(key);
      write(k);
      delete state[k];
    },
    async *entries<V>(prefix: readonly KeyPart[], opts: { limit?: number } = {}) {
      let left = opts.limit ?? Infinity;
      if (left <= 0) return;
      const p = full(prefix);
      const keys = Object.keys(state).filter((k) => k.startsWith(p)).sort(); // a snapshot, in key byte order
      for (const k of keys) {
        yield [decodeKey(Buffer.from(k, 'hex')).slice(1), read(k) as V] as [DecodedKeyPart[], V];
        if (--left <= 0) return;
      }
    },
  };
}

/** `app` as a JSON-state EnclaveApp for today's runtime (see the module doc). */
export function jsonStateApp(app: StoreEnclaveApp): EnclaveApp<JsonKvState> {
  const ctxWith = (state: JsonKvState, ctx: HandlerContext) => ({ ...ctx, store: jsonKvStore(state, app.name) });
  return {
    name: app.name,
    initialState: () => ({}),
    onPublic: (state, kind, body, ctx) => app.onPublic(kind, body, ctxWith(state, ctx)),
    onPrivate: (state, request, ctx) => app.onPrivate(request, ctxWith(state, ctx)),
  };
}
