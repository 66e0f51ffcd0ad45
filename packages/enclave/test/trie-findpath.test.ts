// The store's findPath (trie.ts DecodedNodeTrie: a plain loop in place of @ethereumjs/mpt's WalkController) gives
// exactly what the library's own findPath gives: the same node, the same remaining nibbles and the same stack, on
// tries shaped to have every node kind (branches with values, extensions, inline children), for keys that are
// present, absent, prefixes of present keys and extensions of them. A missing node is ENCLAVE_SEAL_CORRUPT (lookupNode),
// not an absent key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { MerklePatriciaTrie, createMPT, type MPTNode, type Path } from '@ethereumjs/mpt';
import { keccak256, toBytes } from 'viem';
import { SqliteBackend } from '../src/store/index.ts';
import { SealedNodeDb } from '../src/store/node-db.ts';
import { DecodedNodeTrie } from '../src/store/trie.ts';
import { keccak256 as keccakBytes, keccakReady } from '../src/store/keccak.ts';
import { tmpDir } from './helpers.ts';

const KEY = toBytes(keccak256(toBytes('findpath-test')));
const ID = toBytes(keccak256(toBytes('findpath-store')));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const shape = (p: Path) => ({ node: p.node ? hex(p.node.serialize()) : null, remaining: [...p.remaining], stack: p.stack.map((n: MPTNode) => hex(n.serialize())) });

async function trieWith(pairs: [Uint8Array, Uint8Array][], dir: string, name: string): Promise<DecodedNodeTrie> {
  await keccakReady;
  const nodes = new SealedNodeDb(new SqliteBackend(join(dir, `${name}.db`)), KEY, ID, 1 << 20);
  const t = new DecodedNodeTrie(nodes, { db: nodes, valueEncoding: 'view', useKeyHashingFunction: keccakBytes });
  for (const [k, v] of pairs) await t.put(k, v);
  return t;
}

// Short keys over a 3-letter alphabet (0x12, 0x1f, 0x52: first nibbles 1 and 5, second 2 and f) give shared
// prefixes, branch values (a key that is a prefix of another), extensions, branches with empty slots and small
// inline nodes; values of 1..40 bytes give both inline and hashed children. Probes are any bytes.
const LETTERS = [0x12, 0x1f, 0x52];
const keyArb = fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => b.map((x) => LETTERS[x % 3]!));
const pairsArb = fc.array(fc.tuple(keyArb, fc.uint8Array({ minLength: 1, maxLength: 40 })), { minLength: 1, maxLength: 40 });

test('findPath equals the library findPath: present, absent, prefix and extended keys', async () => {
  const dir = tmpDir();
  let n = 0;
  await fc.assert(fc.asyncProperty(pairsArb, fc.array(fc.oneof(keyArb, fc.uint8Array({ minLength: 1, maxLength: 5 })), { maxLength: 20 }), async (pairs, probes) => {
    const t = await trieWith(pairs, dir, `t${n++}`);
    // The root is the one a fresh stock trie gives for the same puts: put went through the new findPath.
    const stock = await createMPT();
    for (const [k, v] of pairs) await stock.put(k, v);
    assert.equal(hex(t.root()), hex(stock.root()));
    const keys = [...pairs.map(([k]) => k), ...probes, ...pairs.map(([k]) => k.subarray(0, k.length - 1)), ...pairs.map(([k]) => Uint8Array.from([...k, 0x12]))];
    for (const k of keys) {
      for (const miss of [false, true]) {
        const ours = await t.findPath(k, miss);
        const lib = await MerklePatriciaTrie.prototype.findPath.call(t, k, miss);
        assert.deepEqual(shape(ours), shape(lib), `key ${hex(k)}`);
      }
    }
    // Deletes go through it too: delete half the keys, the root equals the stock trie's after the same deletes.
    for (const [k] of pairs.filter((_, i) => i % 2 === 0)) {
      await t.del(k);
      await stock.del(k);
    }
    assert.equal(hex(t.root()), hex(stock.root()));
  }), { numRuns: 60 });
});

test('findPath with a missing node: ENCLAVE_SEAL_CORRUPT (where the library answers "no such key"); the empty trie answers no key', async () => {
  const t = await trieWith([[Uint8Array.of(1, 2), Uint8Array.of(3)], [Uint8Array.of(1, 3), new Uint8Array(40).fill(7)]], tmpDir(), 'm');
  t.root(toBytes(keccak256(toBytes('a root nobody stored'))));
  const k = Uint8Array.of(1, 2);
  // The stock library over the same node database turns the missing node into an absent key (the wrong answer
  // the store refuses), or into a plain Error with throwIfMissing.
  const stock = new MerklePatriciaTrie({ db: t.database().db, valueEncoding: 'view', useKeyHashingFunction: keccakBytes, root: t.root() });
  assert.deepEqual(shape(await stock.findPath(k)), { node: null, remaining: [], stack: [] });
  await assert.rejects(stock.findPath(k, true), /Missing node in DB/);
  const corrupt = (e: { code?: string }) => e.code === 'ENCLAVE_SEAL_CORRUPT';
  for (const miss of [false, true]) await assert.rejects(t.findPath(k, miss), corrupt);
  await assert.rejects(t.get(k), corrupt);
  // Every other way into the missing node refuses as well: the library's own walk over our lookupNode, a direct lookup.
  for (const miss of [false, true]) await assert.rejects(MerklePatriciaTrie.prototype.findPath.call(t, k, miss), corrupt);
  await assert.rejects(t.lookupNode(t.root()), corrupt);
  const empty = await trieWith([], tmpDir(), 'e');
  assert.deepEqual(shape(await empty.findPath(k)), { node: null, remaining: [], stack: [] });
  assert.equal(await empty.get(k), null);
});
