// The state store: keys, overlay rollback, ordered iteration, roots (incremental == from scratch == independent
// recomputation), versions, sealed-record tampering and swapping. The crash test is in store-crash.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createMPT } from '@ethereumjs/mpt';
import fc from 'fast-check';
import { bytesToHex, keccak256, toBytes } from 'viem';
import { ROOT_ZERO } from '@geode/protocol';
import { REQUEST_WRITES_MAX, SqliteBackend, StateStore, TypedStore, decodeKey, encodeKey, encodeValue, KEY_MAX_BYTES, VALUE_MAX_BYTES, type KeyPart } from '../src/store/index.ts';
import { tmpDir } from './helpers.ts';

const KEY = toBytes(keccak256(toBytes('store-test-sealing-key')));
const ID_A = toBytes(keccak256(toBytes('store-a')));
const ID_B = toBytes(keccak256(toBytes('store-b')));
const codeOf = (e: unknown): string => (e as { code?: string }).code ?? String(e);

function openStore(file: string, storeId = ID_A): StateStore {
  return StateStore.open({ backend: new SqliteBackend(file), sealingKey: KEY, storeId, cacheBytes: 1 << 20 });
}

/** Root of `pairs` computed independently: a fresh in-memory @ethereumjs/mpt, docs/protocol.md#state-root. */
async function independentRoot(pairs: [KeyPart[], unknown][]): Promise<string> {
  if (pairs.length === 0) return ROOT_ZERO;
  const t = await createMPT();
  for (const [k, v] of pairs) await t.put(Uint8Array.from([...encodeKey(k), 0]), encodeValue(v)); // trie key = key || 0x00
  return bytesToHex(t.root());
}

async function all(store: StateStore, ns: string, prefix: KeyPart[] = []): Promise<[unknown[], unknown][]> {
  const out: [unknown[], unknown][] = [];
  for await (const e of store.begin().namespace(ns).entries(prefix)) out.push(e);
  return out;
}

test('key encoding: order-preserving, prefix-preserving, round-trips, refuses bad parts', () => {
  // Within a type: bytes and strings lexicographically, integers numerically; across types: bytes < strings < integers.
  const keys: KeyPart[][] = [['a'], ['a', new Uint8Array([0])], ['a', new Uint8Array([0, 0])], ['a', new Uint8Array([1])], ['a', 'x'], ['a', 'x', 'y'], ['a', 'xy'], ['a', 0], ['a', 1], ['a', 255], ['a', 256], ['a', 2n ** 64n - 1n], ['b']];
  const enc = keys.map(encodeKey);
  for (let i = 1; i < enc.length; i++) assert.ok(Buffer.compare(enc[i - 1]!, enc[i]!) < 0, `key ${i - 1} < key ${i}`);
  assert.ok(Buffer.from(encodeKey(['a', 'x', 'y'])).subarray(0, encodeKey(['a', 'x']).length).equals(encodeKey(['a', 'x'])));
  assert.deepEqual(decodeKey(encodeKey(['ns', 7, new Uint8Array([0, 255, 0]), 'é'])), ['ns', 7n, new Uint8Array([0, 255, 0]), 'é']);
  for (const bad of [[-1], [1.5], [2n ** 64n], ['\ud800'], [{}], ['x'.repeat(KEY_MAX_BYTES)]] as unknown as KeyPart[][]) {
    assert.throws(() => encodeKey(bad), (e) => codeOf(e) === 'ENCLAVE_STORE_KEY');
  }
  assert.throws(() => decodeKey(new Uint8Array([0x15, 0x00])), (e) => codeOf(e) === 'ENCLAVE_STORE_KEY'); // non-minimal integer
  assert.throws(() => encodeValue({ n: 1n }), (e) => codeOf(e) === 'ENCLAVE_STORE_VALUE');
  assert.throws(() => encodeValue('x'.repeat(VALUE_MAX_BYTES)), (e) => codeOf(e) === 'ENCLAVE_STORE_VALUE');
  assert.equal(Buffer.from(encodeValue({ b: [1, 'x'], a: null })).toString(), '{"a":null,"b":[1,"x"]}');
});

