import { BranchMPTNode, ExtensionMPTNode, LeafMPTNode, MerklePatriciaTrie, decodeRawMPTNode, type MPTNode, type MPTOpts, type Path } from '@ethereumjs/mpt';
import { EnclaveError } from '../errors.ts';
import { eventLoopTurn } from '../event-loop.ts';
import { keccak256 } from './keccak.ts';
import type { SealedNodeDb } from './node-db.ts';

/**
 * The authenticated structure over the store's key/value pairs (docs/protocol.md#state-root): Ethereum's Merkle
 * Patricia Trie (Yellow Paper appendix D, @ethereumjs/mpt) keyed by the encoded key bytes followed by one 0x00 byte
 * (trieKey; no key hashing, so the trie is in key order and prefix iteration walks one subtree) with the encoded
 * value bytes as leaf values. Updating k keys costs O(k x depth) node hashes and reads; depth is bounded by
 * KEY_MAX_BYTES + 1.
 *
 * Why the 0x00: encoded keys are prefixes of one another (a tuple's encoding is a prefix of every longer tuple
 * starting with it), and a key that ends where others continue is a value held in a branch node. @ethereumjs/mpt
 * 10.1.3 loses such a value when a delete leaves its branch with one child (_deleteNode merges the branch into that
 * child without keeping the branch's value): put aa00, aa0011, aa0022, delete aa0011, and aa00 is gone. Ethereum's
 * own tries never meet this (their keys are hashes, all 32 bytes). After a complete tuple encoding the next byte is
 * a part's type code, never 0x00, so no trie key is a prefix of another: every value sits in a leaf, the library's
 * well-trodden case, and order is unchanged (a key still sorts before its extensions).
 */
export class StateTrie {
  private trie: DecodedNodeTrie;

  /** `root` 32 bytes, or undefined for the empty trie. */
  constructor(private readonly nodes: SealedNodeDb, root?: Uint8Array) {
    this.trie = StateTrie.library(nodes, root);
  }

  private static library(nodes: SealedNodeDb, root?: Uint8Array): DecodedNodeTrie {
    return new DecodedNodeTrie(nodes, { db: nodes, valueEncoding: 'view', useKeyHashingFunction: keccak256, ...(root ? { root } : {}) });
  }

  /** keccak256(rlp("")), the root of the empty trie. */
  get emptyRoot(): Uint8Array {
    return this.trie.EMPTY_TRIE_ROOT;
  }

  /** The current root (32 bytes). */
  get root(): Uint8Array {
    return this.trie.root();
  }

  /** Switch to `root` (32 bytes). The caller checks it is present first (has). */
  setRoot(root: Uint8Array): void {
    this.trie.root(root);
  }

  /**
   * Whether the root node of `root` (32 bytes) is stored (its subtree was written in the same transaction); the empty
   * trie's root always is. Not the library's checkRoot, which tells "missing" from the library's error message, and
   * lookupNode here refuses a missing node instead. Throws ENCLAVE_SEAL_CORRUPT for a stored root node that does not
   * authenticate.
   */
  async has(root: Uint8Array): Promise<boolean> {
    if (Buffer.from(root).equals(Buffer.from(this.trie.EMPTY_TRIE_ROOT))) return true;
    if ((await this.nodes.get(Buffer.from(root).toString('hex'))) === undefined) return false;
    await this.trie.lookupNode(root); // a stored record that is not a node is refused here, as checkRoot would
    return true;
  }

  /** The value stored under `key` (an encoded key), or undefined. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.trie.get(trieKey(key))) ?? undefined;
  }

  /**
   * Apply `changes` (value, or null to delete) and return the new root. The new nodes are pending in the node
   * database until the caller stores them (SealedNodeDb.takeReachable).
   */
  async apply(changes: Iterable<readonly [Uint8Array, Uint8Array | null]>): Promise<Uint8Array> {
    // No trie checkpoint: every node the trie writes is only pending in the node database, so a failure is undone
    // by the caller dropping the pending nodes and setting the root back (StateStore). A checkpoint would also copy
    // every node read into its diff map and re-put all of them, converted bytes -> hex -> bytes, at commit.
    try {
      let n = 0;
      for (const [k, v] of changes) {
        if (v === null) await this.trie.del(trieKey(k));
        else await this.trie.put(trieKey(k), v);
        // A turn of the event loop now and then: the batch's commit runs while the HPKE worker seals its outputs, and
        // the worker's answers (and its next jobs) wait for one. Nothing else touches the store meanwhile: the
        // enclave serves one request at a time (server.ts).
        if (++n % APPLY_YIELD_EVERY === 0) await eventLoopTurn();
      }
    } catch (e) {
      // The library's put and del release their lock only when they return: after a throw (a refused node) every
      // later put would wait on it forever. A fresh library trie at the same root has a free lock; the caller sets
      // the root back.
      this.trie = StateTrie.library(this.nodes, this.trie.root());
      throw e;
    }
    return this.trie.root();
  }

