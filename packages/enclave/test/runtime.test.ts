import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hexToBytes, keccak256, type Hex } from 'viem';
import { ROOT_ZERO, SLOT, batchProofKeys, commitmentDigest, decodeOutputs, mappingSlot, outputsHash } from '@geode/protocol';
import { EnclaveRuntime, addressOfPublicKey } from '../src/index.ts';
import { counterApp, counterDump } from './fixtures/counter-app.ts';
import { CONTRACT, User, batchParams, fakePlatform, publicPayload, setup, testConfig, signHeader } from './helpers.ts';

type BatchResult = { sessionId: string; from: string; to: string; accTo: Hex; prevRoot: Hex; newRoot: Hex; outputs: Hex; outputsHash: Hex; publicOutputs: Hex; publicOutputsHash: Hex; signature: Hex };

const files = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));

async function snapshot(rt: EnclaveRuntime, dir: string) {
  const s = (await rt.handle('status', {})) as { lastSeq: string; stateRoot: Hex; trustedBlock: string };
  return { lastSeq: s.lastSeq, stateRoot: s.stateRoot, trustedBlock: s.trustedBlock, files: files(dir) };
}

async function expectRefusal(rt: EnclaveRuntime, dir: string, fn: () => Promise<unknown>, code: string) {
  const before = await snapshot(rt, dir);
  await assert.rejects(fn, (e: { code?: string }) => { assert.equal(e.code, code); return true; });
  assert.deepEqual(await snapshot(rt, dir), before, 'state, trusted block and sealed files unchanged');
}

/** A runtime with one committed batch (register keys for alice and bob + 2 increments), ready for a second. */
async function withHistory() {
  const ctx = await setup(counterApp);
  const { chain, rt, keys } = ctx;
  const alice = await User.make('alice');
  const bob = await User.make('bob');
  chain.submit(alice.address, alice.registerPayload());
  chain.submit(bob.address, bob.registerPayload());
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc', to: bob.address }));
  const { params } = await batchParams(chain, 1, 3);
  const r = (await rt.handle('processBatch', params)) as BatchResult;
  chain.commit(3n, r.newRoot);
  return { ...ctx, alice, bob, first: r };
}

test('session handshake: keys bound into report data, sealed, status reports them', async () => {
  const { rt, keys } = await setup(counterApp);
  const st = (await rt.handle('status', {})) as Record<string, unknown>;
  assert.equal(st.sessionId, '1');
  assert.equal(st.encPubKey, keys.encPubKey);
  assert.equal(st.signer, keys.signer);
  assert.equal(st.stateRoot, ROOT_ZERO);
  assert.equal(keys.quote.length, 2 + 128);
});

test('processBatch: register keys, private request, outputs decrypt, commitment signed by the session key', async () => {
  const { chain, rt, keys, alice, bob, first } = await withHistory();
  assert.equal(first.from, '1');
  assert.equal(first.to, '3');
  assert.equal(first.prevRoot, ROOT_ZERO);
  assert.equal(first.accTo.toLowerCase(), `0x${chain.get(mappingSlot(3n, SLOT.accAt)).toString(16).padStart(64, '0')}`);
  assert.equal(first.outputsHash, outputsHash(first.outputs));
  // Signature recovers to the attested signer over the commitment digest.
  const digest = commitmentDigest({ chainId: 31337n, contract: CONTRACT, sessionId: 1n, from: 1n, to: 3n, accTo: first.accTo, prevRoot: first.prevRoot, newRoot: first.newRoot, outputsHash: first.outputsHash, publicOutputsHash: first.publicOutputsHash });
  const sig = hexToBytes(first.signature);
  const rec = new Uint8Array(65);
  rec[0] = sig[64]! - 27;
  rec.set(sig.subarray(0, 64), 1);
  assert.equal(addressOfPublicKey(secp256k1.recoverPublicKey(rec, hexToBytes(digest), { prehash: false })), keys.signer);
  const a = await alice.read(first.outputs, 1n);
  assert.deepEqual(a.map((m) => m.ok), [true, true]);
  assert.equal((a[1] as { message: { count: number } }).message.count, 1);
  const b = await bob.read(first.outputs, 1n);
  assert.equal(b.length, 2);
  assert.deepEqual((b[1] as { message: unknown }).message, { from: alice.address });
  const st = (await rt.handle('status', {})) as { lastSeq: string; stateRoot: Hex };
  assert.equal(st.lastSeq, '3');
  assert.equal(st.stateRoot, first.newRoot);
});