test('a key names a record: [] (the bare namespace, only a prefix) is refused by get, has, set and delete; entries([]) lists the namespace with full keys', async () => {
  const s = openStore(join(tmpDir(), 'state.db'));
  const b = s.begin();
  const kv = b.namespace('app');
  b.beginRequest();
  assert.throws(() => kv.set([], 1), (e) => codeOf(e) === 'ENCLAVE_STORE_KEY');
  assert.throws(() => kv.delete([]), (e) => codeOf(e) === 'ENCLAVE_STORE_KEY');
  await assert.rejects(kv.get([]), (e) => codeOf(e) === 'ENCLAVE_STORE_KEY');
  await assert.rejects(kv.has([]), (e) => codeOf(e) === 'ENCLAVE_STORE_KEY');
  kv.set(['a', 2], 'x');
  kv.set(['a'], 'prefix itself');
  b.commitRequest();
  const got: [unknown[], unknown][] = [];
  for await (const e of kv.entries([])) got.push(e);
  assert.deepEqual(got, [[['a'], 'prefix itself'], [['a', 2n], 'x']], 'full keys relative to the namespace, the prefix key included, integers as bigint');
  s.close();
});

test('a key that prefixes others survives deleting one of them (the trie library alone loses it: trie keys end in 0x00)', async () => {
  // ["x"] encodes to a prefix of ["x","a"] and ["x",1], which part at the next nibble: without the terminator ["x"]
  // is a branch node's value, which @ethereumjs/mpt 10.1.3 drops when a delete leaves that branch one child.
  const s = openStore(join(tmpDir(), 'state.db'));
  const pairs: [KeyPart[], unknown][] = [[['x'], 'parent'], [['x', 'a'], 'child a'], [['x', 1], 'child 1']];
  await s.bulkLoad(pairs.map(([k, v]) => [['app', ...k], v]));
  const b = s.begin();
  b.beginRequest();
  b.namespace('app').delete(['x', 'a']);
  b.commitRequest();
  const root = await s.commit(b);
  const kv = s.begin().namespace('app');
  assert.equal(await kv.get(['x']), 'parent', 'a key nobody deleted is still there after the commit');
  assert.deepEqual(await all(s, 'app'), [[['x'], 'parent'], [['x', 1n], 'child 1']]);
  assert.equal(root, await independentRoot([[['app', 'x'], 'parent'], [['app', 'x', 1], 'child 1']]));
  s.close();
});

test('property: random sets and deletes over keys that prefix one another, with refused requests, across batches: every read, the ordered iteration and the root equal a plain map\'s', async () => {
  const part = fc.oneof(fc.constantFrom('a', 'ab', '', 'b'), fc.constantFrom(0, 1, 9, 10, 255, 256), fc.constantFrom(new Uint8Array([0]), new Uint8Array([0, 0]), new Uint8Array([1]), new Uint8Array([255]), new Uint8Array([])));
  const op = fc.record({ key: fc.array(part, { minLength: 1, maxLength: 3 }), del: fc.boolean(), v: fc.nat(1000) });
  const request = fc.record({ ops: fc.array(op, { maxLength: 8 }), refused: fc.boolean() });
  const dir = tmpDir();
  let n = 0;
  await fc.assert(fc.asyncProperty(fc.array(fc.array(request, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }), async (batches) => {
    const s = openStore(join(dir, `p${n++}.db`));
    const model = new Map<string, [KeyPart[], unknown]>();
    const id = (k: KeyPart[]) => Buffer.from(encodeKey(k)).toString('hex');
    for (const reqs of batches) {
      const b = s.begin();
      const kv = b.namespace('app');
      for (const r of reqs) {
        b.beginRequest();
        const next = new Map(model);
        for (const o of r.ops) {
          if (o.del) { kv.delete(o.key); next.delete(id(o.key)); } else { kv.set(o.key, o.v); next.set(id(o.key), [o.key, o.v]); }
        }
        if (r.refused) b.dropRequest();
        else { b.commitRequest(); model.clear(); for (const [k, e] of next) model.set(k, e); }
      }
      const root = await s.commit(b);
      const sorted = [...model.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, e]) => e);
      const view = s.begin().namespace('app');
      for (const [k, v] of sorted) assert.equal(await view.get(k), v, `key ${id(k)} reads its value`);
      assert.deepEqual((await all(s, 'app')).map(([k, v]) => [Buffer.from(encodeKey(k as KeyPart[])).toString('hex'), v]), sorted.map(([k, v]) => [id(k), v]), 'ordered iteration == the model in key order');
      assert.equal(root, await independentRoot(sorted.map(([k, v]) => [['app', ...k], v])), 'root == recomputed from scratch');
    }
    s.close();
  }), { numRuns: 60 });
});

