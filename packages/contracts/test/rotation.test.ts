import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEventLog, encodeAbiParameters, keccak256, toHex, type Hex } from 'viem';
import { ACC_ZERO, DOMAIN, EPOCH, NO_PUBLIC_OUTPUTS, commitmentDigest, encodeOutputs, encodePublicRequest, epochCommitmentDigest } from '@geode/protocol';
import { GeodeCoreAbi } from '../src/index.ts';
import { CHAIN_ID, expectRevert, randomHex32, send, startChain, type Chain } from './helpers.ts';
import { deployCore, openSession, privatePayload, type Deployment, readCore as read, writeCore as write } from './fixtures.ts';

// Rotation epochs on-chain (docs/protocol.md#rotation): requestRotation, commitBatchWithEpoch, currentEpoch.
const abi = GeodeCoreAbi;
let c: Chain;
before(async () => {
  c = await startChain();
});
const empty = encodeOutputs([]);
const commitment = (d: Deployment, sessionId: bigint, from: bigint, to: bigint, accTo: Hex, prevRoot: Hex, newRoot: Hex) =>
  ({ chainId: CHAIN_ID, contract: d.core, sessionId, from, to, accTo, prevRoot, newRoot, outputsHash: keccak256(empty), publicOutputsHash: keccak256(NO_PUBLIC_OUTPUTS) });

test('rotation: admin-only request in the log; the batch covering it commits only with the signed epoch key; currentEpoch follows', async () => {
  const d = await deployCore(c);
  await expectRevert(write(d, 'requestRotation', []), 'NoActiveSession');
  const s = await openSession(d);
  assert.deepEqual(await read(d, 'currentEpoch'), [0n, s.encPubKey], 'epoch 0 is the session key');
  await send(c, c.wallets[1], d.core, abi, 'submitRequest', [privatePayload()]); // 1
  await expectRevert(write(d, 'requestRotation', [], c.wallets[1]), 'NotAdmin');
  const r = await send(c, c.wallets[0], d.core, abi, 'requestRotation', []); // 2
  const evs = r.logs.map((l) => decodeEventLog({ abi, ...l }));
  const submitted = evs.find((e) => e.eventName === 'RequestSubmitted')!.args as { seq: bigint; sender: string; payload: Hex };
  assert.equal(submitted.seq, 2n);
  assert.equal(submitted.sender, d.admin);
  const body = encodeAbiParameters([{ type: 'uint256' }], [1n]);
  assert.equal(submitted.payload, `0x02${encodePublicRequest(EPOCH.rotateKind, body).slice(2)}`, 'the documented rotation payload');
  assert.deepEqual(evs.find((e) => e.eventName === 'RotationRequested')!.args, { epoch: 1n, seq: 2n });
  assert.equal(await read(d, 'rotationCount'), 1n);

  const acc1 = await read<Hex>(d, 'accAt', [1n]);
  const acc2 = await read<Hex>(d, 'accAt', [2n]);
  const root1 = randomHex32();
  // A batch that ends before the rotation commits as usual.
  await send(c, c.wallets[1], d.core, abi, 'commitBatch', [1n, 1n, acc1, ACC_ZERO, root1, empty, NO_PUBLIC_OUTPUTS, s.signer.sign(commitmentDigest(commitment(d, s.id, 1n, 1n, acc1, ACC_ZERO, root1)))]);
  const root2 = randomHex32();
  const key1 = randomHex32();
  const cm = commitment(d, s.id, 2n, 2n, acc2, root1, root2);
  // The host strips the key: the plain commitment of a batch covering the rotation is refused.
  await expectRevert(write(d, 'commitBatch', [2n, 2n, acc2, root1, root2, empty, NO_PUBLIC_OUTPUTS, s.signer.sign(commitmentDigest(cm))]), 'EpochKeyMissing');
  // The host swaps the key: the signature is over the enclave's key.
  const sig = s.signer.sign(epochCommitmentDigest(commitmentDigest(cm), 1n, key1));
  await expectRevert(write(d, 'commitBatchWithEpoch', [2n, 2n, acc2, root1, root2, empty, NO_PUBLIC_OUTPUTS, randomHex32(), sig]), 'WrongSigner');
  await expectRevert(write(d, 'commitBatchWithEpoch', [2n, 2n, acc2, root1, root2, empty, NO_PUBLIC_OUTPUTS, `0x${'00'.repeat(32)}`, sig]), 'ZeroEpochKey');
  const ok = await send(c, c.wallets[1], d.core, abi, 'commitBatchWithEpoch', [2n, 2n, acc2, root1, root2, empty, NO_PUBLIC_OUTPUTS, key1, sig]);
  const started = ok.logs.map((l) => decodeEventLog({ abi, ...l })).find((e) => e.eventName === 'EpochStarted');
  assert.deepEqual(started?.args, { epoch: 1n, encPubKey: key1, fromSeq: 3n });
  assert.deepEqual(await read(d, 'currentEpoch'), [1n, key1]);
  assert.deepEqual(await read(d, 'epochAt', [1n]), { requestSeq: 2n, encPubKey: key1, fromSeq: 3n });
  assert.equal(await read(d, 'epochCommitmentDigest', [commitmentDigest(cm), 1n, key1]), epochCommitmentDigest(commitmentDigest(cm), 1n, key1), 'the contract and @geode/protocol agree');
  assert.equal(await read(d, 'DOMAIN_EPOCH_COMMITMENT'), DOMAIN.epochCommitment);

  // A batch with no rotation may not claim one.
  await send(c, c.wallets[1], d.core, abi, 'submitRequest', [privatePayload()]); // 3
  const acc3 = await read<Hex>(d, 'accAt', [3n]);
  const root3 = randomHex32();
  const cm3 = commitment(d, s.id, 3n, 3n, acc3, root2, root3);
  await expectRevert(write(d, 'commitBatchWithEpoch', [3n, 3n, acc3, root2, root3, empty, NO_PUBLIC_OUTPUTS, key1, s.signer.sign(epochCommitmentDigest(commitmentDigest(cm3), 2n, key1))]), 'NoRotationInBatch');

  // Epoch-tagged private payloads: 0x03 of at least 53 bytes; other kinds still refused.
  const p3 = new Uint8Array(53).fill(7);
  p3[0] = 0x03;
  await send(c, c.wallets[1], d.core, abi, 'submitRequest', [toHex(p3)]);
  await expectRevert(write(d, 'submitRequest', [toHex(p3.subarray(0, 52))], c.wallets[1]), 'InvalidPayloadLength');
  p3[0] = 0x04;
  await expectRevert(write(d, 'submitRequest', [toHex(p3)], c.wallets[1]), 'InvalidPayloadKind');

  // Fresh keys (admin re-key) start their own epochs: currentEpoch is the new session's key at epoch 0.
  const acc4 = await read<Hex>(d, 'accAt', [4n]);
  const root4 = randomHex32();
  await send(c, c.wallets[1], d.core, abi, 'commitBatch', [3n, 4n, acc4, root2, root4, empty, NO_PUBLIC_OUTPUTS, s.signer.sign(commitmentDigest(commitment(d, s.id, 3n, 4n, acc4, root2, root4)))]);
  const s2 = await openSession(d);
  assert.deepEqual(await read(d, 'currentEpoch'), [0n, s2.encPubKey]);
  assert.equal(await read(d, 'rotationCount'), 0n);
});

