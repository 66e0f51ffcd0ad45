import { BranchMPTNode, ExtensionMPTNode, decodeMPTNode, type MPTOpts } from '@ethereumjs/mpt';
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

/** Lowercase hex of `b` through a Buffer view (Buffer.from(b) would copy it first). */
const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Counters of the node cache (SealedNodeDb.stats): reads from the cache, reads from the backend, cost held. */
export interface NodeCacheStats {
  cacheHits: number;
  backendReads: number;
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
 * Decrypted nodes are kept in a byte-bounded LRU cache.
 */
export class SealedNodeDb implements TrieDb {
  private readonly cache: ByteLru;
  private pending = new Map<string, Uint8Array>();
  private readonly counters: NodeCacheStats = { cacheHits: 0, backendReads: 0, cachedBytes: 0 };

  /** `sealingKey` and `storeId` 32 bytes each; `cacheBytes` the cache bound (NODE_CACHE_ENTRY_OVERHEAD counted per node). */
  constructor(private readonly backend: RecordBackend, private readonly sealingKey: Uint8Array, private readonly storeId: Uint8Array, cacheBytes: number) {
    this.cache = new ByteLru(cacheBytes, NODE_CACHE_ENTRY_OVERHEAD);
  }

  /** Record key of the node whose hash is `hashHex` (64 lowercase hex, no 0x). */
  static recordKey(hashHex: string): Uint8Array {
    const k = Buffer.allocUnsafe(33); // one allocation: the hex is decoded in place
    k[0] = 0x6e;
    if (k.write(hashHex, 1, 'hex') !== 32) throw new EnclaveError('ENCLAVE_INTERNAL', `Trie node key ${hashHex} is not 32 bytes of hex; this is a Geode bug.`);
    return k;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
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
      const node = decodeMPTNode(plain);
      // Only 32-byte references are hashes of stored nodes; shorter children are inlined and hold no references.
      const refs = node instanceof BranchMPTNode ? node.getChildren().map(([, c]) => c) : node instanceof ExtensionMPTNode ? [node.value()] : [];
      for (const c of refs) if (c instanceof Uint8Array && c.length === 32) todo.push(hexOf(c));
    }
    this.pending = new Map();
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