test('overlay: a refused request drops its writes, a successful one joins the batch; reads see the layers in order', async () => {
  const s = openStore(join(tmpDir(), 'state.db'));
  await s.bulkLoad([[['app', 'k1'], 1], [['app', 'k2'], 2]]);
  const base = s.root();
  const b = s.begin();
  const kv = b.namespace('app');
  b.beginRequest();
  kv.set(['k1'], 10);
  kv.delete(['k2']);
  kv.set(['k3'], 30);
  assert.equal(await kv.get(['k1']), 10);
  assert.equal(await kv.has(['k2']), false);
  b.dropRequest(); // refused
  b.beginRequest();
  assert.equal(await kv.get(['k1']), 1, 'the refused request left nothing behind');
  assert.equal(await kv.has(['k2']), true);
  assert.equal(await kv.has(['k3']), false);
  const obj = { v: 1 };
  kv.set(['k4'], obj);
  obj.v = 2; // set() encoded the value: mutating it afterwards changes nothing
  b.commitRequest();
  b.beginRequest();
  assert.deepEqual(await kv.get(['k4']), { v: 1 });
  b.commitRequest();
  // A request writing more than REQUEST_WRITES_MAX distinct keys is stopped (rewriting a key it wrote is fine).
  b.beginRequest();
  for (let i = 0; i < REQUEST_WRITES_MAX; i++) kv.set(['many', i], i);
  kv.set(['many', 0], 'again');
  assert.throws(() => kv.set(['many', REQUEST_WRITES_MAX], 0), (e) => codeOf(e) === 'ENCLAVE_STORE_LIMIT');
  b.dropRequest();
  assert.equal(s.root(), base, 'nothing reaches the trie before commit');
  assert.deepEqual(b.changes().map(([k]) => decodeKey(k)), [['app', 'k4']]);
  const root = await s.commit(b);
  assert.equal(root, await independentRoot([[['app', 'k1'], 1], [['app', 'k2'], 2], [['app', 'k4'], { v: 1 }]]));
  s.close();
});

test('ordered iteration over a prefix merges the trie with the overlays, deterministically', async () => {
  const s = openStore(join(tmpDir(), 'state.db'));
  const pairs: [KeyPart[], unknown][] = [];
  for (let i = 0; i < 300; i++) pairs.push([['app', 'bal', (i * 7919) % 1000], i]);
  pairs.push([['app', 'bal'], 'the collection key itself'], [['app', 'other', 1], 'x'], [['app2', 'bal', 1], 'other namespace']);
  await s.bulkLoad(pairs, 64);
  const b = s.begin();
  const kv = b.namespace('app');
  b.beginRequest();
  kv.delete(['bal', 7919 % 1000]);
  kv.set(['bal', 1000], 'new');
  kv.set(['bal', 5], 'five'); // 5 is not among the loaded keys? (i*7919 % 1000 covers 300 residues)
  const seen: unknown[][] = [];
  for await (const [k] of kv.entries(['bal'])) seen.push(k);
  const expected = new Set(pairs.filter(([k]) => k[0] === 'app' && k[1] === 'bal' && k.length === 3).map(([k]) => BigInt(k[2] as number)));
  expected.delete(BigInt(7919 % 1000));
  expected.add(1000n).add(5n);
  const ids = [...expected].sort((x, y) => (x < y ? -1 : 1));
  assert.deepEqual(seen, [['bal'], ...ids.map((i) => ['bal', i])], 'the key [bal] first, then integers in numeric order');
  const limited: unknown[][] = [];
  for await (const [k] of kv.entries(['bal'], { limit: 3 })) limited.push(k);
  assert.deepEqual(limited, seen.slice(0, 3));
  b.commitRequest();
  await s.commit(b);
  // A second instance with the same contents iterates identically.
  const s2 = openStore(join(tmpDir(), 'state.db'), ID_B);
  const b2 = s2.begin();
  b2.beginRequest();
  for await (const [k, v] of s.begin().namespace('app').entries([])) b2.namespace('app').set(k as KeyPart[], v);
  b2.namespace('app2').set(['bal', 1], 'other namespace');
  b2.commitRequest();
  assert.equal(await s2.commit(b2), s.root());
  assert.deepEqual(await all(s2, 'app'), await all(s, 'app'));
  s.close();
  s2.close();
});

