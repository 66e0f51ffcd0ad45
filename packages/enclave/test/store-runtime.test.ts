// The authenticated store at the runtime (docs/enclave.md#store, docs/protocol.md#state-root): the state root is the
// MPT over the decoded pairs, recomputed from scratch; iteration is ordered; a refused request's writes are dropped;
// tampered or swapped sealed records refuse the batch (even when a handler swallows the error) and change nothing;
// versions keep the proven root however many uncommitted siblings follow it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMPT, createMerkleProof } from '@ethereumjs/mpt';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, type Hex } from 'viem';
import { GeodeError, ROOT_ZERO, keyIdOf } from '@geode/protocol';
import type { EnclaveApp } from '../src/app.ts';
import { EnclaveError } from '../src/errors.ts';
import { EnclaveRuntime } from '../src/runtime.ts';
import { FRAMEWORK_KEYS } from '../src/state.ts';
import { stateDbName } from '../src/lineage.ts';
import { SqliteBackend, decodeKey, decodeValue, encodeKey } from '../src/store/index.ts';
import { counterApp } from './fixtures/counter-app.ts';
import { User, batchParams, fakePlatform, publicPayload, rootOfPairs, setup, testConfig } from './helpers.ts';

type BatchResult = { from: string; to: string; accTo: Hex; newRoot: Hex; outputs: Hex };

const pairsOf = async (rt: EnclaveRuntime): Promise<[Uint8Array, Uint8Array][]> => {
  const out: [Uint8Array, Uint8Array][] = [];
  for await (const p of rt.entries()) out.push(p);
  return out;
};

const digest = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));

/** A test app: "sneaky" private requests read ["x"] and swallow any error; "note" public requests store ctx.block. */
const sneakyApp: EnclaveApp = {
  name: 'sneaky',
  onPublic(kind, body, ctx) {
    if (kind === 'seed') ctx.store.set(['x'], 'v'.repeat(200)); // a stored (not inlined) leaf
    else ctx.store.set(['block', ctx.seq], { number: ctx.block.number.toString(), timestamp: ctx.block.timestamp.toString() });
    ctx.emit(ctx.sender, { ok: bytesToHex(body) });
  },
  async onPrivate(request, ctx) {
    try {
      // {op: "iterate"} reads ["x"] through an ordered iteration, any other op through get.
      if ((JSON.parse(new TextDecoder().decode(request)) as { op?: string }).op === 'iterate') for await (const _ of ctx.store.entries([])) void _;
      else await ctx.store.get(['x']);
      ctx.emit(ctx.sender, 'read');
    } catch {
      ctx.emit(ctx.sender, 'swallowed'); // must never become an outcome
    }
  },
};

test('state root: the runtime root is the MPT over its raw pairs recomputed from scratch; the pairs decode to the documented keys', async () => {
  const { chain, rt, keys } = await setup(counterApp);
  assert.equal(rt.stateRoot, ROOT_ZERO);
  assert.deepEqual(await pairsOf(rt), [], 'the empty store is the initial state');
  const alice = await User.make('alice');
  chain.submit(alice.address, alice.registerPayload());
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc', by: 2 }));
  const { params } = await batchParams(chain, 1, 2);
  const r = (await rt.handle('processBatch', params)) as BatchResult;
  const pairs = await pairsOf(rt);
  assert.equal(await rootOfPairs(pairs), r.newRoot, 'from-scratch root == incremental root');
  const decoded = pairs.map(([k, v]) => [decodeKey(k).map((p) => (p instanceof Uint8Array ? bytesToHex(p) : p)), decodeValue(v)]);
  assert.deepEqual(decoded, [
    [['counter', 'count', alice.address], 2],
    [['counter', 'log', 2n], '2:inc'],
    [['geode', 'keyId'], keyIdOf(keys.encPubKey, keys.signer)],
    [['geode', 'lastAcc'], r.accTo],
    [['geode', 'lastSeq'], '2'],
    [['geode', 'outputKey', alice.address], bytesToHex(alice.outputKey.publicKey)],
  ]);
  // Any change of any pair changes the root.
  const changed = pairs.map(([k, v], i) => [k, i === 4 ? new TextEncoder().encode('"3"') : v] as [Uint8Array, Uint8Array]);
  assert.notEqual(await rootOfPairs(changed), r.newRoot);
});

