// The host's commitBatch gas limit without eth_estimateGas (commitGasBound, docs/protocol.md#commit-gas): for
// commitments from one small output to the output caps, and with MAX_PUBLIC_OUTPUTS_PER_BATCH public outputs whose
// hooks burn their whole stipend, a transaction sent with exactly the bound as its gas limit succeeds, the bound
// covers what eth_estimateGas asks for, it is not wildly loose, and at the caps it stays under the EIP-7825 cap (so a
// legal batch never needs the estimate fallback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeFunctionData, keccak256, toHex, type Abi, type Address, type Hex } from 'viem';
import { GeodeCoreAbi } from '@geode/contracts';
import { compileContracts } from '@geode/contracts/build';
import {
  MAX_OUTPUT_BYTES_PER_BATCH, MAX_PUBLIC_OUTPUTS_PER_BATCH, MAX_PUBLIC_OUTPUT_BYTES, NO_PUBLIC_OUTPUTS, TX_GAS_CAP,
  commitmentDigest, encodeOutputs, encodePublicOutputs, encodedOutputBytes, encodedPublicOutputBytes, type BatchOutput, type PublicOutput,
} from '@geode/protocol';
import { commitGasBound } from '../src/commit-gas.ts';
import { CHAIN_ID, send, startChain } from '../../contracts/test/helpers.ts';
import { deployCore, openSession, privatePayload } from '../../contracts/test/fixtures.ts';

