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
    backend.write(nodes.takeReachable(root));
    for (const [k, v] of sorted) {
      if (v === null) { model.delete(Buffer.from(k).toString('hex')); await reference.del(k); } else { model.set(Buffer.from(k).toString('hex'), v); await reference.put(k, v); }
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