test('refusals and exceptions in handlers roll back and produce error outputs', async () => {
  const { chain, rt, keys, alice, first } = await withHistory();
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'refuse' }));
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'crash' }));
  chain.submit(alice.address, publicPayload('nope', '0x01'));
  // Ciphertext copied to another sender: AAD mismatch -> ENCLAVE_DECRYPT.
  const stolen = await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' });
  chain.submit('0x000000000000000000000000000000000000bad1', stolen);
  chain.submit(alice.address, '0x09');
  const { params } = await batchParams(chain, 4, 8);
  const before = await counterDump(rt.appView());
  const r = (await rt.handle('processBatch', params)) as BatchResult;
  const msgs = await alice.read(r.outputs, 1n);
  assert.deepEqual(msgs.map((m) => (m.ok ? 'ok' : m.error.code)), ['APP_REFUSED', 'ENCLAVE_HANDLER_FAILED', 'APP_UNKNOWN_KIND', 'ENVELOPE_INVALID']);
  const outs = decodeOutputs(r.outputs);
  const bad = outs.find((o) => o.recipient === '0x000000000000000000000000000000000000bad1');
  assert.equal(bad?.ciphertext, '0x', 'error output to a sender without a key is undeliverable');
  assert.equal(outs.length, 5);
  // App state unchanged (the log pushes happened before the throws and were rolled back).
  assert.deepEqual(await counterDump(rt.appView()), before);
  assert.equal(rt.framework.lastSeq, 8n);
  assert.notEqual(r.newRoot, first.newRoot);
});