test('root: incremental over many batches == recomputed from scratch == independent MPT; old versions stay readable', async () => {
  const s = openStore(join(tmpDir(), 'state.db'));
  const model = new Map<string, [KeyPart[], unknown]>();
  let rnd = 12345;
  const next = (n: number) => ((rnd = (rnd * 48271) % 2147483647), rnd % n); // Park-Miller, exact in doubles
  const roots: { root: string; snapshot: [KeyPart[], unknown][] }[] = [];
  for (let batch = 0; batch < 12; batch++) {
    const b = s.begin();
    const kv = b.namespace('app');
    for (let r = 0; r < 10; r++) {
      b.beginRequest();
      const keep = next(4) !== 0;
      const local = new Map(model);
      for (let w = 0; w < 5; w++) {
        const k: KeyPart[] = ['c', next(60), next(2) ? 'x' : new Uint8Array([next(3)])];
        const id = JSON.stringify(k.map(String));
        if (next(5) === 0) { kv.delete(k); local.delete(id); } else { const v = { n: next(1000) }; kv.set(k, v); local.set(id, [['app', ...k], v]); }
      }
      if (keep) { b.commitRequest(); for (const [k, v] of local) model.set(k, v); for (const k of [...model.keys()]) if (!local.has(k)) model.delete(k); } else b.dropRequest();
    }
    const root = await s.commit(b);
    roots.push({ root, snapshot: [...model.values()] });
    // Ordered iteration == the model sorted by encoded key.
    const want = [...model.values()].sort((x, y) => Buffer.compare(encodeKey(x[0]), encodeKey(y[0]))).map(([k, v]) => [Buffer.from(encodeKey(k)).toString('hex'), v]);
    const got = (await all(s, 'app')).map(([k, v]) => [Buffer.from(encodeKey(['app', ...(k as KeyPart[])])).toString('hex'), v]);
    assert.deepEqual(got, want, `batch ${batch}: iteration matches the model`);
  }
  const last = roots.at(-1)!;
  assert.equal(last.root, await independentRoot(last.snapshot), 'incremental root == independent recomputation');
  const fresh = openStore(join(tmpDir(), 'fresh.db'));
  assert.equal(await fresh.bulkLoad(last.snapshot), last.root, 'bulk-loaded from scratch, same root');
  fresh.close();
  // Switch back to an older committed root: its values are there, unchanged.
  const old = roots[4]!;
  await s.checkout(old.root as `0x${string}`);
  const got = await all(s, 'app');
  assert.equal(got.length, old.snapshot.length);
  assert.equal(await independentRoot(got.map(([k, v]) => [['app', ...(k as KeyPart[])], v])), old.root);
  assert.deepEqual(s.versions().map((v) => v.root), roots.map((r) => r.root).reverse());
  await assert.rejects(s.checkout(keccak256(toBytes('never written'))), (e) => codeOf(e) === 'ENCLAVE_STORE_MISSING_ROOT');
  await s.checkout(ROOT_ZERO);
  assert.equal(s.root(), ROOT_ZERO);
  assert.deepEqual(await all(s, 'app'), []);
  s.close();
});

