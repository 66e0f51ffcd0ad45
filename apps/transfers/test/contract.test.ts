// Transfers.sol and GeodeCore's public-output delivery on an EDR chain, with commitments signed by a test session key
// (no enclave): the deposit request equals the app declaration's encoding; a withdrawal's public output is credited
// exactly once and claimed once; a failing hook is recorded and does not stop the commitment or later outputs; a
// sender that starves the hooks gets HookGasTooLow, never a silent failure; only the contract may call the hook.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEventLog, encodeAbiParameters, keccak256, type Address, type Hex } from 'viem';
import { ACC_ZERO, NO_PUBLIC_OUTPUTS, accumulatorStep, commitmentDigest, encodePublicOutputs, encodePublicRequest, type PublicOutput } from '@geode/protocol';
import { TransfersAbi, TransfersBytecode } from '../generated/artifacts.ts';
import { CHAIN_ID, expectRevert, randomHex32, send, startChain, type Chain } from '../../../packages/contracts/test/helpers.ts';
import { deployCore, openSession, privatePayload, type Deployment } from '../../../packages/contracts/test/fixtures.ts';
import { WITHDRAWAL_OUTPUT, transfersSpec } from '../src/index.ts';

const abi = TransfersAbi;
let c: Chain;
let d: Deployment;
let s: Awaited<ReturnType<typeof openSession>>;
let alice: Address;
let committed = 0n;
let root: Hex = ACC_ZERO;

const read = <T>(functionName: string, args: readonly unknown[] = []) =>
  c.publicClient.readContract({ address: d.core, abi, functionName, args } as never) as Promise<T>;

before(async () => {
  c = await startChain();
  d = await deployCore(c, { abi, bytecode: TransfersBytecode });
  s = await openSession(d);
  alice = c.accounts[2]!.address;
});

/** commitBatch args for every request up to requestCount, with `publics`, signed by the session key. */
async function commitArgs(publics: PublicOutput[]) {
  const to = await read<bigint>('requestCount');
  const accTo = await read<Hex>('accAt', [to]);
  const newRoot = randomHex32();
  const publicOutputs = publics.length ? encodePublicOutputs(publics) : NO_PUBLIC_OUTPUTS;
  const digest = commitmentDigest({ chainId: CHAIN_ID, contract: d.core, sessionId: s.id, from: committed + 1n, to, accTo, prevRoot: root, newRoot, outputsHash: keccak256('0x'), publicOutputsHash: keccak256(publicOutputs) });
  const args = [committed + 1n, to, accTo, root, newRoot, '0x', publicOutputs, s.signer.sign(digest)] as const;
  return { args, done: () => { committed = to; root = newRoot; } };
}

const withdrawal = (seq: bigint, to: Address, amount: bigint): PublicOutput => ({ seq, data: encodeAbiParameters(WITHDRAWAL_OUTPUT, [to, amount]) });

test('deposit appends exactly the body the app declaration encodes; a zero deposit is refused', async () => {
  await expectRevert(c.wallets[2].writeContract({ address: d.core, abi, functionName: 'deposit', args: [], value: 0n }), 'ZeroDeposit');
  const hash = await c.wallets[2].writeContract({ address: d.core, abi, functionName: 'deposit', args: [], value: 100n });
  const rc = await c.publicClient.getTransactionReceipt({ hash });
  const [req, dep] = rc.logs.map((l) => decodeEventLog({ abi, ...l }));
  const payload: Hex = `0x02${encodePublicRequest(transfersSpec.publicKind('deposit'), transfersSpec.encodePublic('deposit', [100n])).slice(2)}`;
  assert.deepEqual(req!.args, { seq: 1n, sender: alice, sessionId: s.id, payload });
  assert.deepEqual(dep!.args, { account: alice, amount: 100n, seq: 1n });
  const acc = accumulatorStep(ACC_ZERO, 1n, alice, s.id, keccak256(payload));
  assert.equal(await read('accumulator'), acc);
  assert.equal(await c.publicClient.getBalance({ address: d.core }), 100n);
});

test('a withdrawal public output is credited once in commitBatch, claimed once, and the commitment cannot be replayed', async () => {
  await send(c, c.wallets[2], d.core, abi, 'submitRequest', [privatePayload()]); // the (encrypted) withdraw request, seq 2
  const { args, done } = await commitArgs([withdrawal(2n, alice, 40n)]);
  const rc = await send(c, c.wallets[1], d.core, abi, 'commitBatch', args);
  done();
  const events = rc.logs.map((l) => decodeEventLog({ abi, ...l })).map((e) => [e.eventName, e.args] as const);
  assert.deepEqual(events.map(([n]) => n), ['BatchCommitted', 'WithdrawalCredited', 'PublicOutputDelivered']);
  assert.deepEqual(events[1]![1], { seq: 2n, account: alice, amount: 40n });
  assert.equal((events[2]![1] as { ok: boolean }).ok, true);
  assert.equal(await read('owed', [alice]), 40n);
  assert.equal(await read('totalOwed'), 40n);
  await expectRevert(c.wallets[1].writeContract({ address: d.core, abi, functionName: 'commitBatch', args }), 'UnexpectedBatchStart');
  assert.equal(await read('owed', [alice]), 40n, 'a replayed commitment credits nothing');

  const before = await c.publicClient.getBalance({ address: alice });
  const h = await c.wallets[2].writeContract({ address: d.core, abi, functionName: 'claim', args: [] });
  const r = await c.publicClient.getTransactionReceipt({ hash: h });
  const after = await c.publicClient.getBalance({ address: alice });
  assert.equal(after - before + r.gasUsed * r.effectiveGasPrice, 40n);
  assert.equal(await read('owed', [alice]), 0n);
  assert.equal(await read('totalOwed'), 0n);
  assert.equal(await c.publicClient.getBalance({ address: d.core }), 60n);
  await expectRevert(c.wallets[2].writeContract({ address: d.core, abi, functionName: 'claim', args: [] }), 'NothingToClaim');
});

