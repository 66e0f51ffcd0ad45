// The store's decoded-node cache (SealedNodeDb.getRaw, used by the trie's lookupNode): the trie must never change a
// cached decoding in place (else a later lookup would build a node that is not the stored one), and a trie served from
// the cache must give the roots and values an independent, uncached @ethereumjs/mpt gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createMPT } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { keccak256, toBytes } from 'viem';
import { SqliteBackend } from '../src/store/index.ts';
import { SealedNodeDb } from '../src/store/node-db.ts';
import { StateTrie } from '../src/store/trie.ts';
import { keccakReady } from '../src/store/keccak.ts';
import { tmpDir } from './helpers.ts';

const KEY = toBytes(keccak256(toBytes('node-cache-test-key')));
const ID = toBytes(keccak256(toBytes('node-cache-test-store')));

test('decoded-node cache: cached decodings stay the stored nodes through puts and deletes; roots and values match an uncached MPT', async () => {
  await keccakReady;
  const backend = new SqliteBackend(join(tmpDir(), 'state.db'));
  // A small bound, so that entries are evicted and decoded again during the test too.
  const nodes = new SealedNodeDb(backend, KEY, ID, 256 * 1024);
  const trie = new StateTrie(nodes);
  const reference = await createMPT();
  const model = new Map<string, Uint8Array>();
  let rnd = 4242;
  const next = (n: number) => ((rnd = (rnd * 48271) % 2147483647), rnd % n); // Park-Miller, exact in doubles
  const keyOf = (i: number) => new Uint8Array([0x02, 0x61, 0x00, (i >> 8) & 0xff, i & 0xff, i % 7]); // shared prefixes: extensions, branches
  for (let batch = 0; batch < 25; batch++) {
    const changes = new Map<string, [Uint8Array, Uint8Array | null]>();
    for (let w = 0; w < 40; w++) {
      const k = keyOf(next(600));
      const v = next(6) === 0 ? null : toBytes(`v${batch}-${next(1_000_000)}`);
      changes.set(Buffer.from(k).toString('hex'), [k, v]);
    }
    const sorted = [...changes.values()].sort((a, b) => Buffer.compare(a[0], b[0]));
    const root = await trie.apply(sorted);
    const written = nodes.stats().nodesWritten;
    const puts = nodes.takeReachable(root);
    assert.equal(nodes.stats().nodesWritten - written, puts.length, 'nodesWritten counts the records takeReachable returns');
    assert.ok(puts.every(([k]) => k[0] === 0x6e && k.length === 33), 'each is a node record');
    backend.write(puts);
    for (const [k, v] of sorted) {
      const tk = Uint8Array.from([...k, 0]); // the trie key (trie.ts trieKey)
      if (v === null) { model.delete(Buffer.from(k).toString('hex')); await reference.del(tk); } else { model.set(Buffer.from(k).toString('hex'), v); await reference.put(tk, v); }
    }
    assert.equal(Buffer.from(root).toString('hex'), Buffer.from(reference.root()).toString('hex'), `batch ${batch}: root == uncached MPT`);
    let decoded = 0;
    for (const [h, raw] of nodes.decodedNodes()) {
      decoded++;
      assert.equal(Buffer.from(keccak256(RLP.encode(raw), 'bytes')).toString('hex'), h, `batch ${batch}: cached decoding of ${h} is still that node`);
    }
    assert.ok(decoded > 0, 'the cache is in use');
    for (let r = 0; r < 20; r++) {
      const k = keyOf(next(600));
      const want = model.get(Buffer.from(k).toString('hex'));
      const got = await trie.get(k);
      assert.equal(got === undefined ? undefined : Buffer.from(got).toString('hex'), want === undefined ? undefined : Buffer.from(want).toString('hex'));
    }
  }
  assert.ok(nodes.stats().cacheHits > 0);
  backend.close();
});

test('warm: a reopened store reads its upper trie levels breadth-first, up to the share of the cache bound asked, and serves them from memory afterwards', async () => {
  const { StateStore } = await import('../src/store/index.ts');
  const file = join(tmpDir(), 'state.db');
  const open = (cacheBytes: number) => StateStore.open({ backend: new SqliteBackend(file), sealingKey: KEY, storeId: ID, cacheBytes });
  const a = open(1 << 20);
  assert.equal(await a.warm(), 0, 'the empty trie has nothing to read');
  const root = await a.bulkLoad((function* () { for (let i = 0; i < 2000; i++) yield [['w', i], { v: i, pad: 'leaf nodes longer than 32 bytes are stored, not inlined' }] as const; })());
  a.close();

  // A cache that holds the whole trie: warm reads every node, then every key's path is in memory.
  const b = open(8 << 20);
  await b.checkout(root);
  const read = await b.warm(1);
  assert.ok(read > 2000, `read ${read} nodes: the 2,000 leaves and the branches above them`);
  const before = b.cacheStats();
  const batch = b.begin();
  for (let i = 0; i < 2000; i += 97) assert.equal((await batch.namespace('w').get<{ v: number }>([i]))?.v, i);
  assert.equal(b.cacheStats().backendReads, before.backendReads, 'no node read after warm went to SQLite');
  assert.equal(b.root(), root, 'warm does not move the checked-out root');
  b.close();

  // A small cache: warm stops at the share asked (one node past it at most) (breadth-first: the top levels).
  const c = open(256 * 1024);
  await c.checkout(root);
  const partial = await c.warm(0.25);
  const held = c.cacheStats().cachedBytes;
  assert.ok(partial > 0 && partial < read, `read ${partial} of ${read} nodes`);
  assert.ok(held >= 0.25 * 0.75 * 256 * 1024 && held < 0.25 * 0.75 * 256 * 1024 + 2048, `holds ${held} bytes against a budget of ${0.25 * 0.75 * 256 * 1024}`);
  await assert.rejects(c.warm(2), /ENCLAVE_INTERNAL|within \[0, 1\]/);
  c.close();
});
