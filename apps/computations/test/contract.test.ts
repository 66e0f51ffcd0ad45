import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, concatHex, decodeAbiParameters, decodeEventLog, encodeAbiParameters, keccak256, toBytes, toFunctionSelector, zeroAddress, type Abi, type Address, type Hex } from 'viem';
import { ACC_ZERO, accumulatorStep } from '@geode/protocol';
import { ComputationsAbi, ComputationsBytecode } from '../generated/artifacts.ts';
// The framework's contract-test chain and fixtures (an in-process EDR chain, GeodeCore deployment, sessions).
import { expectRevert, send, startChain, type Chain } from '../../../packages/contracts/test/helpers.ts';
import { deployCore, openSession, privatePayload, type Deployment } from '../../../packages/contracts/test/fixtures.ts';

const abi = ComputationsAbi;
let c: Chain;
let d: Deployment;
let alice: Address, bob: Address, carol: Address;
before(async () => {
  c = await startChain();
  d = await deployCore(c, { abi, bytecode: ComputationsBytecode });
  [alice, bob, carol] = [c.accounts[2]!.address, c.accounts[3]!.address, c.accounts[4]!.address];
});

const create = (name: string, ctype: number, participants: Address[], quorum: bigint, wallet = c.wallets[0]) =>
  wallet.writeContract({ address: d.core, abi, functionName: 'createComputation', args: [name, ctype, participants, quorum] });
const read = <T>(functionName: string, args: readonly unknown[] = []) =>
  c.publicClient.readContract({ address: d.core, abi, functionName, args } as never) as Promise<T>;

/** The public request payload createComputation must append. */
const createPayload = (name: string, ctype: number, participants: Address[], quorum: bigint): Hex =>
  `0x02${encodeAbiParameters(
    [{ type: 'string' }, { type: 'bytes' }],
    ['computations.create', encodeAbiParameters([{ type: 'string' }, { type: 'uint8' }, { type: 'address[]' }, { type: 'uint256' }], [name, ctype, participants, quorum])],
  ).slice(2)}`;

test('createComputation stores the computation, emits ComputationCreated and appends the public request', async () => {
  // the creator (wallet 0, "deployer") is not a participant
  const r = await send(c, c.wallets[0], d.core, abi, 'createComputation', ['salaries', 0, [alice, bob, carol], 2n]);
  const creator = c.wallets[0].account.address;
  const payload = createPayload('salaries', 0, [alice, bob, carol], 2n);
  const [req, created] = r.logs.map((l) => decodeEventLog({ abi, ...l }));
  assert.equal(req!.eventName, 'RequestSubmitted');
  assert.deepEqual(req!.args, { seq: 1n, sender: creator, sessionId: 0n, payload });
  assert.equal(created!.eventName, 'ComputationCreated');
  assert.deepEqual(created!.args, { nameHash: keccak256(toBytes('salaries')), name: 'salaries', ctype: 0, participants: [alice, bob, carol], quorum: 2n, creator, seq: 1n });
  assert.equal(await read('accumulator'), accumulatorStep(ACC_ZERO, 1n, creator, 0n, keccak256(payload)));

  // the payload decodes as the enclave will decode it
  const [kind, body] = decodeAbiParameters([{ type: 'string' }, { type: 'bytes' }], `0x${payload.slice(4)}`);
  assert.equal(kind, 'computations.create');
  assert.deepEqual(decodeAbiParameters([{ type: 'string' }, { type: 'uint8' }, { type: 'address[]' }, { type: 'uint256' }], body), ['salaries', 0, [alice, bob, carol], 2n]);

  assert.deepEqual(await read('computation', ['salaries']), { name: 'salaries', ctype: 0, participants: [alice, bob, carol], quorum: 2n, creator, seq: 1n });
  assert.equal(await read('computationCount'), 1n);
});

test('computations interleave with private requests in one sequence; names list in creation order', async () => {
  await openSession(d);
  await send(c, c.wallets[2], d.core, abi, 'submitRequest', [privatePayload()]);
  const r = await send(c, c.wallets[1], d.core, abi, 'createComputation', ['lowest sales', 2, [alice, bob], 1n]);
  const created = decodeEventLog({ abi, ...r.logs[1]! });
  assert.equal((created.args as { seq: bigint }).seq, 3n);
  await send(c, c.wallets[1], d.core, abi, 'createComputation', ['vin matcher', 3, [alice, bob, carol], 2n]);
  await send(c, c.wallets[1], d.core, abi, 'createComputation', ['top', 1, [bob, carol], 2n]);
  assert.equal(await read('computationCount'), 4n);
  assert.deepEqual(await read('computationNames', [0n, 10n]), ['salaries', 'lowest sales', 'vin matcher', 'top']);
  assert.deepEqual(await read('computationNames', [1n, 2n]), ['lowest sales', 'vin matcher']);
  assert.deepEqual(await read('computationNames', [3n, 2n ** 256n - 1n]), ['top']);
  assert.deepEqual(await read('computationNames', [9n, 1n]), []);
  assert.equal(await read('requestCount'), 5n);
});

