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
