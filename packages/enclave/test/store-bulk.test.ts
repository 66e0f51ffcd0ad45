// The store's fast paths: the bulk loader (chunked, non-durable intermediate writes) gives exactly the root that the
// same pairs give through commits and through a fresh @ethereumjs/mpt (its own JS Keccak), an error midway leaves
// the store where it was; the WebAssembly Keccak is the same function as @noble/hashes'; the node cache counts
// per-entry overhead. The speed itself is measured by `npm run bench:state`, not here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createMPT } from '@ethereumjs/mpt';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, keccak256 as viemKeccak, toBytes } from 'viem';
import { SqliteBackend, StateStore, encodeKey, encodeValue, type KeyPart } from '../src/store/index.ts';
import { keccak256, keccakBackend, keccakReady } from '../src/store/keccak.ts';
import { ByteLru } from '../src/store/lru.ts';
import { tmpDir } from './helpers.ts';

const KEY = toBytes(viemKeccak(toBytes('store-bulk-test-key')));
const ID = toBytes(viemKeccak(toBytes('store-bulk-test-id')));
const codeOf = (e: unknown): string => (e as { code?: string }).code ?? String(e);
const open = (file: string, cacheBytes = 64 * 1024): StateStore => StateStore.open({ backend: new SqliteBackend(file), sealingKey: KEY, storeId: ID, cacheBytes });

let rnd = 4242;
const next = (n: number): number => ((rnd = (rnd * 48271) % 2147483647), rnd % n); // Park-Miller, exact in doubles

