/**
 * Canonical JSON: object keys sorted by UTF-16 code unit order, no whitespace, bigint as decimal string
 * prefixed "n:" (JSON has no bigint). Used wherever bytes must be reproducible (state roots, policy hash).
 * Throws TypeError on values JSON cannot represent (functions, symbols, undefined in arrays, non-finite numbers).
 */
export function canonicalJson(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean': return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(v);
    case 'string': return JSON.stringify(v);
    case 'bigint': return JSON.stringify(`n:${v.toString()}`);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x)).join(',')}]`;
      const keys = Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    default: throw new TypeError(`canonicalJson: cannot encode ${typeof v}`);
  }
}

/**
 * Throw TypeError unless `v` is plain JSON data: null, booleans, finite numbers, strings, arrays and plain objects
 * of those (no bigint, undefined, functions, symbols, NaN/Infinity, class instances). A walk without building the
 * string: the enclave runs it after every handler to keep app state sealable, where canonicalJson would cost more.
 */
export function assertPlainJson(v: unknown, path = '$'): void {
  if (v === null) return;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${path} is not a finite number`);
      return;
    case 'object': {
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) assertPlainJson(v[i], `${path}[${i}]`);
        return;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new TypeError(`${path} is not a plain object`);
      for (const k in v as Record<string, unknown>) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) assertPlainJson(x, `${path}.${k}`);
      }
      return;
    }
    default:
      throw new TypeError(`${path} is ${typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`}, not JSON data`);
  }
}