test('ordered iteration at the runtime: integer key parts come back in numeric order (9 before 10), writes of the batch included', async () => {
  const { chain, rt } = await setup(counterApp);
  const alice = await User.make('alice');
  for (let i = 0; i < 12; i++) chain.submit(alice.address, publicPayload('note', `0x${i.toString(16).padStart(2, '0')}`));
  const { params } = await batchParams(chain, 1, 12);
  await rt.handle('processBatch', params);
  const seqs: bigint[] = [];
  for await (const [k] of rt.appView().entries(['log'])) seqs.push(k[1] as bigint);
  assert.deepEqual(seqs, Array.from({ length: 12 }, (_, i) => BigInt(i + 1)));
});

test('overlay rollback at the runtime: a refused request leaves no key behind, and the next request in the batch does not see its writes', async () => {
  const { chain, rt, keys } = await setup(counterApp);
  const alice = await User.make('alice');
  chain.submit(alice.address, alice.registerPayload());
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'refuse' }));
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'crash' }));
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { params } = await batchParams(chain, 1, 4);
  const r = (await rt.handle('processBatch', params)) as BatchResult;
  const view = rt.appView();
  assert.equal(await view.has(['log', 2n]), false, 'refused (GeodeError): its log write is dropped');
  assert.equal(await view.has(['log', 3n]), false, 'failed (exception): its log write is dropped');
  assert.equal(await view.get(['log', 4n]), '4:inc');
  const msgs = await alice.read(r.outputs, 1n);
  assert.deepEqual(msgs.map((m) => (m.ok ? (m.message as { count?: number }).count ?? 'ok' : m.error.code)), ['ok', 'APP_REFUSED', 'ENCLAVE_HANDLER_FAILED', 1]);
});

test('ctx.block is the verified header of the batch: number and timestamp', async () => {
  const { chain, rt } = await setup(sneakyApp);
  const alice = await User.make('alice');
  chain.submit(alice.address, publicPayload('note', '0x01'));
  const { blk, params } = await batchParams(chain, 1, 1);
  await rt.handle('processBatch', params);
  assert.deepEqual(await rt.appView().get(['block', 1n]), { number: blk.number.toString(), timestamp: (1_700_000_000n + blk.number).toString() });
});

test('the app name "geode" is the framework namespace: refused (ENCLAVE_BAD_APP)', () => {
  assert.throws(() => new EnclaveRuntime({ ...counterApp, name: 'geode' }, { dataDir: '/nonexistent', platform: fakePlatform }), (e) => e instanceof GeodeError && e.code === 'ENCLAVE_BAD_APP');
});

/** A committed state of `app` (alice's key registration, then `payloads`), the runtime closed (the process gone). */
/** A runtime of `app` (setup) with alice's output-key registration submitted as request 1. */
async function withAlice(app: EnclaveApp) {
  const ctx = await setup(app);
  const alice = await User.make('alice');
  ctx.chain.submit(alice.address, alice.registerPayload());
  return { ...ctx, alice };
}

async function committedThenClosed(app: EnclaveApp, payloads: (alice: User, encPubKey: Hex) => Promise<Hex[]>) {
  const { alice, ...ctx } = await withAlice(app);
  for (const p of await payloads(alice, ctx.keys.encPubKey)) ctx.chain.submit(alice.address, p);
  const { params } = await batchParams(ctx.chain, 1, ctx.chain.log.length);
  const r = (await ctx.rt.handle('processBatch', params)) as BatchResult;
  ctx.chain.commit(BigInt(r.to), r.newRoot);
  const pairs = await pairsOf(ctx.rt);
  ctx.rt.close();
  return { ...ctx, alice, r, pairs, db: join(ctx.dataDir, stateDbName(keyIdOf(ctx.keys.encPubKey, ctx.keys.signer))) };
}