test('rotation schedule: admin-only, at least MIN_ROTATION_INTERVAL; the contract appends the admin\'s rotation request after every N requests; 0 turns it off', async () => {
  const d = await deployCore(c);
  await openSession(d);
  const min = await read<bigint>(d, 'MIN_ROTATION_INTERVAL');
  assert.equal(min, 8n);
  await expectRevert(write(d, 'setRotationSchedule', [8n], c.wallets[1]), 'NotAdmin');
  await expectRevert(write(d, 'setRotationSchedule', [min - 1n]), 'RotationIntervalTooShort');
  assert.equal(await read(d, 'rotateEveryRequests'), 0n, 'refusals change nothing');
  await send(c, c.wallets[1], d.core, abi, 'submitRequest', [privatePayload()]); // 1, before the schedule: not counted
  const set = await send(c, c.wallets[0], d.core, abi, 'setRotationSchedule', [8n]);
  assert.deepEqual(set.logs.map((l) => decodeEventLog({ abi, ...l })).find((e) => e.eventName === 'RotationScheduleSet')?.args, { everyRequests: 8n, fromSeq: 1n });
  const submitted: { seq: bigint; sender: string; payload: Hex }[] = [];
  const rotations: { epoch: bigint; seq: bigint }[] = [];
  for (let i = 0; i < 17; i++) {
    const r = await send(c, c.wallets[1], d.core, abi, 'submitRequest', [privatePayload()]);
    for (const e of r.logs.map((l) => decodeEventLog({ abi, ...l }))) {
      if (e.eventName === 'RequestSubmitted') submitted.push(e.args as never);
      if (e.eventName === 'RotationRequested') rotations.push(e.args as never);
    }
  }
  // Requests 2..9 are the first 8 counted: the rotation (seq 10) follows 9 in the same transaction; 11..18 the next 8.
  assert.deepEqual(rotations, [{ epoch: 1n, seq: 10n }, { epoch: 2n, seq: 19n }]);
  for (const { epoch, seq } of rotations) {
    const req = submitted.find((x) => x.seq === seq)!;
    assert.equal(req.sender, d.admin, 'attributed to the admin, as requestRotation');
    assert.equal(req.payload, `0x02${encodePublicRequest(EPOCH.rotateKind, encodeAbiParameters([{ type: 'uint256' }], [epoch])).slice(2)}`);
    assert.equal(((await read<{ requestSeq: bigint }>(d, 'epochAt', [epoch])).requestSeq), seq);
  }
  assert.equal(await read(d, 'requestCount'), 20n, '1 + 17 submitted + 2 rotations');
  assert.equal(await read(d, 'rotationCount'), 2n);
  // An on-demand rotation restarts the count; turning the schedule off stops it.
  await send(c, c.wallets[0], d.core, abi, 'requestRotation', []); // 21, epoch 3
  for (let i = 0; i < 7; i++) await send(c, c.wallets[1], d.core, abi, 'submitRequest', [privatePayload()]); // 22..28
  assert.equal(await read(d, 'rotationCount'), 3n, '7 requests since the on-demand rotation: none yet');
  await send(c, c.wallets[0], d.core, abi, 'setRotationSchedule', [0n]);
  for (let i = 0; i < 9; i++) await send(c, c.wallets[1], d.core, abi, 'submitRequest', [privatePayload()]);
  assert.equal(await read(d, 'rotationCount'), 3n, 'off: on demand only');
  assert.equal(await read(d, 'requestCount'), 37n);
});