test('sealed records: tampering, swapping between keys and between stores are refused', async () => {
  const dir = tmpDir();
  const fill = async (file: string, id: Uint8Array) => {
    const st = openStore(file, id);
    const pairs: [KeyPart[], unknown][] = Array.from({ length: 50 }, (_, i) => [['app', i], { v: i, pad: 'p'.repeat(40) }]);
    const root = await st.bulkLoad(pairs);
    st.close();
    return root;
  };
  const fa = join(dir, 'a.db');
  const fb = join(dir, 'b.db');
  await fill(fa, ID_A);
  await fill(fb, ID_B); // same contents, same sealing key, another store identity
  const nodeRecords = (file: string) => Array.from(new SqliteBackend(file).scan(new Uint8Array([0x6e])));
  const readAll = async (file: string, id = ID_A) => {
    const st = openStore(file, id);
    try {
      await st.checkout(st.versions()[0]!.root);
      return await all(st, 'app');
    } finally {
      st.close();
    }
  };
  assert.equal((await readAll(fa)).length, 50);

  const host = new SqliteBackend(fa); // the host: full control of the untrusted database
  const recs = nodeRecords(fa);
  assert.ok(recs.length > 3);
  // The root node and one of its children are read by every full iteration.
  const rootHex = (await (async () => { const st = openStore(fa); const r = st.versions()[0]!.root; st.close(); return r; })()).slice(2);
  const i0 = recs.findIndex(([k]) => Buffer.from(k.subarray(1)).toString('hex') === rootHex);
  assert.ok(i0 >= 0);
  // 1. flip one ciphertext byte of the root node
  const [k0, v0] = recs[i0]!;
  const flipped = Uint8Array.from(v0);
  flipped[flipped.length - 1]! ^= 1;
  host.write([[k0, flipped]]);
  await assert.rejects(readAll(fa), (e) => codeOf(e) === 'ENCLAVE_SEAL_CORRUPT');
  host.write([[k0, v0]]);
  assert.equal((await readAll(fa)).length, 50, 'restored record reads again');
  // 2. swap two node records between keys
  const [k1, v1] = recs[(i0 + 1) % recs.length]!;
  host.write([[k0, v1], [k1, v0]]);
  await assert.rejects(readAll(fa), (e) => codeOf(e) === 'ENCLAVE_SEAL_CORRUPT');
  host.write([[k0, v0], [k1, v1]]);
  // 3. copy the same node (same key, same plaintext) from another store
  const fromB = new Map(nodeRecords(fb).map(([k, v]) => [Buffer.from(k).toString('hex'), v]));
  host.write(recs.map(([k]) => [k, fromB.get(Buffer.from(k).toString('hex'))!] as const));
  await assert.rejects(readAll(fa), (e) => codeOf(e) === 'ENCLAVE_SEAL_CORRUPT');
  host.close();
  // 4. another store's whole database is refused at open
  assert.throws(() => openStore(fb, ID_A), (e) => codeOf(e) === 'ENCLAVE_SEAL_CORRUPT');
  // 5. a version record dropped by the host: that root can no longer be checked out
  const hb = new SqliteBackend(fb);
  const [vk] = Array.from(hb.scan(new Uint8Array([0x76])))[0]!;
  hb.write([], [vk]);
  hb.close();
  const sb = openStore(fb, ID_B);
  await assert.rejects(sb.checkout(bytesToHex(vk.subarray(1))), (e) => codeOf(e) === 'ENCLAVE_STORE_MISSING_ROOT');
  sb.close();
});

test('a node record removed by the host: reads refuse with ENCLAVE_SEAL_CORRUPT, never an absent key', async () => {
  const file = join(tmpDir(), 'state.db');
  const st = openStore(file);
  const root = await st.bulkLoad(Array.from({ length: 200 }, (_, i) => [['app', i], { v: i, pad: 'p'.repeat(40) }] as [KeyPart[], unknown]));
  st.close();
  // Remove one node record that is not the root (checkout checks the root node, so this passes it).
  const host = new SqliteBackend(file);
  const nodes = Array.from(host.scan(new Uint8Array([0x6e]))).filter(([k]) => Buffer.from(k.subarray(1)).toString('hex') !== root.slice(2));
  host.write([], [nodes[Math.floor(nodes.length / 2)]![0]]);
  host.close();
  const s2 = openStore(file);
  await s2.checkout(root);
  // Some key's path crosses the removed node: a full read refuses instead of answering "absent" for it.
  const b = s2.begin();
  const kv = b.namespace('app');
  let refused = 0;
  for (let i = 0; i < 200; i++) {
    try {
      assert.deepEqual(await kv.get([i]), { v: i, pad: 'p'.repeat(40) }, `key ${i} reads its value or refuses`);
    } catch (e) {
      assert.equal(codeOf(e), 'ENCLAVE_SEAL_CORRUPT');
      refused++;
    }
  }
  assert.ok(refused > 0, 'the removed node was on some key\'s path');
  // An ordered iteration over the gap refuses too (the trie library alone throws a plain "Missing node in DB").
  await assert.rejects(all(s2, 'app'), (e) => codeOf(e) === 'ENCLAVE_SEAL_CORRUPT');
  // Deleting every key, one batch each: a delete whose path (or whose sibling lookup) crosses the gap refuses its
  // commit with ENCLAVE_SEAL_CORRUPT, and the store goes on working after it: the next commits neither hang (the
  // library's put and del keep their lock after a throw) nor change the checked-out root.
  let refusedDeletes = 0;
  for (let i = 0; i < 200; i++) {
    const d = s2.begin();
    d.beginRequest();
    d.namespace('app').delete([i]);
    d.commitRequest();
    try {
      await s2.commit(d);
    } catch (e) {
      assert.equal(codeOf(e), 'ENCLAVE_SEAL_CORRUPT');
      assert.equal(s2.root(), root, 'a refused commit leaves the store at its root');
      refusedDeletes++;
    }
    await s2.checkout(root);
  }
  assert.ok(refusedDeletes > 0, 'some delete crossed the removed node');
  assert.equal(refusedDeletes, refused, 'exactly the keys whose reads refused');
  s2.close();
});