async function restarted(dataDir: string, app: EnclaveApp): Promise<EnclaveRuntime> {
  const rt = new EnclaveRuntime(app, { dataDir, platform: fakePlatform, log: () => {} });
  await rt.handle('init', { config: testConfig() });
  return rt;
}

/** Sealed node records ("n" || hash) of a state database, by hash (hex), read as the host can (the enclave closed). */
function nodeRecords(db: string): Map<string, Uint8Array> {
  const host = new SqliteBackend(db);
  try {
    return new Map(Array.from(host.scan(new Uint8Array([0x6e]))).map(([k, v]) => [Buffer.from(k.subarray(1)).toString('hex'), v] as const));
  } finally {
    host.close();
  }
}

/** The host rewrites records of the (closed) database. */
function hostWrite(db: string, puts: [Uint8Array, Uint8Array][]): void {
  const host = new SqliteBackend(db);
  host.write(puts);
  host.close();
}

const nodeKey = (hashHex: string) => Uint8Array.from([0x6e, ...Buffer.from(hashHex, 'hex')]);

async function expectBatchRefused(rt: EnclaveRuntime, dataDir: string, params: unknown, code: string): Promise<void> {
  const before = { status: await rt.handle('status', {}), files: digest(dataDir) };
  await assert.rejects(rt.handle('processBatch', params), (e: { code?: string }) => { assert.equal(e.code, code); return true; });
  assert.deepEqual({ status: await rt.handle('status', {}), files: digest(dataDir) }, before, 'status and every file unchanged');
}

test('sealed-record tampering and swapping at the runtime: the batch is refused (ENCLAVE_SEAL_CORRUPT), nothing changes; the restored record works', async () => {
  const c = await committedThenClosed(counterApp, async (a, enc) => [await a.privatePayload(enc, 1n, { op: 'inc' })]);
  c.chain.submit(c.alice.address, await c.alice.privatePayload(c.keys.encPubKey, 1n, { op: 'inc' }));
  const { params } = await batchParams(c.chain, 3, 3);
  const recs = nodeRecords(c.db);
  const rootHex = c.r.newRoot.slice(2);
  const rootRec = recs.get(rootHex)!;
  assert.ok(rootRec, 'the root node is a record');
  const other = [...recs.keys()].find((h) => h !== rootHex)!;
  const flipped = Uint8Array.from(rootRec);
  flipped[flipped.length - 1]! ^= 1;
  const attacks: [string, [Uint8Array, Uint8Array][]][] = [
    ['one flipped ciphertext byte of the root node', [[nodeKey(rootHex), flipped]]],
    ['the root node and another node swapped', [[nodeKey(rootHex), recs.get(other)!], [nodeKey(other), rootRec]]],
  ];
  for (const [what, puts] of attacks) {
    hostWrite(c.db, puts);
    const rt = await restarted(c.dataDir, counterApp);
    assert.equal(((await rt.handle('status', {})) as { lastSeq: string }).lastSeq, '0', `${what}: the damaged version is not loaded`);
    await expectBatchRefused(rt, c.dataDir, params, 'ENCLAVE_SEAL_CORRUPT');
    rt.close();
    hostWrite(c.db, [[nodeKey(rootHex), rootRec], [nodeKey(other), recs.get(other)!]]);
  }
  const rt = await restarted(c.dataDir, counterApp);
  const r = (await rt.handle('processBatch', params)) as BatchResult;
  assert.equal(r.to, '3', 'with the genuine records the batch runs');
  rt.close();
});

/**
 * Hashes (hex) of the trie nodes on the path of ["sneaky", "x"] that no framework key's path needs (the state `pairs`
 * after sneakyApp's seed, with `user`'s output key): removing or altering them breaks only the reads of ["x"].
 */
