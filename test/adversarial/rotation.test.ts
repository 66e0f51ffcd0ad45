// Adversarial host vs. rotation epochs of the request key (docs/protocol.md#rotation, docs/security.md#rotation-epochs):
// the host tries to skip, repeat or fake a rotation request and to commit a rotation batch without the epoch key; a
// request sealed to a retired epoch gets the error output and changes no state; a request in grace still runs. One
// stack for the file, against the running enclave process; afterwards the honest Host (relayer) commits the rest,
// rotation batches included, and the history is honest.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAbiParameters, getAbiItem, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { devAccounts } from '@geode/devnet';
import { runHandover, type EnclaveProcess } from '@geode/host';
import { EPOCH, encodeEnvelope, encodePublicRequest, type LogRequestJson } from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts';
import { encodeRequest } from '@geode/app-computations';
import { Adversary, createAverage, enclaveDir, expectRefused, startAdversary, submit, type Name } from '../harness/adversary.ts';

let adv: Adversary;
let dir: string;
const sent = new Map<Name, bigint[]>();
const note = (who: Name, seq: bigint) => sent.set(who, [...(sent.get(who) ?? []), seq]);
const seq = { rotation1: 0n, aliceGrace: 0n };
const rotationPayload = (epoch: bigint): Hex =>
  `0x${Buffer.from(encodeEnvelope({ kind: 'public', data: Buffer.from(encodePublicRequest(EPOCH.rotateKind, encodeAbiParameters([{ type: 'uint256' }], [epoch])).slice(2), 'hex') })).toString('hex')}` as Hex;

before(async () => {
  adv = await startAdversary();
  dir = enclaveDir(adv);
  note('alice', await createAverage(adv, 'pay', ['alice', 'bob', 'carol'], 3));
  assert.ok((await adv.commit(await adv.process(adv.stack.enclave, await adv.pending()))).ok);
  note('bob', await submit(adv, 'bob', { op: 'submit', computation: 'pay', value: 20 }));
  const r = await adv.send('requestRotation', []);
  assert.ok(r.ok);
  seq.rotation1 = (await adv.chainState()).requestCount;
  // Sealed to epoch 0 after the rotation request, before its key is on-chain: read in grace.
  seq.aliceGrace = await submit(adv, 'alice', { op: 'submit', computation: 'pay', value: 10 });
  note('alice', seq.aliceGrace);
});

