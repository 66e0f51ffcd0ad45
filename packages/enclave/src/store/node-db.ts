import { BranchMPTNode, ExtensionMPTNode, decodeMPTNode, decodeRawMPTNode, type MPTOpts } from '@ethereumjs/mpt';
import { RLP, type NestedUint8Array } from '@ethereumjs/rlp';
import { EnclaveError } from '../errors.ts';
import type { RecordBackend } from './backend.ts';
import { keccak256 } from './keccak.ts';
import { ByteLru } from './lru.ts';
import { openRecord, sealRecord } from './record-seal.ts';

/** The node-database interface @ethereumjs/mpt expects (its DB<string, string | Uint8Array>). */
type TrieDb = NonNullable<MPTOpts['db']>;
type TrieDbOp = Parameters<TrieDb['batch']>[0][number];

/**
 * Bytes a cached node costs besides its own bytes: the 64-character hex key string, the Map entry, and the
 * Uint8Array with its ArrayBuffer and backing store. Measured on Node 20 (100,000 entries, --expose-gc): about 300
 * bytes of V8 heap per entry, plus the allocator's header on the bytes. Without it a cache of mostly 40-byte leaf
 * nodes would hold 8 times its bound in real memory.
 */
export const NODE_CACHE_ENTRY_OVERHEAD = 320;

/**
 * V8 bytes of one Uint8Array view (object, ArrayBuffer reference) in a decoded node, besides the bytes it views:
 * a decoded branch is 17 views over its node's bytes, so it costs about 2 KiB where its encoding is 532 bytes.
 */
export const RAW_NODE_VIEW_OVERHEAD = 96;

/** Share of the cache bound given to decoded nodes (SealedNodeDb.getRaw); the rest holds node bytes. */
export const RAW_NODE_CACHE_SHARE = 0.25;

/** What a decoded node costs in memory: its bytes plus RAW_NODE_VIEW_OVERHEAD per view and per array. */
function rawCost(raw: NestedUint8Array, bytes: number): number {
  let views = 1;
  const walk = (a: NestedUint8Array): void => {
    for (const x of a) {
      views++;
      if (Array.isArray(x)) walk(x);
    }
  };
  walk(raw);
  return bytes + views * RAW_NODE_VIEW_OVERHEAD;
}

/**
 * A node's RLP decoding in the shape @ethereumjs/mpt's decodeRawMPTNode takes: it types a raw node as Uint8Array[]
 * and itself hands it RLP.decode's nested arrays (inline children are lists), as decodeMPTNode does.
 */
export type RawNode = Uint8Array[];

/** RLP decoding of node bytes `b` if it is a list (a node), else undefined. Decodes a copy, as decodeMPTNode does: the views must not alias a cached buffer. */
function decodeRaw(b: Uint8Array): RawNode | undefined {
  const raw = RLP.decode(Uint8Array.from(b));
  return Array.isArray(raw) ? (raw as RawNode) : undefined;
}

/** Lowercase hex of `b` through a Buffer view (Buffer.from(b) would copy it first). */
const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Counters of the node cache (SealedNodeDb.stats): reads from the cache, reads from the backend, cost held. */
export interface NodeCacheStats {
  cacheHits: number;
  backendReads: number;
  /** Nodes sealed and handed to the backend by takeReachable (the distinct new nodes of each commit), in total. */
  nodesWritten: number;
  /** Cost of the cached nodes, bytes (ByteLru size: node bytes plus NODE_CACHE_ENTRY_OVERHEAD each). */
  cachedBytes: number;
}

/**
 * The trie's node database (the DB interface of @ethereumjs/mpt) over sealed records (docs/enclave.md#store-sealing).
 *
 * A trie node is stored as the record "n" (0x6e) || keccak256(node) (32 bytes), sealed with record-seal.ts. On
 * read the record is opened AND its plaintext is hashed again and compared with the key it was asked for, so a
 * record that authenticates but holds another node (impossible without the key, checked anyway) is refused too.
 * Nodes written by the trie are held as pending (in memory, not yet sealed) until the store writes them in the
 * batch's single transaction: takeReachable(root) seals and returns only the pending nodes reachable from the new
 * root. The trie writes a node for every step of every put, so the upper nodes of a batch are written once per key
 * changed; all but the last of them are garbage, and dropping them here makes a batch store O(distinct new nodes).
 * Decrypted nodes are kept in a byte-bounded LRU cache, and the most recently used ones also decoded (getRaw): the
 * trie looks up every node of a path on every get and put, and decoding a branch's RLP cost more than the lookup.
 */
export class SealedNodeDb implements TrieDb {
  private readonly cache: ByteLru;
  private readonly raws: ByteLru<{ raw: RawNode; cost: number }>;
  private pending = new Map<string, Uint8Array>();
  private readonly counters: NodeCacheStats = { cacheHits: 0, backendReads: 0, nodesWritten: 0, cachedBytes: 0 };

  /** `sealingKey` and `storeId` 32 bytes each; `cacheBytes` the cache bound (NODE_CACHE_ENTRY_OVERHEAD counted per node). */
  constructor(private readonly backend: RecordBackend, private readonly sealingKey: Uint8Array, private readonly storeId: Uint8Array, cacheBytes: number) {
    this.cache = new ByteLru(cacheBytes * (1 - RAW_NODE_CACHE_SHARE), NODE_CACHE_ENTRY_OVERHEAD);
    this.raws = new ByteLru(cacheBytes * RAW_NODE_CACHE_SHARE, NODE_CACHE_ENTRY_OVERHEAD, (e) => e.cost);
  }

