import { ROOT_ZERO } from '@geode/protocol';
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { EnclaveError } from '../errors.ts';
import type { RecordBackend } from './backend.ts';
import { encodeKey, type KeyPart } from './key.ts';
import { StateBatch } from './kv.ts';
import { keccakReady } from './keccak.ts';
import { SealedNodeDb, type NodeCacheStats } from './node-db.ts';
import { openRecord, sealRecord } from './record-seal.ts';
import { StateTrie } from './trie.ts';
import { encodeValue } from './value.ts';

/**
 * The enclave's authenticated, sealed state store (docs/enclave.md#store). It keeps, per process, a bounded node
 * cache, not the state; everything else is sealed records in the backend.
 *
 * Records besides trie nodes (all sealed, record-seal.ts):
 *   "i"              identity: the storeId itself, so a database of another store is refused at open;
 *   "v" || root(32)  version: canonical JSON {"n": <commit counter>, "parent": <0x root>}; written in the SAME
 *                    transaction as the root's nodes, so a listed version is always complete;
 *   "m"              meta: canonical JSON {"n": <last commit counter>}.
 * Roots are 0x bytes32; the empty store's root is 0x00..00 (the contract's initial stateRoot), otherwise the MPT
 * root (docs/protocol.md#state-root).
 */
export interface StoreOptions {
  backend: RecordBackend;
  /** AES-256-GCM sealing key, 32 bytes. */
  sealingKey: Uint8Array;
  /** The store's identity, 32 bytes, bound into every record's AAD. */
  storeId: Uint8Array;
  /** Bound of the decrypted-node cache, bytes (each node counted with its in-memory overhead). Default 32 MiB. */
  cacheBytes?: number;
}

/** A committed version: its root and commit counter (higher = newer). */
export interface StoreVersion {
  root: Hex;
  n: number;
  parent: Hex;
}

const ID_KEY = new Uint8Array([0x69]);
const META_KEY = new Uint8Array([0x6d]);
const VERSION_PREFIX = 0x76;
const utf8 = new TextEncoder();
const versionKey = (root: Uint8Array): Uint8Array => {
  const k = new Uint8Array(33);
  k[0] = VERSION_PREFIX;
  k.set(root, 1);
  return k;
};

export class StateStore {
  private readonly nodes: SealedNodeDb;
  private readonly trie: StateTrie;
  private lastN: number;

  private constructor(private readonly opts: StoreOptions) {
    if (opts.sealingKey.length !== 32 || opts.storeId.length !== 32) throw new EnclaveError('ENCLAVE_INTERNAL', 'StateStore needs a 32-byte sealing key and a 32-byte store id.');
    this.nodes = new SealedNodeDb(opts.backend, opts.sealingKey, opts.storeId, opts.cacheBytes ?? 32 * 2 ** 20);
    this.trie = new StateTrie(this.nodes);
    const id = opts.backend.get(ID_KEY);
    if (id === undefined) opts.backend.write([[ID_KEY, this.seal(ID_KEY, opts.storeId)]]);
    else this.open(ID_KEY, id); // throws ENCLAVE_SEAL_CORRUPT for a foreign database
    const meta = opts.backend.get(META_KEY);
    this.lastN = meta === undefined ? 0 : (JSON.parse(Buffer.from(this.open(META_KEY, meta)).toString('utf8')) as { n: number }).n;
  }

  /**
   * Open the store on `opts.backend`, at the empty root. Throws ENCLAVE_SEAL_CORRUPT if the backend holds another
   * store's (or another sealing key's) records.
   */
  static open(opts: StoreOptions): StateStore {
    return new StateStore(opts);
  }

  /** The checked-out root (0x bytes32; 0x00..00 when empty). */
  root(): Hex {
    return this.toHex(this.trie.root);
  }

  /**
   * Check out `root` (0x bytes32; 0x00..00 = empty). Throws ENCLAVE_STORE_MISSING_ROOT when this store has no
   * complete version with that root (never written here, or pruned).
   */
  async checkout(root: Hex): Promise<void> {
    if (root === ROOT_ZERO) return this.trie.setRoot(this.trie.emptyRoot);
    const r = hexToBytes(root);
    if (r.length !== 32 || this.opts.backend.get(versionKey(r)) === undefined || !(await this.trie.has(r))) {
      throw new EnclaveError('ENCLAVE_STORE_MISSING_ROOT', `This enclave's store has no version with root ${root}. Restore the data directory that produced it, or start the deployment's state from scratch.`, { details: { root } });
    }
    this.trie.setRoot(r);
  }