test('a page of the database file damaged by the host: every read returns its value or refuses with ENCLAVE_SEAL_CORRUPT, never SQLite\'s own error', async () => {
  const file = join(tmpDir(), 'state.db');
  const st = openStore(file);
  const value = (i: number) => ({ v: i, pad: 'p'.repeat(40) });
  const root = await st.bulkLoad(Array.from({ length: 3000 }, (_, i) => [['app', i], value(i)] as [KeyPart[], unknown]));
  st.close();
  // One 4 KiB B-tree page in the middle of the file overwritten behind SQLite's back (the enclave not running).
  const page = 4096;
  const at = Math.floor(statSync(file).size / page / 2) * page;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(page, 0x5a), 0, page, at);
  closeSync(fd);
  const s2 = StateStore.open({ backend: new SqliteBackend(file), sealingKey: KEY, storeId: ID_A, cacheBytes: 1 << 16 });
  await s2.checkout(root);
  const kv = s2.begin().namespace('app');
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    try {
      assert.deepEqual(await kv.get([i]), value(i));
    } catch (e) {
      // SQLite's SqliteError (code SQLITE_CORRUPT) is no store fault: a handler could catch it and make it an outcome.
      assert.equal(codeOf(e), 'ENCLAVE_SEAL_CORRUPT', `key ${i}: ${String(e)}`);
      refused++;
    }
  }
  assert.ok(refused > 0, 'the damaged page held records some reads need');
  await assert.rejects(all(s2, 'app'), (e) => codeOf(e) === 'ENCLAVE_SEAL_CORRUPT');
  s2.close();
  // The backend's own scan, which crosses the page, raises the same code while iterating.
  const host = new SqliteBackend(file);
  assert.throws(() => Array.from(host.scan(new Uint8Array([0x6e]))), (e) => codeOf(e) === 'ENCLAVE_SEAL_CORRUPT');
  host.close();
});

test('TypedStore: a collection with a parser', async () => {
  const s = openStore(join(tmpDir(), 'state.db'));
  const b = s.begin();
  const balances = new TypedStore<number, [string]>(b.namespace('bank'), 'balances', (v) => {
    if (typeof v !== 'number') throw new TypeError('balance must be a number');
    return v;
  });
  b.beginRequest();
  balances.set(['alice'], 5);
  balances.set(['bob'], 7);
  b.namespace('bank').set(['balances', 'eve'], 'not a number');
  assert.equal(await balances.get(['alice']), 5);
  await assert.rejects(balances.get(['eve']), TypeError);
  const names: unknown[] = [];
  for await (const [k] of balances.entries([], { limit: 2 })) names.push(k[0]);
  assert.deepEqual(names, ['alice', 'bob']);
  b.commitRequest();
  s.close();
});

test('node cache: bounded by bytes, evicts the least recently used first', async () => {
  const { ByteLru } = await import('../src/store/lru.ts');
  const c = new ByteLru(1000);
  const v = (n: number) => new Uint8Array(n);
  for (let i = 0; i < 10; i++) c.set(`k${i}`, v(100));
  assert.equal(c.size, 1000);
  assert.ok(c.get('k0')); // k0 is now the most recently used
  c.set('k10', v(100)); // over the bound: evicts down to 3/4, oldest first
  assert.ok(c.size <= 1000 && c.size >= 700);
  assert.ok(c.get('k0'), 'recently used entry kept');
  assert.equal(c.get('k1'), undefined, 'least recently used entry evicted');
  c.set('huge', v(2000));
  assert.equal(c.get('huge'), undefined, 'an entry larger than the bound is not cached');
});