async function onlyXPath(pairs: [Uint8Array, Uint8Array][], user: Hex): Promise<Set<string>> {
  const trie = await createMPT({});
  const tk = (k: Uint8Array) => Uint8Array.from([...k, 0]); // the trie key (docs/protocol.md#state-root)
  for (const [k, v] of pairs) await trie.put(tk(k), v);
  const hashes = async (key: Uint8Array) => new Set((await createMerkleProof(trie, tk(key))).map((n) => Buffer.from(keccak_256(n)).toString('hex')));
  const xPath = await hashes(encodeKey(['sneaky', 'x']));
  for (const k of [FRAMEWORK_KEYS.lastSeq, FRAMEWORK_KEYS.lastAcc, FRAMEWORK_KEYS.keyId, FRAMEWORK_KEYS.outputKey(user)]) for (const h of await hashes(k)) xPath.delete(h);
  assert.ok(xPath.size > 0, 'the leaf of ["sneaky", "x"] is a node of its own');
  return xPath;
}

/**
 * A committed sneakyApp state whose nodes on the path of ["sneaky", "x"] (and no framework key's) the host harms
 * while the enclave is down; the restarted enclave opens the version, and a batch of one private request `op`
 * (which reads ["x"] and swallows any error) must be refused with ENCLAVE_SEAL_CORRUPT, changing nothing.
 */
async function expectSwallowedFaultRefused(harm: (db: string, xPath: Set<string>) => void, op: 'read' | 'iterate'): Promise<void> {
  const c = await committedThenClosed(sneakyApp, async () => [publicPayload('seed', '0x01')]);
  harm(c.db, await onlyXPath(c.pairs, c.alice.address));
  const rt = await restarted(c.dataDir, sneakyApp);
  assert.equal(rt.stateRoot, c.r.newRoot, 'the version itself opens (root and framework records are intact)');
  c.chain.submit(c.alice.address, await c.alice.privatePayload(c.keys.encPubKey, 1n, { op }));
  const { params } = await batchParams(c.chain, 3, 3);
  await expectBatchRefused(rt, c.dataDir, params, 'ENCLAVE_SEAL_CORRUPT');
  rt.close();
}

test('a store fault that a handler swallows still refuses the whole batch: tampered storage never becomes an outcome', async () => {
  await expectSwallowedFaultRefused((db, xPath) => {
    const recs = nodeRecords(db);
    hostWrite(db, [...xPath].map((h) => { const b = Uint8Array.from(recs.get(h)!); b[b.length - 1]! ^= 1; return [nodeKey(h), b] as [Uint8Array, Uint8Array]; }));
  }, 'read');
});

test('a node record the host removed: an iteration that meets the gap refuses the whole batch (ENCLAVE_SEAL_CORRUPT), even when the handler swallows the error', async () => {
  // Removed, not altered: the trie library alone reports a missing node with a plain Error, which the handler
  // would catch and turn into its own outcome ("swallowed") if the store passed it on.
  await expectSwallowedFaultRefused((db, xPath) => {
    const host = new SqliteBackend(db);
    host.write([], [...xPath].map(nodeKey));
    host.close();
  }, 'iterate');
});

/** Keys that prefix one another (["x"], ["x","a"], ["x",1]): "seed" writes them, "del" deletes ["x","a"]; every request answers ["x"]. */
const prefixApp: EnclaveApp = {
  name: 'p',
  async onPublic(kind, _body, ctx) {
    if (kind === 'seed') { ctx.store.set(['x'], 'the parent record'); ctx.store.set(['x', 'a'], 'child a'); ctx.store.set(['x', 1], 'child 1'); }
    else if (kind === 'del') ctx.store.delete(['x', 'a']);
    ctx.emit(ctx.sender, { x: (await ctx.store.get(['x'])) ?? null });
  },
  async onPrivate() {},
};

