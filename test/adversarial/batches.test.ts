// Adversarial host vs. batches: drop, delay, duplicate, reorder, replay, inject; stale, tampered and mismatched
// proofs; forged and replayed header signatures; tampered and replayed commitments; a ciphertext copied to another
// sender. One stack for the whole file: every attack is refused without a state change, so they do not interfere.
// Afterwards the honest Host takes over and every request is processed exactly once, in chain order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAbiParameters, isHex, keccak256, toBytes, type Hex } from 'viem';
import { batchProofKeys, type LogRequestJson } from '@geode/protocol';
import { encodeRequest } from '@geode/app-computations';
import {
  Adversary, createAverage, enclaveDir, expectRefused, flipNode, malleate, signHeaderWith, startAdversary, submit, tamperHeaderField, type Name,
} from '../harness/adversary.ts';

let adv: Adversary;
let dir: string;
const sent = new Map<Name, bigint[]>();
const note = (who: Name, seq: bigint) => sent.set(who, [...(sent.get(who) ?? []), seq]);
/** seqs: 7 alice submit 10, 8 bob submit 20, 9 bob's copy of alice's ciphertext, 10 carol submit 30. */
const seq = { alice: 0n, bob: 0n, copy: 0n, carol: 0n };

before(async () => {
  adv = await startAdversary();
  dir = enclaveDir(adv);
  note('alice', await createAverage(adv, 'salaries', ['alice', 'bob', 'carol'], 2));
  // Baseline: the adversary relays the creation honestly, so later attacks start from a committed, non-empty state.
  const c = await adv.process(adv.stack.enclave, await adv.pending());
  assert.ok((await adv.commit(c)).ok);
  seq.alice = await submit(adv, 'alice', { op: 'submit', computation: 'salaries', value: 10 });
  note('alice', seq.alice);
  seq.bob = await submit(adv, 'bob', { op: 'submit', computation: 'salaries', value: 20 });
  note('bob', seq.bob);
  // bob copies alice's ciphertext (value 10) and submits it from his own account.
  const log = await adv.log();
  const copied = log.get(seq.alice)!.payload;
  assert.ok(isHex(copied));
  seq.copy = (await adv.parties.bob.client.sendAndSeq('submitRequest', [copied], 'copy')).seq;
  note('bob', seq.copy);
  seq.carol = await submit(adv, 'carol', { op: 'submit', computation: 'salaries', value: 30 });
  note('carol', seq.carol);
});

after(async () => {
  await adv?.stack.stop();
});

/** Run `attack` (which must be refused with `code`) and check that nothing changed. */
async function refused(code: string, attack: () => Promise<unknown>): Promise<void> {
  const before = await adv.snapshot(adv.stack.enclave, dir);
  await expectRefused(attack(), code);
  await adv.assertUnchanged(before, adv.stack.enclave, dir);
}

const withRequests = async (requests: LogRequestJson[]) => {
  const p = await adv.pending();
  return adv.process(adv.stack.enclave, { ...p, requests });
};

test('inject: a request never submitted on-chain (appended, substituted payload, substituted sender)', async () => {
  const p = await adv.pending();
  const forged = await adv.parties.alice.client.seal(encodeRequest({ op: 'submit', computation: 'salaries', value: 1e9 }));
  const extra: LogRequestJson = { seq: (p.to + 1n).toString(), sender: adv.parties.alice.address, payload: forged, sessionId: p.requests[0]!.sessionId };
  // Appended after the last on-chain request: with the honest proof the enclave lacks accAt[to + 1]; with a proof
  // that covers it, requestCount < to.
  await refused('LC_PROOF_MISSING_KEY', async () => adv.process(adv.stack.enclave, await adv.batch(p.from, p.to).then((b) => ({ ...b, requests: [...b.requests, extra] }))));
  await refused('ENCLAVE_SEQ_MISMATCH', async () => {
    const b = await adv.batch(p.from, p.to);
    const h = await adv.header('latest');
    return adv.process(adv.stack.enclave, { header: b.header, proof: await adv.proof(batchProofKeys(p.to + 1n), h.number), requests: [...b.requests, extra] });
  });
  // In place of a real request: the accumulator binds seq, sender and keccak(payload).
  await refused('ENCLAVE_ACCUMULATOR_MISMATCH', () => withRequests(p.requests.map((r) => (BigInt(r.seq) === seq.bob ? { ...r, payload: forged } : r))));
  // bob's copy of alice's ciphertext relabelled as alice's own request.
  await refused('ENCLAVE_ACCUMULATOR_MISMATCH', () => withRequests(p.requests.map((r) => (BigInt(r.seq) === seq.copy ? { ...r, sender: adv.parties.alice.address } : r))));
});