  /**
   * Read nodes breadth-first from the root, upper levels first, until `enough()` says the cache holds enough or
   * every node was read; returns the number of nodes read. Every lookup of every key walks the upper levels, so a
   * store opened with a cold cache (an enclave restart) has them hot from its first batch instead of filling them
   * miss by miss over many batches. Same errors as a get (ENCLAVE_SEAL_CORRUPT for a node that does not
   * authenticate, the trie's own error for a missing one).
   */
  async warm(enough: () => boolean): Promise<number> {
    const root = this.trie.root();
    if (Buffer.from(root).equals(Buffer.from(this.trie.EMPTY_TRIE_ROOT))) return 0;
    let level: Uint8Array[] = [root];
    let read = 0;
    while (level.length > 0) {
      const next: Uint8Array[] = [];
      for (const ref of level) {
        if (enough()) return read;
        const node = await this.trie.lookupNode(ref);
        read++;
        // Only 32-byte references are stored nodes; shorter children are inlined in their parent.
        const refs = node instanceof BranchMPTNode ? node.getChildren().map(([, c]) => c) : node instanceof ExtensionMPTNode ? [node.value()] : [];
        for (const c of refs) if (c instanceof Uint8Array && c.length === 32) next.push(c);
      }
      level = next;
    }
    return read;
  }

  /**
   * Every [key, value] whose (encoded) key starts with `prefix`, in ascending key byte order; keys without trieKey's
   * 0x00. Throws ENCLAVE_SEAL_CORRUPT for a stored trie key that does not end in 0x00 (a store of another format).
   */
  async *entries(prefix: Uint8Array): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const root = this.trie.root();
    if (Buffer.from(root).equals(Buffer.from(this.trie.EMPTY_TRIE_ROOT))) return;
    for await (const [k, v] of this.walk(await this.trie.lookupNode(root), [], toNibbles(prefix))) {
      if (k.length === 0 || k[k.length - 1] !== 0) throw new EnclaveError('ENCLAVE_SEAL_CORRUPT', 'A stored trie key does not end in the 0x00 terminator: the store was written by an incompatible build. Start from an empty data directory.', { details: { key: Buffer.from(k).toString('hex') } });
      yield [k.subarray(0, k.length - 1), v];
    }
  }

  /**
   * In-order walk of the subtree at `node` (reached by nibble path `path`), restricted to keys continuing with the
   * nibbles `want`. In a branch the value (a key ending there) precedes the children, which come in nibble order:
   * that is ascending byte order of the keys.
   */
  private async *walk(node: MPTNode, path: number[], want: number[]): AsyncGenerator<[Uint8Array, Uint8Array]> {
    if (node instanceof BranchMPTNode) {
      if (want.length === 0) {
        const v = node.value();
        if (v && v.length > 0) yield [fromNibbles(path), v];
        for (const [i, child] of node.getChildren()) yield* this.walk(await this.trie.lookupNode(child as Uint8Array), [...path, i], []);
      } else {
        const child = node.getBranch(want[0]!);
        if (child && child.length > 0) yield* this.walk(await this.trie.lookupNode(child as Uint8Array), [...path, want[0]!], want.slice(1));
      }
      return;
    }
    if (node instanceof ExtensionMPTNode || node instanceof LeafMPTNode) {
      const k = node.key();
      const n = Math.min(k.length, want.length);
      for (let i = 0; i < n; i++) if (k[i] !== want[i]) return;
      const rest = want.slice(n);
      const full = [...path, ...k];
      if (node instanceof LeafMPTNode) {
        if (rest.length === 0) yield [fromNibbles(full), node.value()];
        return;
      }
      yield* this.walk(await this.trie.lookupNode(node.value()), full, rest);
    }
  }
}

/** Changes StateTrie.apply applies between two turns of the event loop. */
const APPLY_YIELD_EVERY = 32;

/**
 * The trie key of encoded key `key`: `key || 0x00` (docs/protocol.md#state-root), so that no trie key is a prefix of
 * another (see StateTrie).
 */