  /** Bound of the node-bytes cache (the part of the cache bound not given to decoded nodes), bytes. */
  get bytesBound(): number {
    return this.cache.maxBytes;
  }

  /** Record key of the node whose hash is `hashHex` (64 lowercase hex, no 0x). */
  static recordKey(hashHex: string): Uint8Array {
    const k = Buffer.allocUnsafe(33); // one allocation: the hex is decoded in place
    k[0] = 0x6e;
    if (k.write(hashHex, 1, 'hex') !== 32) throw new EnclaveError('ENCLAVE_INTERNAL', `Trie node key ${hashHex} is not 32 bytes of hex; this is a Geode bug.`);
    return k;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.getBytes(key);
  }

  /**
   * The RLP decoding of the node whose hash is `key` (64 lowercase hex), as @ethereumjs/mpt's decodeMPTNode makes
   * it before building a node object, or undefined if the node is not stored or is not an RLP list (the trie then
   * reports it). Stored nodes' decodings are cached (RAW_NODE_CACHE_SHARE of the bound); the trie never changes
   * a decoding in place (decodeRawMPTNode copies what it keeps; store-node-cache.test.ts checks), so one decoding
   * serves every lookup. Pending nodes are decoded each time, not cached: they may be dropped.
   * Same errors as get (ENCLAVE_SEAL_CORRUPT).
   */
  getRaw(key: string): RawNode | undefined {
    const c = this.raws.get(key);
    if (c) {
      this.counters.cacheHits++;
      return c.raw;
    }
    const pending = this.pending.has(key);
    const b = this.getBytes(key);
    if (b === undefined) return undefined;
    const raw = decodeRaw(b);
    if (raw !== undefined && !pending) this.raws.set(key, { raw, cost: rawCost(raw, b.byteLength) });
    return raw;
  }

  /** The cached decodings, by node hash (64 hex), least recently used first; for tests of getRaw's invariant. */
  *decodedNodes(): Generator<[string, RawNode]> {
    for (const [k, e] of this.raws.entries()) yield [k, e.raw];
  }

  private getBytes(key: string): Uint8Array | undefined {
    const p = this.pending.get(key);
    if (p) return p;
    const c = this.cache.get(key);
    if (c) {
      this.counters.cacheHits++;
      return c;
    }
    this.counters.backendReads++;
    const rk = SealedNodeDb.recordKey(key);
    const sealed = this.backend.get(rk);
    if (sealed === undefined) return undefined;
    const plain = openRecord(this.sealingKey, this.storeId, rk, sealed);
    if (hexOf(keccak256(plain)) !== key) {
      throw new EnclaveError('ENCLAVE_SEAL_CORRUPT', `Trie node ${key} does not hash to its key. Restore this enclave's data directory, or start from an empty one.`, { details: { node: key } });
    }
    this.cache.set(key, plain);
    return plain;
  }

  async put(key: string, value: string | Uint8Array): Promise<void> {
    this.pending.set(key, typeof value === 'string' ? Buffer.from(value, 'hex') : value);
  }

  /** Nodes are content-addressed and shared between versions: the trie never deletes one (see docs/enclave.md#store-versions). */
  async del(): Promise<void> {}

  async batch(ops: TrieDbOp[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') await this.put(op.key, op.value);
  }

  /**
   * Seal the pending nodes reachable from `root` (32 bytes) through pending nodes only (a child that is not pending
   * is already stored), cache them, forget every pending node, and return the records to store in one transaction.
   */
  takeReachable(root: Uint8Array): [Uint8Array, Uint8Array][] {
    const out: [Uint8Array, Uint8Array][] = [];
    const todo = [hexOf(root)];
    while (todo.length > 0) {
      const h = todo.pop()!;
      const plain = this.pending.get(h);
      if (plain === undefined) continue;
      this.pending.delete(h);
      const rk = SealedNodeDb.recordKey(h);
      out.push([rk, sealRecord(this.sealingKey, this.storeId, rk, plain)]);
      this.cache.set(h, plain);
      const raw = decodeRaw(plain);
      if (raw !== undefined) this.raws.set(h, { raw, cost: rawCost(raw, plain.byteLength) }); // the next batch walks these first
      const node = raw !== undefined ? decodeRawMPTNode(raw) : decodeMPTNode(plain); // decodeMPTNode throws for a non-list
      // Only 32-byte references are hashes of stored nodes; shorter children are inlined and hold no references.
      const refs = node instanceof BranchMPTNode ? node.getChildren().map(([, c]) => c) : node instanceof ExtensionMPTNode ? [node.value()] : [];
      for (const c of refs) if (c instanceof Uint8Array && c.length === 32) todo.push(hexOf(c));
    }
    this.pending = new Map();
    this.counters.nodesWritten += out.length;
    return out;
  }

  /** Node reads served by the cache and by the backend (unsealed, re-hashed) since this database was opened. */
  stats(): NodeCacheStats {
    return { ...this.counters, cachedBytes: this.cache.size };
  }

  /** Forget nodes written since the last takeReachable (a failed batch). */
  dropPending(): void {
    this.pending = new Map();
  }

  shallowCopy(): TrieDb {
    return this;
  }

  async open(): Promise<void> {}
}