test('same batch from the same state twice: identical newRoot, outputs and signature (deterministic)', async () => {
  const { chain, rt, keys, alice, bob } = await withHistory();
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc', by: 5, to: bob.address }));
  chain.submit(bob.address, await bob.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { params } = await batchParams(chain, 4, 5);
  const r1 = (await rt.handle('processBatch', params)) as BatchResult;
  // The commitment did not land: the chain still proves the old root; the enclave reloads it from its sealed files.
  const { params: again } = await batchParams(chain, 4, 5);
  const r2 = (await rt.handle('processBatch', again)) as BatchResult;
  assert.equal(r2.newRoot, r1.newRoot);
  assert.equal(r2.outputs, r1.outputs);
  assert.equal(r2.signature, r1.signature);
});

test('restart: a new runtime on the same data dir unseals keys and state and continues', async () => {
  const { chain, rt, dataDir, keys, alice } = await withHistory();
  const root = rt.stateRoot;
  rt.close(); // the old enclave process is gone (its database is held exclusively while open)
  const rt2 = new EnclaveRuntime(counterApp, { dataDir, platform: fakePlatform, log: () => {} });
  await rt2.handle('init', { config: testConfig() });
  const st = (await rt2.handle('status', {})) as { sessionId: string; encPubKey: Hex; stateRoot: Hex; lastSeq: string };
  assert.equal(st.sessionId, '1');
  assert.equal(st.encPubKey, keys.encPubKey);
  assert.equal(st.stateRoot, root);
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { params } = await batchParams(chain, 4, 4);
  const r = (await rt2.handle('processBatch', params)) as BatchResult;
  const m = await alice.read(r.outputs, 1n);
  assert.equal((m[0] as { message: { count: number } }).message.count, 2);
});

test('refusal: forged header signature (LC_HEADER_SIGNATURE), state unchanged', async () => {
  const { chain, rt, dataDir, keys, alice } = await withHistory();
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { blk, params } = await batchParams(chain, 4, 4);
  const forged = { ...params, header: { ...params.header, signature: signHeader(blk.header.rlp, blk.number, hexToBytes(keccak256('0x01'))) } };
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', forged), 'LC_HEADER_SIGNATURE');
  // high-s variant of a valid signature
  const sig = hexToBytes(params.header.signature);
  const n = secp256k1.Point.CURVE().n;
  const s = BigInt(`0x${Buffer.from(sig.subarray(32, 64)).toString('hex')}`);
  const hs = new Uint8Array(sig);
  hs.set(hexToBytes(`0x${(n - s).toString(16).padStart(64, '0')}`), 32);
  hs[64] = hs[64] === 27 ? 28 : 27;
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', { ...params, header: { ...params.header, signature: `0x${Buffer.from(hs).toString('hex')}` } }), 'LC_HEADER_SIGNATURE');
  // and the genuine one still works afterwards
  await rt.handle('processBatch', params);
});

test('refusal: tampered account proof node (LC_ACCOUNT_PROOF) and storage proof node (LC_STORAGE_PROOF)', async () => {
  const { chain, rt, dataDir, keys, alice } = await withHistory();
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { params } = await batchParams(chain, 4, 4);
  const flip = (h: string, at: number): Hex => { const b = hexToBytes(h as Hex); b[at] ^= 1; return `0x${Buffer.from(b).toString('hex')}`; };
  const acct = structuredClone(params);
  acct.proof.accountProof[acct.proof.accountProof.length - 1] = flip(acct.proof.accountProof.at(-1)!, 40);
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', acct), 'LC_ACCOUNT_PROOF');
  const stor = structuredClone(params);
  const sp = stor.proof.storageProof[4]!;
  sp.proof[sp.proof.length - 1] = flip(sp.proof.at(-1)!, sp.proof.at(-1)!.length / 2 - 3);
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', stor), 'LC_STORAGE_PROOF');
  const lie = structuredClone(params);
  lie.proof.storageProof[2]!.value = '0x1234';
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', lie), 'LC_STORAGE_PROOF');
  const missing = structuredClone(params);
  missing.proof.storageProof.splice(1, 1);
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', missing), 'LC_PROOF_MISSING_KEY');
});

test('refusal: batch not matching the accumulator (ENCLAVE_ACCUMULATOR_MISMATCH)', async () => {
  const { chain, rt, dataDir, keys, alice } = await withHistory();
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { params } = await batchParams(chain, 4, 4);
  const injected = structuredClone(params);
  injected.requests[0]!.payload = await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc', by: 100 });
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', injected), 'ENCLAVE_ACCUMULATOR_MISMATCH');
  const otherSender = structuredClone(params);
  otherSender.requests[0]!.sender = '0x00000000000000000000000000000000000000b0';
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', otherSender), 'ENCLAVE_ACCUMULATOR_MISMATCH');
});

test('refusal: stale state root (ENCLAVE_STALE_STATE) when the chain proves a root the enclave has no state for', async () => {
  const { chain, rt, dataDir, keys, alice } = await withHistory();
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  chain.commit(3n, keccak256('0xdead')); // a root this enclave never produced (e.g. another instance's fork)
  const { params } = await batchParams(chain, 4, 4);
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', params), 'ENCLAVE_STALE_STATE');
});

test('refusal: wrong session (ENCLAVE_SESSION_MISMATCH)', async () => {
  const { chain, rt, dataDir, keys, alice } = await withHistory();
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  chain.set(SLOT.activeSessionId, 2n);
  const { params } = await batchParams(chain, 4, 4);
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', params), 'ENCLAVE_SESSION_MISMATCH');
});

test('refusal: non-consecutive seqs, wrong from, to beyond requestCount (ENCLAVE_SEQ_MISMATCH)', async () => {
  const { chain, rt, dataDir, keys, alice } = await withHistory();
  for (let i = 0; i < 3; i++) chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { params } = await batchParams(chain, 4, 6);
  const gap = structuredClone(params);
  gap.requests.splice(1, 1);
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', gap), 'ENCLAVE_SEQ_MISMATCH');
  const { params: late } = await batchParams(chain, 5, 6);
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', late), 'ENCLAVE_SEQ_MISMATCH');
  const { params: early } = await batchParams(chain, 3, 6);
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', early), 'ENCLAVE_SEQ_MISMATCH');
  // A request the chain does not hold yet (beyond requestCount at the proven block).
  const { blk, params: ok } = await batchParams(chain, 4, 6);
  const beyond = structuredClone(ok);
  beyond.requests.push({ seq: '7', sender: alice.address, payload: '0x0200', sessionId: '1' });
  beyond.proof = await blk.proof(batchProofKeys(7n)); // accAt[7] proven absent
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', beyond), 'ENCLAVE_SEQ_MISMATCH');
});

test('refusal: stale and unlinked headers (LC_STALE_HEADER, LC_HEADER_LINK)', async () => {
  const { chain, rt, dataDir, keys, alice } = await withHistory();
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  const { params } = await batchParams(chain, 4, 4);
  await rt.handle('processBatch', params); // trusted block advances to this header
  chain.commit(4n, rt.stateRoot);
  // Build a header with number = trusted + 1 that does not link.
  const st = (await rt.handle('status', {})) as { trustedBlock: string };
  chain.head = keccak256('0x99');
  chain.submit(alice.address, await alice.privatePayload(keys.encPubKey, 1n, { op: 'inc' }));
  chain.number = BigInt(st.trustedBlock);
  const { params: unlinked } = await batchParams(chain, 5, 5);
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', unlinked), 'LC_HEADER_LINK');
  chain.number = BigInt(st.trustedBlock) - 2n;
  const { params: stale } = await batchParams(chain, 5, 5);
  await expectRefusal(rt, dataDir, () => rt.handle('processBatch', stale), 'LC_STALE_HEADER');
});

test('bad messages are refused with ENCLAVE_BAD_MESSAGE; methods before init with ENCLAVE_NOT_CONFIGURED', async () => {
  const rt = new EnclaveRuntime(counterApp, { dataDir: (await import('./helpers.ts')).tmpDir(), platform: fakePlatform, log: () => {} });
  await assert.rejects(rt.handle('nope', {}), { code: 'ENCLAVE_BAD_MESSAGE' });
  await assert.rejects(rt.handle('init', { config: { chainId: 'x' } }), { code: 'ENCLAVE_BAD_MESSAGE' });
  await assert.rejects(rt.handle('sessionCreate', {}), { code: 'ENCLAVE_NOT_CONFIGURED' });
  await rt.handle('init', { config: testConfig() });
  await rt.handle('init', { config: testConfig() }); // idempotent
  await assert.rejects(rt.handle('init', { config: { ...testConfig(), chainId: '1' } }), { code: 'ENCLAVE_CONFIG_MISMATCH' });
  await assert.rejects(rt.handle('processBatch', { header: { rlp: '0x', signature: `0x${'00'.repeat(65)}` }, proof: {}, requests: [] }), { code: 'ENCLAVE_BAD_MESSAGE' });
  await assert.rejects(rt.handle('sessionSetPubKey', { sessionId: '1', header: { rlp: '0xc0', signature: `0x${'00'.repeat(65)}` }, proof: { address: CONTRACT, balance: '0x0', nonce: '0x0', codeHash: `0x${'00'.repeat(32)}`, storageHash: `0x${'00'.repeat(32)}`, accountProof: [], storageProof: [] } }), { code: 'ENCLAVE_NO_PENDING_SESSION' });
});

test('sessionSetPubKey refuses a proof of another nonce (ENCLAVE_SESSION_MISMATCH) and keeps the pending nonce', async () => {
  const { chain, rt, dataDir } = await withHistory();
  await rt.handle('sessionCreate', {});
  chain.openSession(2n, keccak256('0x1234'));
  const blk = await chain.mine();
  const { sessionProofKeys } = await import('@geode/protocol');
  const proof = await blk.proof(sessionProofKeys(2n));
  await expectRefusal(rt, dataDir, () => rt.handle('sessionSetPubKey', { sessionId: '2', header: blk.header, proof }), 'ENCLAVE_SESSION_MISMATCH');
});