test('the host\'s batch cut changes no outcome: a delete next to a key that prefixes it, then a read, in one batch or two (found by a red-team fuzz)', async () => {
  const lastAnswer = async (split: boolean) => {
    const { chain, rt } = await setup(prefixApp);
    const alice = await User.make('alice');
    chain.submit(alice.address, alice.registerPayload());
    chain.submit(alice.address, publicPayload('seed', '0x'));
    let r = (await rt.handle('processBatch', (await batchParams(chain, 1, 2)).params)) as BatchResult;
    chain.commit(2n, r.newRoot);
    chain.submit(alice.address, publicPayload('del', '0x'));
    chain.submit(alice.address, publicPayload('read', '0x'));
    if (split) {
      r = (await rt.handle('processBatch', (await batchParams(chain, 3, 3)).params)) as BatchResult;
      chain.commit(3n, r.newRoot);
      r = (await rt.handle('processBatch', (await batchParams(chain, 4, 4)).params)) as BatchResult;
    } else r = (await rt.handle('processBatch', (await batchParams(chain, 3, 4)).params)) as BatchResult;
    const answer = ((await alice.read(r.outputs, 1n)).at(-1) as { message: unknown }).message;
    const pairs = await pairsOf(rt);
    assert.equal(await rootOfPairs(pairs), r.newRoot, 'root == recomputed from its pairs');
    rt.close();
    // The app's pairs (each run has its own session key, so keyId, and with it the root, differs between runs).
    const app = pairs.filter(([k]) => decodeKey(k)[0] === 'p').map(([k, v]) => [bytesToHex(k), bytesToHex(v)]);
    return { answer, app };
  };
  const one = await lastAnswer(false);
  assert.deepEqual(one.answer, { x: 'the parent record' }, 'nothing deleted ["x"]');
  assert.equal(one.app.length, 2, '["x"] and ["x", 1] remain');
  assert.deepEqual(await lastAnswer(true), one, 'the same answer and the same app state however the host cuts the batches');
});

test('a rollback that fails (the host fails one read) never lets the next batch run on another state than the base it signs', async () => {
  const run = async (attack: boolean) => {
    const { alice, ...c } = await withAlice(counterApp);
    const r1 = (await c.rt.handle('processBatch', (await batchParams(c.chain, 1, 1)).params)) as BatchResult;
    c.chain.commit(1n, r1.newRoot);
    c.chain.submit(alice.address, await alice.privatePayload(c.keys.encPubKey, 1n, { op: 'inc' }));
    const { params } = await batchParams(c.chain, 2, 2);
    if (attack) {
      // A follow-mode batch refused after its commit (wrong expectNewRoot); its rollback to R1 reads R1's version
      // record, and the host makes exactly that read fail, so the store stays at the refused batch's root.
      const versionOfR1 = Uint8Array.from([0x76, ...Buffer.from(r1.newRoot.slice(2), 'hex')]);
      const get = SqliteBackend.prototype.get;
      let armed = true;
      SqliteBackend.prototype.get = function (this: SqliteBackend, key: Uint8Array) {
        if (armed && Buffer.from(key).equals(versionOfR1)) {
          armed = false;
          throw new EnclaveError('ENCLAVE_SEAL_IO', 'EIO (the host\'s file system)');
        }
        return get.call(this, key);
      };
      try {
        await assert.rejects(c.rt.handle('processBatch', { ...params, expectNewRoot: `0x${'11'.repeat(32)}` }), (e: { code?: string }) => e.code === 'ENCLAVE_FOLLOW_MISMATCH');
        assert.equal(armed, false, 'the rollback read R1\'s version record, and that read failed');
      } finally {
        SqliteBackend.prototype.get = get;
      }
    }
    const r2 = (await c.rt.handle('processBatch', params)) as BatchResult & { prevRoot: Hex };
    const answer = ((await alice.read(r2.outputs, 1n))[0] as { message: { count: number } }).message;
    assert.equal(await rootOfPairs(await pairsOf(c.rt)), r2.newRoot, 'the signed root is the root of the state it left');
    c.rt.close();
    // The count only: the answer's random part and the roots depend on each run's session keys.
    return { count: answer.count, signsR1: r2.prevRoot === r1.newRoot };
  };
  const honest = await run(false);
  assert.deepEqual(honest, { count: 1, signsR1: true });
  assert.deepEqual(await run(true), honest, 'request 2 applied once, on R1, as the commitment says');
});

