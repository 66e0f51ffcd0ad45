import { EnclaveError } from '../errors.ts';
import { decodeKey, encodeKey, type DecodedKeyPart, type KeyPart } from './key.ts';
import { Overlay } from './overlay.ts';
import type { StateTrie } from './trie.ts';
import { decodeValue, encodeValue } from './value.ts';

/**
 * The key-value interface handlers use (docs/apps.md#state). Keys are tuples of parts (key.ts) inside the store's
 * namespace; values are plain JSON data (value.ts), returned as fresh copies. Reads see the trie at the batch's
 * base root, then the batch's earlier successful requests, then this request's own writes. Every method is
 * deterministic: same state and calls, same results, on every instance.
 *
 * Errors: ENCLAVE_STORE_KEY (bad key), ENCLAVE_STORE_VALUE (not plain JSON, too large), ENCLAVE_STORE_LIMIT (more
 * than REQUEST_WRITES_MAX keys written by one request); all are GeodeErrors, so a
 * handler that lets one escape has its request refused and its writes dropped. ENCLAVE_SEAL_CORRUPT if the
 * host's storage does not authenticate (the batch is refused).
 */
export interface KvStore {
  /** The value under `key` (at least one part, else ENCLAVE_STORE_KEY), or undefined. */
  get<V = unknown>(key: readonly KeyPart[]): Promise<V | undefined>;
  /** Whether `key` holds a value. */
  has(key: readonly KeyPart[]): Promise<boolean>;
  /** Store `value` under `key` (validated and encoded now: later mutation of `value` changes nothing). */
  set(key: readonly KeyPart[], value: unknown): void;
  /** Remove `key` (no-op if absent). */
  delete(key: readonly KeyPart[]): void;
  /**
   * The [key, value] pairs whose key starts with the parts `prefix` ([] = the whole namespace), in ascending key
   * order (bytes compare lexicographically, integers numerically; see key.ts): each key is the full tuple of parts
   * relative to the namespace (prefix included; integers as bigint, bytes as Uint8Array), each value a fresh copy.
   * A key equal to `prefix` itself is included. Stops after `limit` pairs if given. Writes made while iterating
   * are not seen by that iteration.
   */
  entries<V = unknown>(prefix: readonly KeyPart[], opts?: { limit?: number }): AsyncGenerator<[DecodedKeyPart[], V]>;
}

/**
 * Most distinct keys one request may write (set or delete). Bounds the memory and the commit work a single request
 * can cause whatever its payload; beyond it the write throws ENCLAVE_STORE_LIMIT and the request is refused.
 */
export const REQUEST_WRITES_MAX = 1024;

/** Most distinct keys a batch remembers reading from the trie (StateBatch.baseReads); bounds that memo's memory. */
const BASE_READS_MAX = 4096;

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/**
 * One batch's working set over the trie at its base root: the batch overlay and, while a request runs, the
 * request overlay. The runtime calls beginRequest / commitRequest / dropRequest around each handler, then hands
 * changes() to the store's commit.
 */
export class StateBatch {
  private readonly batch = new Overlay();
  private req: Overlay | null = null;
  /**
   * Trie reads at the base root, by key hex (undefined: absent). The base root does not change during a batch, so a
   * key read again (a batch's requests often read the same records: an app's config, a counter) costs a Map lookup
   * instead of a walk from the root. At most BASE_READS_MAX entries; beyond, reads go to the trie uncached.
   */
  private readonly baseReads = new Map<string, Uint8Array | undefined>();

  constructor(private readonly trie: StateTrie, readonly baseRoot: Uint8Array) {}

  /** Start a request: its writes go to a fresh overlay. Throws ENCLAVE_INTERNAL if one is already open. */
  beginRequest(): void {
    if (this.req) throw new EnclaveError('ENCLAVE_INTERNAL', 'beginRequest while a request is open; this is a Geode bug.');
    this.req = new Overlay();
  }

  /** The request succeeded: its writes join the batch. */
  commitRequest(): void {
    this.req?.mergeInto(this.batch);
    this.req = null;
  }

  /** The request was refused: its writes are dropped. */
  dropRequest(): void {
    this.req = null;
  }