  /** Whether `root` can be checked out. */
  async hasVersion(root: Hex): Promise<boolean> {
    if (root === ROOT_ZERO) return true;
    const r = hexToBytes(root);
    return r.length === 32 && this.opts.backend.get(versionKey(r)) !== undefined && (await this.trie.has(r));
  }

  /** A new batch reading at the checked-out root. */
  begin(): StateBatch {
    return new StateBatch(this.trie, this.trie.root);
  }

  /**
   * Apply `batch`'s changes to the trie and write the new nodes and the new version record in ONE backend
   * transaction; the new root is then checked out and returned (0x bytes32). O(changed keys x depth).
   * `dropVersions` (0x roots) are version records to delete in the same transaction (pruning; their trie nodes stay).
   * Throws ENCLAVE_INTERNAL if another root was checked out since begin(), ENCLAVE_SEAL_IO if the write failed
   * (the store is then back at the batch's base root, nothing written).
   */
  async commit(batch: StateBatch, dropVersions: readonly Hex[] = []): Promise<Hex> {
    const base = batch.baseRoot;
    if (!Buffer.from(base).equals(Buffer.from(this.trie.root))) throw new EnclaveError('ENCLAVE_INTERNAL', 'commit of a batch begun at another root; this is a Geode bug.');
    await keccakReady; // speed only: the WebAssembly Keccak instead of the JS one (keccak.ts), same digests
    const dels = dropVersions.filter((r) => r !== ROOT_ZERO).map((r) => versionKey(hexToBytes(r)));
    try {
      const root = await this.trie.apply(batch.changes());
      const puts = this.nodes.takeReachable(root);
      const n = this.lastN + 1;
      const rk = Buffer.from(versionKey(root));
      this.opts.backend.write([...puts, ...this.versionRecords(root, base, n)], dels.filter((d) => !rk.equals(d)));
      this.lastN = n;
      return this.toHex(root);
    } catch (e) {
      this.nodes.dropPending();
      this.trie.setRoot(base);
      throw e;
    }
  }

  /**
   * Bulk loader: set every [key parts, value] of `entries` on top of the checked-out root and record ONE version
   * for the result; returns the new root (0x bytes32), which is the root the same pairs give through commits
   * (store.test.ts). `chunk` keys at a time are sorted, applied to the trie and their new nodes sealed and written
   * in one backend transaction; the intermediate transactions are not fsynced (RecordBackend write, durable false),
   * the last one, with the version record, is, and it makes all of them durable. Until then no version points at the
   * new nodes, so a crash or an error leaves the store at its old versions (the checked-out root is set back to the
   * starting one; nodes already written are unreferenced). Memory is bounded by the chunk, not by the total.
   * Same errors as the KvStore set (ENCLAVE_STORE_KEY, ENCLAVE_STORE_VALUE) and commit (ENCLAVE_SEAL_IO).
   */
  async bulkLoad(entries: Iterable<readonly [readonly KeyPart[], unknown]>, chunk = 5000): Promise<Hex> {
    function* encoded(): Generator<[Uint8Array, Uint8Array]> {
      for (const [k, v] of entries) yield [encodeKey(k), encodeValue(v)];
    }
    return this.bulkLoadRaw(encoded(), { chunk });
  }