test('refused batches from the proven position keep every pending commitment\'s base: a pending batch re-run after its predecessor lands still finds it (found by a red-team test)', async () => {
  const rerunAfter = async (refusedFollowBatches: number) => {
    const { alice, ...c } = await withAlice(counterApp);
    for (let i = 0; i < 6; i++) c.chain.submit(alice.address, await alice.privatePayload(c.keys.encPubKey, 1n, { op: 'inc' }));
    const c1 = (await c.rt.handle('processBatch', (await batchParams(c.chain, 1, 2)).params)) as BatchResult; // pending
    await c.rt.handle('processBatch', (await batchParams(c.chain, 3, 3)).params); // ahead of the chain, on c1's root
    // Batches from the committed position with a false expectNewRoot: each commits a version (and prunes), then is refused.
    for (const to of [1, 4, 5, 6].slice(0, refusedFollowBatches)) {
      await assert.rejects(c.rt.handle('processBatch', { ...(await batchParams(c.chain, 1, to)).params, expectNewRoot: `0x${'11'.repeat(32)}` }), (e: { code?: string }) => e.code === 'ENCLAVE_FOLLOW_MISMATCH');
    }
    // c1 lands, the ahead commitment does not: the host re-runs batch 3 from c1's root.
    c.chain.commit(2n, c1.newRoot);
    const r = (await c.rt.handle('processBatch', (await batchParams(c.chain, 3, 3)).params)) as BatchResult & { prevRoot: Hex };
    c.rt.close();
    return r.prevRoot === c1.newRoot;
  };
  assert.equal(await rerunAfter(0), true);
  assert.equal(await rerunAfter(4), true, 'four refused batches pruned nothing a pending commitment needs');
});

test('versions: the proven root survives any number of uncommitted siblings; old siblings are pruned, recent ones kept', async () => {
  const { chain, rt, keys } = await setup(counterApp);
  const alice = await User.make('alice');
  chain.submit(alice.address, alice.registerPayload());
  const { params } = await batchParams(chain, 1, 1);
  const base = (await rt.handle('processBatch', params)) as BatchResult;
  chain.commit(1n, base.newRoot);
  for (let i = 0; i < 8; i++) chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  // Hosts that die after processing but before committing: each batch from the same proven base leaves a sibling.
  const siblings: BatchResult[] = [];
  for (let to = 2; to <= 9; to++) {
    const { params: p } = await batchParams(chain, 2, to);
    siblings.push((await rt.handle('processBatch', p)) as BatchResult);
  }
  assert.equal(new Set(siblings.map((s) => s.newRoot)).size, 8);
  // The proven base is still there: the full batch runs from it.
  const { params: full } = await batchParams(chain, 2, 9);
  assert.equal(((await rt.handle('processBatch', full)) as BatchResult).newRoot, siblings.at(-1)!.newRoot);
  // The chain proves a recent sibling: it is kept; the oldest one was pruned (ENCLAVE_STALE_STATE).
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  chain.commit(2n, siblings[0]!.newRoot);
  const { params: fromOldest } = await batchParams(chain, 3, 10);
  await assert.rejects(rt.handle('processBatch', fromOldest), { code: 'ENCLAVE_STALE_STATE' });
  chain.commit(8n, siblings[6]!.newRoot);
  const { params: fromRecent } = await batchParams(chain, 9, 10);
  assert.equal(((await rt.handle('processBatch', fromRecent)) as BatchResult).to, '10');
});
