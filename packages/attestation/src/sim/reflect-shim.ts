/**
 * Minimal `Reflect` metadata shim (getMetadata / getOwnMetadata / defineMetadata / hasMetadata) for tsyringe,
 * which @peculiar/x509 uses internally and which throws at import time when no polyfill is loaded. The
 * `reflect-metadata` package is not among the pinned dependencies; this installs only when the API is missing
 * and never replaces an existing implementation. Import it before `@peculiar/x509`.
 */
type Store = Map<string | symbol | undefined, Map<unknown, unknown>>;
const stores = new WeakMap<object, Store>();
const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  const own = (target: object, key?: string | symbol, create = false): Map<unknown, unknown> | undefined => {
    let s = stores.get(target);
    if (!s) {
      if (!create) return undefined;
      s = new Map();
      stores.set(target, s);
    }
    let m = s.get(key);
    if (!m && create) {
      m = new Map();
      s.set(key, m);
    }
    return m;
  };
  const getOwnMetadata = (k: unknown, target: object, key?: string | symbol) => own(target, key)?.get(k);
  const getMetadata = (k: unknown, target: object, key?: string | symbol): unknown => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
      const m = own(t, key);
      if (m?.has(k)) return m.get(k);
    }
    return undefined;
  };
  Object.assign(R, {
    defineMetadata: (k: unknown, v: unknown, target: object, key?: string | symbol) => void own(target, key, true)!.set(k, v),
    getOwnMetadata,
    getMetadata,
    hasOwnMetadata: (k: unknown, target: object, key?: string | symbol) => own(target, key)?.has(k) ?? false,
    hasMetadata: (k: unknown, target: object, key?: string | symbol) => getMetadata(k, target, key) !== undefined,
    metadata: (k: unknown, v: unknown) => (target: object, key?: string | symbol) => void own(target, key, true)!.set(k, v),
  });
}
export {};