  /**
   * The bulk loader over raw pairs (encoded key bytes, encoded value bytes; e.g. another store's StateBatch.scan):
   * the same chunked, crash-safe load as bulkLoad. With `expectRoot` (0x bytes32) the final transaction, the one that
   * writes the version record, is made only if the loaded root is that one; otherwise nothing is made reachable and
   * ENCLAVE_STORE_MISSING_ROOT is thrown (a state snapshot that does not give the committed root, snapshot.ts).
   * Errors of `entries` propagate, with the store left at its old versions.
   */
  async bulkLoadRaw(entries: Iterable<readonly [Uint8Array, Uint8Array]> | AsyncIterable<readonly [Uint8Array, Uint8Array]>, opts: { chunk?: number; expectRoot?: Hex } = {}): Promise<Hex> {
    const chunk = opts.chunk ?? 5000;
    if (!Number.isSafeInteger(chunk) || chunk < 1) throw new EnclaveError('ENCLAVE_INTERNAL', `bulkLoad chunk must be a positive integer, not ${chunk}.`);
    await keccakReady;
    const start = this.trie.root;
    let buf: [Uint8Array, Uint8Array | null][] = [];
    const applyChunk = async (): Promise<[Uint8Array, Uint8Array][]> => {
      buf.sort((a, b) => Buffer.compare(a[0], b[0]));
      const root = await this.trie.apply(buf);
      buf = [];
      return this.nodes.takeReachable(root);
    };
    try {
      for await (const [k, v] of entries) {
        buf.push([k, v]);
        if (buf.length >= chunk) this.opts.backend.write(await applyChunk(), [], { durable: false });
      }
      const puts = await applyChunk();
      const root = this.trie.root;
      if (opts.expectRoot !== undefined && this.toHex(root) !== opts.expectRoot.toLowerCase()) {
        throw new EnclaveError('ENCLAVE_STORE_MISSING_ROOT', `The loaded pairs give root ${this.toHex(root)}, not the expected ${opts.expectRoot}; nothing was kept.`, { details: { root: this.toHex(root), expected: opts.expectRoot } });
      }
      const n = this.lastN + 1;
      this.opts.backend.write([...puts, ...this.versionRecords(root, start, n)]);
      this.lastN = n;
    } catch (e) {
      this.nodes.dropPending();
      this.trie.setRoot(start);
      throw e;
    }
    return this.root();
  }

  /** Every complete version, newest first. */
  versions(): StoreVersion[] {
    const out: StoreVersion[] = [];
    for (const [k, v] of Array.from(this.opts.backend.scan(new Uint8Array([VERSION_PREFIX])))) {
      const m = JSON.parse(Buffer.from(this.open(k, v)).toString('utf8')) as { n: number; parent: Hex };
      out.push({ root: bytesToHex(k.subarray(1)), n: m.n, parent: m.parent });
    }
    return out.sort((a, b) => b.n - a.n);
  }

  /**
   * Fill the node cache with the checked-out trie's upper levels (breadth-first from the root) until it holds
   * `share` (0..1, default 0.5) of its node-bytes bound or the whole trie; returns the number of nodes read. For
   * after open and checkout: a batch then finds the levels every key's path crosses in memory from the start. Costs
   * one backend read per node read (bounded by the cache size, not by the state's). Same errors as a read
   * (ENCLAVE_SEAL_CORRUPT).
   */
  async warm(share = 0.5): Promise<number> {
    if (!(share >= 0 && share <= 1)) throw new EnclaveError('ENCLAVE_INTERNAL', `warm share must be within [0, 1], not ${share}.`);
    await keccakReady;
    const budget = this.nodes.bytesBound * share;
    return this.trie.warm(() => this.nodes.stats().cachedBytes >= budget);
  }

  /** The node cache's counters (reads it served, reads that went to the backend) and the bytes it holds. */
  cacheStats(): NodeCacheStats {
    return this.nodes.stats();
  }

  close(): void {
    this.opts.backend.close();
  }

  /** The version record of `root` (commit counter `n`, parent `parent`) and the meta record, sealed. */
  private versionRecords(root: Uint8Array, parent: Uint8Array, n: number): [Uint8Array, Uint8Array][] {
    return [
      [versionKey(root), this.seal(versionKey(root), utf8.encode(JSON.stringify({ n, parent: this.toHex(parent) })))],
      [META_KEY, this.seal(META_KEY, utf8.encode(JSON.stringify({ n })))],
    ];
  }

  private seal(k: Uint8Array, plain: Uint8Array): Uint8Array {
    return sealRecord(this.opts.sealingKey, this.opts.storeId, k, plain);
  }

  private open(k: Uint8Array, sealed: Uint8Array): Uint8Array {
    return openRecord(this.opts.sealingKey, this.opts.storeId, k, sealed);
  }

  private toHex(root: Uint8Array): Hex {
    return Buffer.from(root).equals(Buffer.from(this.trie.emptyRoot)) ? ROOT_ZERO : bytesToHex(root);
  }
}