/** 1,200 pairs in shuffled order, of mixed key shapes, distinct values, and one key set twice (the later wins). */
function pairs(): [KeyPart[], unknown][] {
  const out: [KeyPart[], unknown][] = [];
  for (let i = 0; i < 1200; i++) out.push([['app', i % 3 === 0 ? 'acct' : 'item', i, ...(i % 7 === 0 ? [new Uint8Array([i & 0xff, 0])] : [])], { v: i, s: 'x'.repeat(i % 50) }]);
  for (let i = out.length - 1; i > 0; i--) {
    const j = next(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  out.push([out[10]![0], { v: 'overwritten' }]);
  return out;
}

/** The pairs' final contents (later duplicates win), as raw encoded key/value bytes. */
function finalContents(ps: [KeyPart[], unknown][]): Map<string, [Uint8Array, Uint8Array]> {
  const m = new Map<string, [Uint8Array, Uint8Array]>();
  for (const [k, v] of ps) m.set(Buffer.from(encodeKey(k)).toString('hex'), [encodeKey(k), encodeValue(v)]);
  return m;
}

test('bulk load: chunked shuffled input == the same pairs through commits == a fresh @ethereumjs/mpt, on an empty and on a non-empty store', async () => {
  await keccakReady;
  assert.equal(keccakBackend(), 'wasm', 'the store hashes with the WebAssembly Keccak once it is ready');
  const dir = tmpDir();
  const ps = pairs();
  const base: [KeyPart[], unknown][] = Array.from({ length: 200 }, (_, i) => [['app', 'acct', i * 3], { v: -i }]);
  for (const [name, pre] of [['empty', []], ['non-empty', base]] as const) {
    // 1. the bulk loader, chunks far smaller than the input (many intermediate non-durable writes)
    const bulk = open(join(dir, `bulk-${name}.db`));
    if (pre.length) await bulk.bulkLoad(pre);
    const n0 = bulk.versions().length;
    const bulkRoot = await bulk.bulkLoad(ps, 97);
    assert.equal(bulk.versions().length, n0 + 1, 'one version for the whole load');
    assert.equal(bulk.versions()[0]!.root, bulkRoot);
    // 2. the same pairs through ordinary commits (requests of at most REQUEST_WRITES_MAX writes, three batches)
    const viaCommits = open(join(dir, `commits-${name}.db`));
    if (pre.length) await viaCommits.bulkLoad(pre);
    for (let i = 0; i < ps.length; i += 400) {
      const b = viaCommits.begin();
      b.beginRequest();
      for (const [k, v] of ps.slice(i, i + 400)) b.namespace(k[0] as string).set(k.slice(1), v);
      b.commitRequest();
      await viaCommits.commit(b);
    }
    assert.equal(viaCommits.root(), bulkRoot, `${name}: bulk root == root through commits`);
    // 3. an independent MPT with @ethereumjs/mpt's default (noble) Keccak
    const t = await createMPT();
    for (const [k, v] of finalContents([...pre, ...ps]).values()) await t.put(Uint8Array.from([...k, 0]), v); // trie key = key || 0x00
    // (the MPT's root does not depend on insertion order, so the map's order is as good as any)
    assert.equal(bytesToHex(t.root()), bulkRoot, `${name}: bulk root == fresh @ethereumjs/mpt root`);
    // the loaded contents read back (the cache is far smaller than the trie: most reads go to SQLite)
    const contents = finalContents([...pre, ...ps]);
    let count = 0;
    for await (const [k, v] of bulk.begin().scan(new Uint8Array())) {
      const want = contents.get(Buffer.from(k).toString('hex'));
      assert.ok(want && Buffer.from(want[1]).equals(Buffer.from(v)));
      count++;
    }
    assert.equal(count, contents.size);
    bulk.close();
    viaCommits.close();
  }
});

test('bulk load: an error midway leaves the checked-out root and the versions as they were; the store keeps working', async () => {
  const dir = tmpDir();
  const s = open(join(dir, 'state.db'));
  const start = await s.bulkLoad([[['app', 'a'], 1]]);
  const versions = s.versions();
  function* bad(): Generator<[KeyPart[], unknown]> {
    for (let i = 0; i < 2500; i++) yield [['app', 'k', i], { v: i }];
    yield [['app', 'k', 2500], { v: 1n }]; // not plain JSON: ENCLAVE_STORE_VALUE after 5 chunks were written
  }
  await assert.rejects(s.bulkLoad(bad(), 500), (e) => codeOf(e) === 'ENCLAVE_STORE_VALUE');
  assert.equal(s.root(), start, 'back at the starting root');
  assert.deepEqual(s.versions(), versions, 'no version recorded');
  assert.equal(await s.begin().namespace('app').get(['k', 0]), undefined);
  await assert.rejects(s.bulkLoad([], 0), (e) => codeOf(e) === 'ENCLAVE_INTERNAL');
  // the store is still usable, and a reopen sees the same
  const b = s.begin();
  b.namespace('app').set(['b'], 2);
  const root = await s.commit(b);
  s.close();
  const again = open(join(dir, 'state.db'));
  assert.deepEqual(again.versions().map((v) => v.root), [root, start]);
  await again.checkout(root);
  assert.equal(await again.begin().namespace('app').get(['a']), 1);
  assert.equal(await again.begin().namespace('app').get(['k', 3]), undefined);
  again.close();
});

test('keccak256: the WebAssembly hasher equals @noble/hashes on every length up to 3 rate blocks and on a known digest', async () => {
  await keccakReady;
  assert.equal(keccakBackend(), 'wasm');
  assert.equal(Buffer.from(keccak256(new Uint8Array())).toString('hex'), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  for (let len = 0; len <= 3 * 136 + 1; len++) {
    const data = Uint8Array.from({ length: len }, (_, i) => (i * 31 + len) & 0xff);
    assert.deepEqual(keccak256(data), keccak_256(data), `length ${len}`);
  }
  const a = keccak256(new Uint8Array([1]));
  keccak256(new Uint8Array([2]));
  assert.deepEqual(a, keccak_256(new Uint8Array([1])), 'a returned digest is not overwritten by the next call');
});

test('node cache: each entry costs its bytes plus the per-entry overhead', () => {
  const c = new ByteLru(1000, 100);
  for (let i = 0; i < 10; i++) c.set(`k${i}`, new Uint8Array(0)); // 10 x (0 + 100)
  assert.equal(c.size, 1000);
  c.set('k10', new Uint8Array(0)); // over the bound: evicts down to 3/4
  assert.ok(c.size <= 750);
  assert.equal(c.get('k0'), undefined);
  assert.ok(c.get('k10'));
  c.delete('k10');
  assert.equal(c.get('k10'), undefined);
  c.set('big', new Uint8Array(901)); // 901 + 100 > 1000: not cached
  assert.equal(c.get('big'), undefined);
});