  /** The store view of namespace `ns` (the first key part of every key it touches). */
  namespace(ns: string): KvStore {
    const prefixOf = (parts: readonly KeyPart[]): Uint8Array => encodeKey([ns, ...parts]);
    // A key names one record inside the namespace: at least one part (the bare namespace is every key's prefix).
    const full = (key: readonly KeyPart[]): Uint8Array => {
      if (!Array.isArray(key) || key.length === 0) throw new EnclaveError('ENCLAVE_STORE_KEY', 'A store key needs at least one part (e.g. [\'config\'] or [\'balance\', address]); [] is only a prefix, for entries(). Build keys from strings, byte strings and unsigned integers.');
      return prefixOf(key);
    };
    const self = this;
    return {
      async get<V>(key: readonly KeyPart[]) {
        const b = await self.read(full(key));
        return b === undefined ? undefined : (decodeValue(b) as V);
      },
      async has(key: readonly KeyPart[]) {
        return (await self.read(full(key))) !== undefined;
      },
      set(key: readonly KeyPart[], value: unknown) {
        self.write(full(key), encodeValue(value));
      },
      delete(key: readonly KeyPart[]) {
        self.write(full(key), null);
      },
      async *entries<V>(prefix: readonly KeyPart[], opts: { limit?: number } = {}) {
        let left = opts.limit ?? Infinity;
        if (left <= 0) return;
        for await (const [k, v] of self.scan(prefixOf(prefix))) {
          yield [decodeKey(k).slice(1), decodeValue(v) as V] as [DecodedKeyPart[], V];
          if (--left <= 0) return;
        }
      },
    };
  }

  /** Encoded value under the raw key `key` as this batch sees it, or undefined. */
  async read(key: Uint8Array): Promise<Uint8Array | undefined> {
    const h = hex(key);
    const r = this.req?.get(h);
    const w = r !== undefined ? r : this.batch.get(h);
    if (w !== undefined) return w ?? undefined; // null: deleted in this batch
    if (this.baseReads.has(h)) return this.baseReads.get(h);
    const v = await this.trie.get(key);
    if (this.baseReads.size < BASE_READS_MAX) this.baseReads.set(h, v);
    return v;
  }

  /** Write the encoded value (null deletes) under the raw key `key`, into the open request or else the batch. */
  write(key: Uint8Array, value: Uint8Array | null): void {
    const h = hex(key);
    if (this.req && this.req.size >= REQUEST_WRITES_MAX && this.req.get(h) === undefined) {
      throw new EnclaveError('ENCLAVE_STORE_LIMIT', `A request may write at most ${REQUEST_WRITES_MAX} distinct keys; this one tried more. Split the work over several requests.`, { details: { max: REQUEST_WRITES_MAX } });
    }
    (this.req ?? this.batch).put(h, value);
  }

  /** Raw [key, value] pairs under the byte prefix `prefix` as this batch sees them, ascending. */
  async *scan(prefix: Uint8Array): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const ph = hex(prefix);
    // Overlay writes under the prefix, the request's over the batch's, in key order (a snapshot).
    const merged = new Overlay();
    for (const [k, v] of this.batch.sortedWithin(ph)) merged.put(k, v);
    if (this.req) for (const [k, v] of this.req.sortedWithin(ph)) merged.put(k, v);
    const writes = merged.sortedWithin(ph);
    let i = 0;
    for await (const [k, v] of this.trie.entries(prefix)) {
      const kh = hex(k);
      for (; i < writes.length && writes[i]![0] < kh; i++) if (writes[i]![1]) yield [unhex(writes[i]![0]), writes[i]![1]!];
      if (i < writes.length && writes[i]![0] === kh) {
        const w = writes[i++]![1];
        if (w) yield [k, w];
        continue;
      }
      yield [k, v];
    }
    for (; i < writes.length; i++) if (writes[i]![1]) yield [unhex(writes[i]![0]), writes[i]![1]!];
  }

  /** Number of distinct keys the batch changed so far. */
  get changedKeys(): number {
    return this.batch.size;
  }

  /** The batch's changes in ascending key order (null = delete). Throws ENCLAVE_INTERNAL if a request is open. */
  changes(): [Uint8Array, Uint8Array | null][] {
    if (this.req) throw new EnclaveError('ENCLAVE_INTERNAL', 'changes() while a request is open; this is a Geode bug.');
    return this.batch.sortedWithin('').map(([k, v]) => [unhex(k), v]);
  }
}

/**
 * A typed collection inside a namespace (the seeds' TypedStore over a KvStore): every key is [name, ...key] and
 * every value read is passed through `parse` (for example a zod schema's parse), so a handler gets a checked `V`.
 */
export class TypedStore<V, K extends readonly KeyPart[] = readonly KeyPart[]> {
  constructor(private readonly kv: KvStore, readonly name: string, private readonly parse: (v: unknown) => V = (v) => v as V) {}

  async get(key: K): Promise<V | undefined> {
    const v = await this.kv.get([this.name, ...key]);
    return v === undefined ? undefined : this.parse(v);
  }

  has(key: K): Promise<boolean> {
    return this.kv.has([this.name, ...key]);
  }

  set(key: K, value: V): void {
    this.kv.set([this.name, ...key], value);
  }

  delete(key: K): void {
    this.kv.delete([this.name, ...key]);
  }

  /** Pairs under [name, ...prefix] in key order, keys relative to the collection. */
  async *entries(prefix: readonly KeyPart[] = [], opts: { limit?: number } = {}): AsyncGenerator<[DecodedKeyPart[], V]> {
    for await (const [k, v] of this.kv.entries([this.name, ...prefix], opts)) yield [k.slice(1), this.parse(v)];
  }
}