test('a failing hook is recorded (ok = false) and neither undoes the commitment nor stops the next output', async () => {
  await send(c, c.wallets[2], d.core, abi, 'submitRequest', [privatePayload()]);
  const bad: PublicOutput = { seq: 3n, data: '0x010203' }; // not abi.encode(address, uint256): the hook's decode reverts
  const { args, done } = await commitArgs([bad, withdrawal(3n, alice, 5n)]);
  const rc = await send(c, c.wallets[1], d.core, abi, 'commitBatch', args);
  done();
  const delivered = rc.logs.map((l) => decodeEventLog({ abi, ...l })).filter((e) => e.eventName === 'PublicOutputDelivered').map((e) => e.args as { index: bigint; ok: boolean });
  assert.deepEqual(delivered.map((e) => [e.index, e.ok]), [[0n, false], [1n, true]]);
  assert.equal(await read('committedSeq'), committed);
  assert.equal(await read('owed', [alice]), 5n);
});

test('a sender that gives commitBatch too little gas for a hook gets HookGasTooLow; only the contract may call the hook', async () => {
  await send(c, c.wallets[2], d.core, abi, 'submitRequest', [privatePayload()]);
  const { args, done } = await commitArgs([withdrawal(4n, alice, 1n)]);
  const full = await c.publicClient.estimateContractGas({ account: c.accounts[1]!, address: d.core, abi, functionName: 'commitBatch', args });
  // Enough for everything before the hook, not for its stipend: the whole call reverts instead of recording a failure.
  await expectRevert(c.publicClient.simulateContract({ account: c.accounts[1]!, address: d.core, abi, functionName: 'commitBatch', args, gas: full - 60_000n }), 'HookGasTooLow');
  await send(c, c.wallets[1], d.core, abi, 'commitBatch', args);
  done();
  await expectRevert(c.wallets[2].writeContract({ address: d.core, abi, functionName: 'deliverPublicOutput', args: [1n, withdrawal(1n, alice, 10n ** 18n).data] }), 'OnlySelf');
  assert.equal(await read('owed', [alice]), 6n);
});

test('gas: a commitment at every cap (32 public outputs of 1,024 bytes, each a fresh credit, plus encrypted outputs filling the byte cap) fits the transaction cap', async () => {
  const { MAX_OUTPUT_BYTES_PER_BATCH, MAX_PUBLIC_OUTPUTS_PER_BATCH, MAX_PUBLIC_OUTPUT_BYTES, TX_GAS_CAP, encodeOutputs, encodedOutputBytes, encodedPublicOutputBytes } = await import('@geode/protocol');
  await send(c, c.wallets[2], d.core, abi, 'submitRequest', [privatePayload()]);
  const seq = await read<bigint>('requestCount');
  const publics = Array.from({ length: MAX_PUBLIC_OUTPUTS_PER_BATCH }, (_, i) => {
    const head = encodeAbiParameters(WITHDRAWAL_OUTPUT, [`0x${(0xbeef0000 + i).toString(16).padStart(40, '0')}`, 1n]);
    return { seq, data: `${head}${'ff'.repeat(MAX_PUBLIC_OUTPUT_BYTES - 64)}` as Hex };
  });
  const left = MAX_OUTPUT_BYTES_PER_BATCH - MAX_PUBLIC_OUTPUTS_PER_BATCH * encodedPublicOutputBytes(MAX_PUBLIC_OUTPUT_BYTES);
  let plain = 0;
  while (encodedOutputBytes(plain + 32) <= left) plain += 32;
  const outputs = encodeOutputs([{ recipient: alice, seq, ciphertext: `0x${'ab'.repeat(32 + plain + 16)}` }]);
  const to = seq;
  const accTo = await read<Hex>('accAt', [to]);
  const newRoot = randomHex32();
  const publicOutputs = encodePublicOutputs(publics);
  const digest = commitmentDigest({ chainId: CHAIN_ID, contract: d.core, sessionId: s.id, from: committed + 1n, to, accTo, prevRoot: root, newRoot, outputsHash: keccak256(outputs), publicOutputsHash: keccak256(publicOutputs) });
  const args = [committed + 1n, to, accTo, root, newRoot, outputs, publicOutputs, s.signer.sign(digest)] as const;
  const gas = await c.publicClient.estimateContractGas({ account: c.accounts[1]!, address: d.core, abi, functionName: 'commitBatch', args });
  console.log(`commitBatch at every cap (${publics.length} public outputs, ${(outputs.length - 2) / 2 + (publicOutputs.length - 2) / 2} calldata bytes of outputs): estimated ${gas} gas = ${(Number(gas) / Number(TX_GAS_CAP) * 100).toFixed(1)}% of 2^24`);
  assert.ok(gas < TX_GAS_CAP, `${gas} gas is over the per-transaction cap`);
  const rc = await send(c, c.wallets[1], d.core, abi, 'commitBatch', args);
  committed = to; root = newRoot;
  const delivered = rc.logs.map((l) => decodeEventLog({ abi, ...l })).filter((e) => e.eventName === 'PublicOutputDelivered');
  assert.equal(delivered.length, MAX_PUBLIC_OUTPUTS_PER_BATCH);
  assert.ok(delivered.every((e) => (e.args as { ok: boolean }).ok), 'every hook had its full stipend');
});