test('drop: a batch that omits a request (gap, renumbered, or starting after it)', async () => {
  const p = await adv.pending();
  const without = p.requests.filter((r) => BigInt(r.seq) !== seq.bob);
  await refused('ENCLAVE_SEQ_MISMATCH', () => withRequests(without));
  // Renumbered to close the gap (with an honest proof for the new `to`): the accumulator binds each seq.
  const shorter = await adv.batch(p.from, p.to - 1n);
  await refused('ENCLAVE_ACCUMULATOR_MISMATCH', () => adv.process(adv.stack.enclave, { ...shorter, requests: without.map((r, i) => ({ ...r, seq: (p.from + BigInt(i)).toString() })) }));
  await refused('ENCLAVE_SEQ_MISMATCH', async () => adv.process(adv.stack.enclave, await adv.batch(p.from + 1n, p.to)));
});

test('reorder: swapped requests, swapped payloads, batches out of order', async () => {
  const p = await adv.pending();
  const [a, b, ...rest] = p.requests;
  await refused('ENCLAVE_SEQ_MISMATCH', () => withRequests([b!, a!, ...rest]));
  await refused('ENCLAVE_ACCUMULATOR_MISMATCH', () => withRequests([{ ...b!, seq: a!.seq }, { ...a!, seq: b!.seq }, ...rest]));
  await refused('ENCLAVE_SEQ_MISMATCH', async () => adv.process(adv.stack.enclave, await adv.batch(p.from + 2n, p.to)));
});

test('duplicate: a request twice in one batch', async () => {
  const p = await adv.pending();
  await refused('ENCLAVE_SEQ_MISMATCH', () => withRequests([p.requests[0]!, p.requests[0]!, ...p.requests.slice(1)]));
});

test('delay and stale proofs: a block before the last request, before the trusted block, or not matching the header', async () => {
  const p = await adv.pending();
  // The block that mined carol's request is the first to include it; the block before it does not.
  const head = await adv.head();
  await refused('ENCLAVE_SEQ_MISMATCH', async () => adv.process(adv.stack.enclave, await adv.batch(p.from, p.to, head - 1n)));
  // Block 1 is older than the enclave's trusted block (advanced by the baseline batch).
  await refused('LC_STALE_HEADER', async () => adv.process(adv.stack.enclave, await adv.batch(p.from, p.to, 1n)));
  // Latest header with a proof from an older block: the proof does not verify against that header's stateRoot.
  await refused('LC_ACCOUNT_PROOF', async () => {
    const old = await adv.batch(p.from, p.to, head - 1n);
    return adv.process(adv.stack.enclave, { ...p, proof: old.proof });
  });
});

test('tampered proofs: nodes, values, missing keys, another account', async () => {
  const p = await adv.pending();
  const acct = { ...p.proof, accountProof: p.proof.accountProof.map((n, i) => (i === p.proof.accountProof.length - 1 ? flipNode(n as Hex) : n)) };
  await refused('LC_ACCOUNT_PROOF', () => adv.process(adv.stack.enclave, { ...p, proof: acct }));
  await refused('LC_ACCOUNT_PROOF', () => adv.process(adv.stack.enclave, { ...p, proof: { ...p.proof, storageHash: keccak256('0x01') } }));
  const sp = p.proof.storageProof.map((s, i) => (i === 1 ? { ...s, proof: s.proof.map((n, j) => (j === s.proof.length - 1 ? flipNode(n as Hex) : n)) } : s));
  await refused('LC_STORAGE_PROOF', () => adv.process(adv.stack.enclave, { ...p, proof: { ...p.proof, storageProof: sp } }));
  // Claim committedSeq (key 1) is one higher than proven.
  const lie = p.proof.storageProof.map((s, i) => (i === 1 ? { ...s, value: `0x${(BigInt(s.value) + 1n).toString(16)}` } : s));
  await refused('LC_STORAGE_PROOF', () => adv.process(adv.stack.enclave, { ...p, proof: { ...p.proof, storageProof: lie } }));
  await refused('LC_PROOF_MISSING_KEY', () => adv.process(adv.stack.enclave, { ...p, proof: { ...p.proof, storageProof: p.proof.storageProof.slice(0, 4) } }));
  // A valid proof of another account (the attestation verifier) at the same block.
  const other = await adv.proof(batchProofKeys(p.to), p.block, adv.pub, adv.stack.deployment.verifier);
  await refused('LC_ACCOUNT_PROOF', () => adv.process(adv.stack.enclave, { ...p, proof: other }));
  await refused('LC_ACCOUNT_PROOF', () => adv.process(adv.stack.enclave, { ...p, proof: { ...other, address: adv.contract } }));
});