const spawned: EnclaveProcess[] = [];
const dirs: string[] = [];
after(async () => {
  for (const e of spawned) await e.stop().catch(() => undefined);
  await adv?.stack.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Run `attack` (which must be refused with `code`) and check that nothing changed. */
async function refused(code: string, attack: () => Promise<unknown>): Promise<void> {
  const before = await adv.snapshot(adv.stack.enclave, dir);
  await expectRefused(attack(), code);
  await adv.assertUnchanged(before, adv.stack.enclave, dir);
}

test('rotation: the host cannot skip, repeat or fake a rotation request (the accumulator binds it)', async () => {
  const p = await adv.pending();
  const i = p.requests.findIndex((r) => BigInt(r.seq) === seq.rotation1);
  assert.ok(i > 0);
  const rot = p.requests[i]!;
  const harmless: LogRequestJson = { ...rot, payload: (await adv.parties.bob.client.seal(encodeRequest({ op: 'submit', computation: 'pay', value: 1 }))) };
  // skip: leave it out (the rest renumbered into its place would not match either)
  await refused('ENCLAVE_SEQ_MISMATCH', () => adv.process(adv.stack.enclave, { ...p, requests: p.requests.filter((_, j) => j !== i) }));
  await refused('ENCLAVE_ACCUMULATOR_MISMATCH', () => adv.process(adv.stack.enclave, { ...p, requests: p.requests.map((r, j) => (j === i ? harmless : r)) }));
  // repeat: the rotation request again in the next position
  await refused('ENCLAVE_ACCUMULATOR_MISMATCH', () => adv.process(adv.stack.enclave, { ...p, requests: p.requests.map((r, j) => (j === i + 1 ? { ...rot, seq: r.seq } : r)) }));
  // fake: a rotation request from the admin that is not on-chain, in place of bob's request
  await refused('ENCLAVE_ACCUMULATOR_MISMATCH', () => adv.process(adv.stack.enclave, { ...p, requests: p.requests.map((r, j) => (j === 0 ? { ...rot, seq: r.seq, payload: rotationPayload(1n) } : r)) }));
});

test('rotation: the commitment carries the epoch key; without it (or with another) the contract refuses; grace requests still run', async () => {
  const res = await adv.process(adv.stack.enclave, await adv.pending());
  assert.equal(BigInt(res.to), seq.rotation1, 'the batch ends at the rotation request');
  assert.ok(res.epoch);
  assert.equal(res.epoch.epoch, '1');
  const plain = [BigInt(res.from), BigInt(res.to), res.accTo, res.prevRoot, res.newRoot, res.outputs, res.publicOutputs] as const;
  const stripped = await adv.commit(res);
  assert.deepEqual(stripped, { ok: false, error: 'EpochKeyMissing' });
  const swapped = await adv.send('commitBatchWithEpoch', [...plain, `0x${'11'.repeat(32)}`, res.signature]);
  assert.deepEqual(swapped, { ok: false, error: 'WrongSigner' });
  const ok = await adv.send('commitBatchWithEpoch', [...plain, res.epoch.encPubKey, res.signature]);
  assert.ok(ok.ok);
  const [epoch, key] = await adv.pub.readContract({ address: adv.contract, abi: GeodeCoreAbi, functionName: 'currentEpoch' });
  assert.equal(epoch, 1n);
  assert.equal(key, res.epoch.encPubKey);
  assert.deepEqual(await adv.parties.carol.client.currentEpoch(), { epoch: 1, encPubKey: res.epoch.encPubKey });
  // alice's request sealed to epoch 0 after the rotation request runs in the next batch (grace), carol's goes to epoch 1.
  note('carol', await submit(adv, 'carol', { op: 'submit', computation: 'pay', value: 30 }));
  const next = await adv.process(adv.stack.enclave, await adv.pending());
  assert.equal(next.epoch, undefined);
  const out = await adv.outcome(next);
  assert.ok(out.outputs.some((o) => o.seq === seq.aliceGrace), 'the grace request produced its output');
  assert.ok((await adv.commit(next)).ok);
  const aliceOut = (await adv.outputs('alice')).find((o) => BigInt(o.seq) === seq.aliceGrace);
  assert.equal(aliceOut?.ok, true, 'in grace: decrypted and run');
});

test('rotation: a request sealed to a retired epoch gets ENCLAVE_EPOCH_RETIRED and changes no state; the honest relayer commits the rotation batches', async () => {
  const sessionKey = adv.parties.alice.session.encPubKey;
  assert.ok((await adv.send('requestRotation', [])).ok); // epoch 2 retires epoch 0
  // The honest Host processes and commits the rotation batch (commitBatchWithEpoch from the relayer).
  await adv.honest();
  const [epoch] = await adv.pub.readContract({ address: adv.contract, abi: GeodeCoreAbi, functionName: 'currentEpoch' });
  assert.equal(epoch, 2n);
  // dave is no participant; alice re-sends her value sealed to epoch 0 (retired): refused, and the average is unchanged.
  const retired = await adv.parties.alice.client.submit(encodeRequest({ op: 'submit', computation: 'pay', value: 1_000 }), { epoch: 0, encPubKey: sessionKey });
  note('alice', retired.seq);
  note('bob', await submit(adv, 'bob', { op: 'result', computation: 'pay' }));
  await adv.honest();
  await adv.assertHonestHistory();
  const out = (await adv.outputs('alice')).find((o) => BigInt(o.seq) === retired.seq)!;
  assert.equal(out.ok, false);
  assert.equal((out as { error: { code: string; message: string } }).error.code, 'ENCLAVE_EPOCH_RETIRED');
  assert.match((out as { error: { message: string } }).error.message, /re-encrypt it to epoch 2/);
  const result = (await adv.outputs('bob')).find((o) => o.ok && o.op === 'result');
  assert.deepEqual((result as { result: unknown }).result, { type: 'average', value: 20, count: 3 }, 'the retired request did not count');
  const started = await adv.pub.getLogs({ address: adv.contract, event: getAbiItem({ abi: GeodeCoreAbi, name: 'EpochStarted' }), fromBlock: 0n, toBlock: 'latest' });
  assert.deepEqual(started.map((l) => (l.args as { epoch: bigint }).epoch), [1n, 2n]);
  for (const who of ['alice', 'bob', 'carol'] as Name[]) {
    assert.deepEqual((await adv.outputs(who)).map((o) => BigInt(o.seq)), sent.get(who), `${who}: one output per request`);
  }
});

test('rotation: after a retirement the keyed instance holds no retired seed, a handover newcomer receives none, and it refuses to replay history it cannot decrypt', async () => {
  const keyed = await adv.stack.enclave.call('status');
  assert.deepEqual([keyed.epoch, keyed.epochBase], ['2', '1'], 'epoch 0 retired and its seed deleted (the retiring rotation is committed)');
  const dir = mkdtempSync(join(tmpdir(), 'geode-rotation-newcomer-'));
  dirs.push(dir);
  const c = await adv.spawnEnclave(dir);
  spawned.push(c);
  const outsider = privateKeyToAccount(devAccounts(8)[5]!.privateKey);
  const t = await runHandover({ chain: adv.stack.chain, payer: outsider, contract: adv.contract, trust: { collateral: adv.stack.pki.collateral() as never, policy: adv.stack.policy } }, adv.stack.enclave, c);
  assert.equal(t.received.encPubKey, keyed.encPubKey, 'the session key (identity) is handed over');
  const st = await c.call('status');
  assert.equal(st.epochBase, '1', 'the handover message carried the live seeds only (epoch 1 on), never the retired epoch 0');
  // Following the committed batches in order (each at the block below its commitment, as follow.ts does): the public
  // ones replay, the first with a private request sealed to epoch 0 is refused (never a diverging outcome).
  const logs = await adv.pub.getLogs({ address: adv.contract, event: getAbiItem({ abi: GeodeCoreAbi, name: 'BatchCommitted' }), fromBlock: 0n, toBlock: 'latest' });
  let followed = 0n;
  let refusedAt = 0n;
  for (const l of logs) {
    const a = l.args as { from: bigint; to: bigint; newRoot: Hex };
    const b = await adv.batch(a.from, a.to, l.blockNumber! - 1n);
    try {
      await c.call('processBatch', { header: b.header, proof: b.proof, requests: b.requests, expectNewRoot: a.newRoot });
      followed = a.to;
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'ENCLAVE_EPOCH_KEY_DELETED', String(e));
      refusedAt = a.from;
      break;
    }
  }
  assert.ok(refusedAt > 0n, 'a batch with an epoch-0 request was refused');
  assert.ok(refusedAt <= seq.rotation1);
  assert.equal((await c.call('status')).lastSeq, followed.toString(), 'the refused batch changed nothing');
});

test('rotation schedule: the contract appends the admin\'s rotation after every N requests; the enclave takes it from the proven log like an on-demand one', async () => {
  assert.ok((await adv.send('setRotationSchedule', [8n])).ok);
  const [before] = await adv.pub.readContract({ address: adv.contract, abi: GeodeCoreAbi, functionName: 'currentEpoch' });
  const who: Name[] = ['alice', 'bob', 'carol'];
  for (let i = 0; i < 8; i++) await submit(adv, who[i % 3]!, { op: 'result', computation: 'pay' });
  await adv.honest();
  const [epoch, key] = await adv.pub.readContract({ address: adv.contract, abi: GeodeCoreAbi, functionName: 'currentEpoch' });
  assert.equal(epoch, before + 1n, 'the eighth request brought the scheduled rotation, committed with its epoch key');
  assert.equal((await adv.stack.enclave.call('status')).epoch, String(epoch));
  // Clients follow: the next request is sealed to the new epoch and runs.
  const seqNext = await submit(adv, 'bob', { op: 'result', computation: 'pay' });
  await adv.honest();
  await adv.assertHonestHistory();
  const out = (await adv.outputs('bob')).find((o) => BigInt(o.seq) === seqNext);
  assert.equal(out?.ok, true, 'sealed to the scheduled epoch and decrypted');
  assert.deepEqual(await adv.parties.bob.client.currentEpoch(), { epoch: Number(epoch), encPubKey: key });
  assert.ok((await adv.send('setRotationSchedule', [0n])).ok);
});