// An app contract whose hook burns all the gas it is given (the worst case a public output can cost).
const BURNER = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;
import {GeodeCore} from "@geode/contracts/GeodeCore.sol";
contract HookBurner is GeodeCore {
    uint256 public burnt;
    constructor(bytes32[] memory m, address v, address s, bytes32 g, bytes32 p, address a) GeodeCore(m, v, s, g, p, a) {}
    function _onPublicOutput(uint256, bytes calldata) internal override { while (true) { burnt++; } }
}
`;

const outputsOf = (n: number, ctBytes: number): BatchOutput[] =>
  Array.from({ length: n }, (_, i) => ({ recipient: toHex(randomBytes(20)) as Address, seq: BigInt(i + 1), ciphertext: toHex(randomBytes(ctBytes)) }));
const publicOf = (n: number, bytes: number): PublicOutput[] => Array.from({ length: n }, (_, i) => ({ seq: BigInt(i + 1), data: toHex(randomBytes(bytes)) }));

test('commitGasBound: a commitment sent with the bound as its gas limit lands, from one output to the caps, hooks burning their stipend', { timeout: 120_000 }, async () => {
  const burner = compileContracts({ 'test/HookBurner.sol': BURNER }).contracts.HookBurner!;
  const c = await startChain();
  const d = await deployCore(c, { abi: burner.abi as Abi, bytecode: burner.bytecode });
  const { id, signer } = await openSession(d);
  const perOutputAtCap = Math.floor(MAX_OUTPUT_BYTES_PER_BATCH / 8) - 5 * 32; // 8 outputs fill the cap exactly
  const publicBytes = MAX_PUBLIC_OUTPUTS_PER_BATCH * encodedPublicOutputBytes(MAX_PUBLIC_OUTPUT_BYTES);
  const shapes: { name: string; outputs: BatchOutput[]; pub: PublicOutput[] }[] = [
    { name: '1 output', outputs: outputsOf(1, 96), pub: [] },
    { name: '512 outputs of 96 bytes', outputs: outputsOf(512, 96), pub: [] },
    { name: '8 outputs at the byte cap', outputs: outputsOf(8, perOutputAtCap), pub: [] },
    { name: '1 output at the byte cap', outputs: outputsOf(1, MAX_OUTPUT_BYTES_PER_BATCH - 5 * 32), pub: [] },
    { name: '32 burning public outputs of 1 KiB', outputs: [], pub: publicOf(MAX_PUBLIC_OUTPUTS_PER_BATCH, MAX_PUBLIC_OUTPUT_BYTES) },
    { name: '32 burning public outputs + outputs to the byte cap', outputs: outputsOf(1, MAX_OUTPUT_BYTES_PER_BATCH - publicBytes - 5 * 32), pub: publicOf(MAX_PUBLIC_OUTPUTS_PER_BATCH, MAX_PUBLIC_OUTPUT_BYTES) },
  ];
  let root: Hex = `0x${'00'.repeat(32)}`;
  for (const [k, s] of shapes.entries()) {
    const bytes = s.outputs.reduce((n, o) => n + encodedOutputBytes((o.ciphertext.length - 2) / 2 - 48), 0) + s.pub.reduce((n, p) => n + encodedPublicOutputBytes((p.data.length - 2) / 2), 0);
    assert.ok(bytes <= MAX_OUTPUT_BYTES_PER_BATCH, `${s.name}: within the batch cap (${bytes})`);
    const seq = BigInt(k + 1);
    await send(c, c.wallets[0], d.core, d.abi, 'submitRequest', [privatePayload()]);
    const accTo = (await c.publicClient.readContract({ address: d.core, abi: d.abi, functionName: 'accAt', args: [seq] })) as Hex;
    const outputs = encodeOutputs(s.outputs);
    const publicOutputs = s.pub.length ? encodePublicOutputs(s.pub) : NO_PUBLIC_OUTPUTS;
    const newRoot = keccak256(toHex(`root ${k}`));
    const digest = commitmentDigest({ chainId: CHAIN_ID, contract: d.core, sessionId: id, from: seq, to: seq, accTo, prevRoot: root, newRoot, outputsHash: keccak256(outputs), publicOutputsHash: keccak256(publicOutputs) });
    const args = [seq, seq, accTo, root, newRoot, outputs, publicOutputs, signer.sign(digest)] as const;
    const bound = commitGasBound(encodeFunctionData({ abi: GeodeCoreAbi, functionName: 'commitBatch', args }), s.pub.length);
    const estimate = await c.publicClient.estimateContractGas({ account: c.accounts[0], address: d.core, abi: d.abi, functionName: 'commitBatch', args });
    const hash = await c.wallets[0].writeContract({ address: d.core, abi: GeodeCoreAbi, functionName: 'commitBatch', args, gas: bound });
    const r = await c.publicClient.getTransactionReceipt({ hash });
    console.log(`${s.name}: bound ${bound}, estimate ${estimate}, used ${r.gasUsed} (bound/used ${(Number(bound) / Number(r.gasUsed)).toFixed(2)})`);
    assert.equal(r.status, 'success', `${s.name}: the commitment sent with the bound as gas limit landed`);
    assert.ok(bound >= estimate, `${s.name}: the bound ${bound} covers eth_estimateGas ${estimate}`);
    assert.ok(bound <= 3n * r.gasUsed, `${s.name}: the bound ${bound} is at most 3x the gas used ${r.gasUsed}`);
    assert.ok(bound < TX_GAS_CAP, `${s.name}: the bound ${bound} is under the EIP-7825 cap`);
    if (s.pub.length) {
      const logs = r.logs.filter((l) => l.address.toLowerCase() === d.core.toLowerCase());
      assert.ok(logs.length >= 1 + s.pub.length, 'every public output was delivered (its hook ran, and burnt its stipend)');
    }
    assert.equal(await c.publicClient.readContract({ address: d.core, abi: d.abi, functionName: 'committedSeq' }), seq);
    root = newRoot;
  }
});

test('commitGasBound: grows with the calldata, counts non-zero bytes four times (EIP-2028) and never goes under the EIP-7623 floor', () => {
  const zeros = `0x${'00'.repeat(10_000)}` as Hex;
  const ones = `0x${'11'.repeat(10_000)}` as Hex;
  assert.ok(commitGasBound(ones, 0) > commitGasBound(zeros, 0));
  assert.ok(commitGasBound(`0x${'11'.repeat(20_000)}`, 0) > commitGasBound(ones, 0));
  assert.ok(commitGasBound(ones, 1) > commitGasBound(ones, 0));
  // The floor: 21,000 + 10 gas per token, 4 tokens per non-zero byte.
  assert.ok(commitGasBound(ones, 0) >= 21_000n + 10n * 4n * 10_000n);
});
