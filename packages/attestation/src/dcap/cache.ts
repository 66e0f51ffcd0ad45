/**
 * Memoisation of the time-independent part of DCAP verification.
 *
 * What is cached is always keyed by SHA-256 of the exact input bytes it was derived from (plus
 * the trust root), so a different byte anywhere is a cache miss. Only successful results are
 * stored. Validity windows are stored with the results and re-checked against `now` on every
 * call, so caching never extends a window.
 *
 * Three tables:
 * - `crls`: root CA CRL + PCK CRL + PCK CRL issuer chain, verified to the root.
 * - `signed`: TCB Info and QE Identity, their issuer chains and signatures, parsed.
 * - `pck`: a quote's PCK chain (certification data type 5 PEM) verified to the root, checked
 *   against the CRLs, with its SGX extension parsed.
 * - `keys`: attestation public keys (64 bytes x||y) imported as node KeyObjects (an import costs
 *   about as much as a signature verification; a platform's QE reuses its key across quotes).
 */
import { createHash } from 'node:crypto';

/** Minimal LRU map (insertion-ordered Map; a hit moves the entry to the end). */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}

/** Hit/miss counters (for benchmarks and tests). */
export interface DcapCacheStats {
  hits: number;
  misses: number;
}

/** Cache object accepted by `verifyDcapQuote(…, { cache })`. Create with {@link createDcapCache}. */
export interface DcapCache {
  crls: Lru<string, unknown>;
  signed: Lru<string, unknown>;
  pck: Lru<string, unknown>;
  keys: Lru<string, unknown>;
  stats: DcapCacheStats;
  /** Drops every entry and resets the counters. */
  clear(): void;
}

/**
 * Creates an independent cache.
 * @param maxEntries per table (default 64: one entry per platform FMSPC/CA is typical).
 */
export function createDcapCache(maxEntries = 64): DcapCache {
  const c: DcapCache = {
    crls: new Lru(maxEntries),
    signed: new Lru(maxEntries),
    pck: new Lru(maxEntries * 4),
    keys: new Lru(maxEntries * 4),
    stats: { hits: 0, misses: 0 },
    clear() {
      c.crls.clear();
      c.signed.clear();
      c.pck.clear();
      c.keys.clear();
      c.stats.hits = 0;
      c.stats.misses = 0;
    },
  };
  return c;
}

/** The module-level default cache used when `opts.cache` is not given. */
export const defaultDcapCache: DcapCache = createDcapCache();

/** SHA-256 over length-prefixed parts, hex. Unambiguous for any sequence of parts. */
export function cacheKey(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  const len = Buffer.alloc(4);
  for (const p of parts) {
    const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
    len.writeUInt32LE(b.length);
    h.update(len);
    h.update(b);
  }
  return h.digest('hex');
}

/** Looks up `key` in `table`, computing and storing on a miss. Exceptions are not cached. */
export function memo<T>(cache: DcapCache | null, table: 'crls' | 'signed' | 'pck' | 'keys', key: string, compute: () => T): T {
  if (!cache) return compute();
  const hit = cache[table].get(key) as T | undefined;
  if (hit !== undefined) {
    cache.stats.hits++;
    return hit;
  }
  cache.stats.misses++;
  const v = compute();
  cache[table].set(key, v);
  return v;
}