test('createComputation refuses a duplicate name, bad names, bad type', async () => {
  await expectRevert(create('salaries', 1, [alice, bob], 1n), 'ComputationExists');
  await expectRevert(create('', 0, [alice, bob], 1n), 'InvalidComputationName');
  await expectRevert(create('x'.repeat(65), 0, [alice, bob], 1n), 'InvalidComputationName');
  await expectRevert(create('é'.repeat(33), 0, [alice, bob], 1n), 'InvalidComputationName'); // 66 bytes
  await send(c, c.wallets[0], d.core, abi, 'createComputation', ['x'.repeat(64), 0, [alice, bob], 1n]);
  await expectRevert(create('t4', 4, [alice, bob], 1n), 'InvalidComputationType');
  await expectRevert(create('t255', 255, [alice, bob], 1n), 'InvalidComputationType');
  await expectRevert(read('computation', ['nope']), 'UnknownComputation');
});

test('createComputation refuses < 2 or > 256 participants, zero or duplicate participants, quorum 0 or > n', async () => {
  await expectRevert(create('p0', 0, [], 1n), 'InvalidParticipantCount');
  await expectRevert(create('p1', 0, [alice], 1n), 'InvalidParticipantCount');
  const many = Array.from({ length: 257 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}` as Address);
  await expectRevert(create('p257', 0, many, 1n), 'InvalidParticipantCount');
  await expectRevert(create('dup', 0, [alice, alice], 1n), 'DuplicateParticipant');
  await expectRevert(create('dup2', 0, [alice, bob, carol, bob], 1n), 'DuplicateParticipant');
  await expectRevert(create('zero', 0, [alice, zeroAddress], 1n), 'ZeroParticipant');
  // addresses equal in their low bits collide in the duplicate check's hash set: probing must still tell them apart
  const hi = (k: number) => `0x${k.toString(16).padStart(2, '0')}${'00'.repeat(18)}07` as Address;
  await expectRevert(create('collide-dup', 0, [hi(1), hi(2), hi(3), hi(2)], 1n), 'DuplicateParticipant');
  await send(c, c.wallets[0], d.core, abi, 'createComputation', ['collide-ok', 0, [hi(1), hi(2), hi(3), hi(4), bob], 5n]);
  await expectRevert(create('q0', 0, [alice, bob], 0n), 'InvalidQuorum');
  await expectRevert(create('q3', 0, [alice, bob], 3n), 'InvalidQuorum');
  const r = await send(c, c.wallets[0], d.core, abi, 'createComputation', ['p256', 3, many.slice(0, 256), 256n]);
  assert.equal((await read<{ participants: Address[] }>('computation', ['p256'])).participants.length, 256);
  assert.ok(r.gasUsed < 16_000_000n, `256 participants: ${r.gasUsed} gas`);
});

async function computations() {
  const c = await startChain();
  const d = await deployCore(c, { abi: ComputationsAbi as Abi, bytecode: ComputationsBytecode });
  await openSession(d);
  return d;
}

/**
 * createComputation(string,...) calldata with a raw-bytes name: the selector of the `string` signature and the name
 * ABI-encoded as `bytes` (an ABI `string` and `bytes` encode alike), so any byte string can be sent.
 */
const createRaw = (name: Uint8Array, participants: Address[]): Hex => concatHex([
  toFunctionSelector('createComputation(string,uint8,address[],uint256)'),
  encodeAbiParameters([{ type: 'bytes' }, { type: 'uint8' }, { type: 'address[]' }, { type: 'uint256' }], [bytesToHex(name), 0, participants, 1n]),
]);

test('Computations: names the enclave would refuse are refused on-chain; "\\uFEFFpoll" and "poll" are two computations', async () => {
  const d = await computations();
  const [a, b] = [d.c.accounts[1].address, d.c.accounts[2].address];
  const sendRaw = (data: Hex) => d.c.wallets[0].sendTransaction({ to: d.core, data, gas: 1_000_000n });
  for (const bad of [new Uint8Array(64).fill(0xff), new Uint8Array([0x70, 0xc0, 0xaf]), new Uint8Array([0xed, 0xa0, 0x80])]) {
    await expectRevert(d.c.publicClient.call({ account: d.c.accounts[0], to: d.core, data: createRaw(bad, [a, b]) }), 'ComputationNameNotUtf8');
    const h = await sendRaw(createRaw(bad, [a, b]));
    assert.equal((await d.c.publicClient.getTransactionReceipt({ hash: h })).status, 'reverted');
  }
  await send(d.c, d.c.wallets[0], d.core, d.abi, 'createComputation', ['\uFEFFpoll', 0, [a, b], 1n]);
  await send(d.c, d.c.wallets[0], d.core, d.abi, 'createComputation', ['poll', 0, [a, b], 2n]);
  assert.equal(await d.c.publicClient.readContract({ address: d.core, abi: d.abi, functionName: 'computationCount' }), 2n);
  assert.equal(await d.c.publicClient.readContract({ address: d.core, abi: d.abi, functionName: 'requestCount' }), 2n, 'only the two valid names were appended');
});