export function trieKey(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

function toNibbles(b: Uint8Array): number[] {
  const out: number[] = [];
  for (const x of b) out.push(x >> 4, x & 15);
  return out;
}

function fromNibbles(n: readonly number[]): Uint8Array {
  const out = new Uint8Array(n.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (n[2 * i]! << 4) | n[2 * i + 1]!;
  return out;
}

/**
 * @ethereumjs/mpt's trie with node lookups served from the node database's decoded-node cache (SealedNodeDb.getRaw):
 * the same node objects (decodeRawMPTNode of the same RLP decoding) without decoding the node's bytes again on every
 * lookup. Inline (raw) nodes, and anything getRaw does not have, go through the library's own lookupNode, which also
 * raises its errors (a missing node, an invalid one).
 */
export class DecodedNodeTrie extends MerklePatriciaTrie {
  constructor(private readonly nodes: SealedNodeDb, opts: MPTOpts) {
    super(opts);
  }

  /**
   * The node `node` refers to (a 32-byte hash, or an inline node). A hash whose node is not stored throws
   * ENCLAVE_SEAL_CORRUPT: the library throws a plain "Missing node in DB" there, which its callers (findPath, the
   * sibling lookup of a delete) and ours (StateTrie.walk, warm) would otherwise pass on as an ordinary error, and a
   * handler that met it in an iteration would turn the host's removal of a record into an error output. Every node
   * a checked-out root reaches was written in one transaction with it, so a missing one was removed by the host.
   */
  override async lookupNode(node: Uint8Array | Uint8Array[]): Promise<MPTNode> {
    if (node instanceof Uint8Array && node.length === 32) {
      const key = Buffer.from(node.buffer, node.byteOffset, node.byteLength).toString('hex');
      const raw = this.nodes.getRaw(key);
      if (raw !== undefined) return decodeRawMPTNode(raw);
      if ((await this.nodes.get(key)) === undefined) throw missingNode(key);
    }
    return super.lookupNode(node);
  }

  /**
   * The library's findPath (the path from the root to `key`'s node: what get, put and del start from) as a plain
   * loop: the same result ({node, remaining, stack}, the same nodes in the same order) without the library's
   * WalkController, which schedules every step of a single-key walk as a queued task and a promise (about a fifth
   * of a batch's time on the enclave's main thread). Only the nodes' own accessors are used; no node is built,
   * encoded or hashed here. A resumed walk (partialPath) goes to the library. trie-findpath.test.ts checks it
   * against super.findPath on random tries.
   *
   * One deliberate difference: a node missing from the database throws ENCLAVE_SEAL_CORRUPT, whatever
   * `throwIfMissing` says. The library answers "no such key" there (it serves partial tries such as proofs), but a
   * version of this store is written whole in one transaction, so every node a checked-out root reaches is stored:
   * a missing one was removed by whoever holds the database, and reading on would turn a present key into an
   * absent one (a wrong answer, docs/security.md#host-inputs). The empty trie has no root node: no key, no error.
   */
  override async findPath(key: Uint8Array, throwIfMissing = false, partialPath: { stack: MPTNode[] } = { stack: [] }): Promise<Path> {
    if (partialPath.stack.length > 0) return super.findPath(key, throwIfMissing, partialPath);
    const stack: MPTNode[] = [];
    let ref: Uint8Array | Uint8Array[] = this.root();
    if (ref instanceof Uint8Array && Buffer.from(ref).equals(Buffer.from(this.EMPTY_TRIE_ROOT))) return { node: null, remaining: [], stack };
    const target = toNibbles(key);
    let at = 0; // nibbles of target matched so far
    try {
      for (;;) {
        const node = await this.lookupNode(ref);
        stack.push(node);
        if (node instanceof BranchMPTNode) {
          if (at === target.length) return { node, remaining: [], stack };
          const child = node.getBranch(target[at]!);
          if (!child) return { node: null, remaining: target.slice(at), stack };
          at++;
          ref = child;
        } else if (node instanceof LeafMPTNode) {
          const k = node.key();
          if (target.length - at > k.length) return { node: null, remaining: target.slice(at), stack };
          for (let i = 0; i < k.length; i++) if (k[i] !== target[at + i]) return { node: null, remaining: target.slice(at), stack };
          return { node, remaining: [], stack };
        } else {
          const k = node.key();
          for (let i = 0; i < k.length; i++) if (k[i] !== target[at + i]) return { node: null, remaining: target.slice(at), stack };
          at += k.length;
          ref = node.value();
        }
      }
    } catch (e) {
      if ((e as Error).message !== 'Missing node in DB') throw e;
      throw missingNode(ref instanceof Uint8Array ? Buffer.from(ref).toString('hex') : 'inline', e);
    }
  }
}

/** ENCLAVE_SEAL_CORRUPT for trie node `node` (64 hex, or "inline") missing from the state database. */
function missingNode(node: string, cause?: unknown): EnclaveError {
  return new EnclaveError('ENCLAVE_SEAL_CORRUPT', `Trie node ${node} is missing from the state database although the checked-out root needs it: a record was removed. Restore this enclave's data directory, or start from an empty one.`, { details: { node }, ...(cause === undefined ? {} : { cause }) });
}