test('forged and replayed header signatures', async () => {
  const p = await adv.pending();
  const h = await adv.header(p.block);
  const prev = await adv.header(p.block - 1n);
  const withHeader = (header: { rlp: string; signature: string }) => adv.process(adv.stack.enclave, { ...p, header });
  await refused('LC_HEADER_SIGNATURE', () => withHeader({ rlp: h.rlp, signature: signHeaderWith(h, keccak256(toBytes('not-the-block-signer'))) }));
  await refused('LC_HEADER_SIGNATURE', () => withHeader({ rlp: h.rlp, signature: prev.signature })); // another block's signature
  await refused('LC_HEADER_SIGNATURE', () => withHeader(tamperHeaderField(h, 3, keccak256('0x02')))); // stateRoot swapped
  await refused('LC_HEADER_SIGNATURE', () => withHeader({ rlp: h.rlp, signature: malleate(h.signature as Hex) })); // EIP-2 high s
  await refused('LC_HEADER_DECODE', () => withHeader({ rlp: '0xc0', signature: h.signature }));
});

test('duplicate and replay: a batch processed twice gives the identical commitment, and only one lands', async () => {
  const p = await adv.pending();
  const first = await adv.process(adv.stack.enclave, p);
  const again = await adv.process(adv.stack.enclave, p);
  assert.deepEqual(again, first, 'same inputs, same state: byte-identical commitment');
  const landed = await adv.commit(first);
  assert.ok(landed.ok);
  const st = await adv.chainState();
  assert.equal(st.committedSeq, p.to);
  assert.equal(st.stateRoot, first.newRoot);
  // The same commitment again: the contract has moved on.
  assert.deepEqual(await adv.commit(first), { ok: false, error: 'UnexpectedBatchStart' });
  // The same batch with a fresh proof: the enclave has processed it.
  await refused('ENCLAVE_SEQ_MISMATCH', async () => adv.process(adv.stack.enclave, await adv.batch(p.from, p.to)));
  // The original inputs replayed verbatim: the proven root is still held sealed, so the enclave recomputes the very
  // same commitment (no new information), and the contract refuses it.
  const replay = await adv.process(adv.stack.enclave, p);
  assert.deepEqual(replay, first);
  assert.deepEqual(await adv.commit(replay), { ok: false, error: 'UnexpectedBatchStart' });
  assert.deepEqual(await adv.chainState(), st);
  const status = await adv.stack.enclave.call('status');
  assert.equal(status.stateRoot, first.newRoot);
  assert.equal(status.lastSeq, p.to.toString());
});

test('tampered commitments: resubmitted, re-signed fields, malleated, out of range', async () => {
  note('alice', await submit(adv, 'alice', { op: 'result', computation: 'salaries' }));
  const p = await adv.pending();
  const c = await adv.process(adv.stack.enclave, p);
  const before = await adv.chainState();
  const z = `0x${'00'.repeat(32)}` as Hex;
  assert.deepEqual(await adv.commit({ ...c, newRoot: keccak256('0x03') }), { ok: false, error: 'WrongSigner' });
  assert.deepEqual(await adv.commit({ ...c, outputs: encodeAbiParameters([{ type: 'tuple[]', components: [{ name: 'r', type: 'address' }, { name: 's', type: 'uint256' }, { name: 'c', type: 'bytes' }] }], [[]]) }), { ok: false, error: 'WrongSigner' });
  assert.deepEqual(await adv.commit({ ...c, signature: malleate(c.signature as Hex) }), { ok: false, error: 'MalformedSignature' });
  assert.deepEqual(await adv.commit({ ...c, accTo: z }), { ok: false, error: 'AccumulatorMismatch' });
  assert.deepEqual(await adv.commit({ ...c, prevRoot: z }), { ok: false, error: 'StaleStateRoot' });
  assert.deepEqual(await adv.commit({ ...c, to: (p.to + 1n).toString() }), { ok: false, error: 'BatchOutOfRange' });
  assert.deepEqual(await adv.commit({ ...c, from: (p.from + 1n).toString() }), { ok: false, error: 'UnexpectedBatchStart' });
  assert.deepEqual(await adv.chainState(), before);
  assert.ok((await adv.commit(c)).ok);
});

test('honest host afterwards: every request exactly once, in chain order; the copied ciphertext was refused', async () => {
  note('bob', await submit(adv, 'bob', { op: 'result', computation: 'salaries' }));
  note('carol', await submit(adv, 'carol', { op: 'result', computation: 'salaries' }));
  await adv.honest();
  await adv.assertHonestHistory();
  for (const who of ['alice', 'bob', 'carol'] as Name[]) {
    const outs = await adv.outputs(who);
    assert.deepEqual(outs.map((o) => BigInt(o.seq)), sent.get(who), `${who}: one output per request, in seq order`);
    const results = outs.filter((o) => o.ok && o.op === 'result');
    assert.equal(results.length, 1);
    // bob's copy of alice's ciphertext did not count as bob submitting 10: (10 + 20 + 30) / 3.
    assert.deepEqual((results[0] as { result: unknown }).result, { type: 'average', value: 20, count: 3 }, who);
  }
  const copy = (await adv.outputs('bob')).find((o) => BigInt(o.seq) === seq.copy)!;
  assert.equal(copy.ok, false);
  assert.equal((copy as { error: { code: string } }).error.code, 'ENCLAVE_DECRYPT');
});
