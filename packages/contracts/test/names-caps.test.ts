// Names are bytes and nothing a user sends can stop the chain of commitments, at the contract (an app's own name
// checks are tested with the app, e.g. apps/computations/test/contract.test.ts):
// - Utf8.isValid agrees with the enclave's strict decoder (a fatal TextDecoder) on edge cases and random bytes;
// - a commitment at the output caps (MAX_OUTPUT_BYTES_PER_BATCH of random, non-zero-heavy ciphertext) lands within
//   the EIP-7825 per-transaction gas cap with a wide margin, so no request can be uncommittable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { bytesToHex, concatHex, encodeAbiParameters, hexToBytes, keccak256, toFunctionSelector, toHex, type Abi, type Address, type Hex } from 'viem';
import {
  MAX_OUTPUTS_PER_REQUEST, MAX_OUTPUT_BYTES_PER_BATCH, NO_PUBLIC_OUTPUTS, TX_GAS_CAP, commitmentDigest, encodeOutputs, encodedOutputBytes, isValidUtf8,
  type BatchOutput,
} from '@geode/protocol';
import { compileContracts } from '../src/build.ts';
import { deploy, expectRevert, send, startChain, CHAIN_ID } from './helpers.ts';
import { deployCore, openSession, privatePayload } from './fixtures.ts';

const PROBE = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;
import {Utf8} from "@geode/contracts/Utf8.sol";
contract Utf8Probe { function isValid(bytes calldata s) external pure returns (bool) { return Utf8.isValid(s); } }
`;

let probe: Promise<{ call(b: Uint8Array): Promise<boolean> }> | undefined;
function utf8Probe() {
  probe ??= (async () => {
    const c = compileContracts({ 'test/Utf8Probe.sol': PROBE }).contracts.Utf8Probe!;
    const chain = await startChain();
    const address = await deploy(chain, chain.wallets[0], c.abi as Abi, c.bytecode, []);
    return {
      call: async (b: Uint8Array) => (await chain.publicClient.readContract({ address, abi: c.abi as Abi, functionName: 'isValid', args: [bytesToHex(b)] })) as boolean,
    };
  })();
  return probe;
}

const EDGE: [string, number[], boolean][] = [
  ['empty', [], true],
  ['ASCII', [0x70, 0x6f, 0x6c, 0x6c], true],
  ['NUL', [0x00], true],
  ['BOM + poll', [0xef, 0xbb, 0xbf, 0x70], true],
  ['U+0080 (C2 80)', [0xc2, 0x80], true],
  ['overlong "/" (C0 AF)', [0xc0, 0xaf], false],
  ['overlong C1 BF', [0xc1, 0xbf], false],
  ['U+0800 (E0 A0 80)', [0xe0, 0xa0, 0x80], true],
  ['overlong E0 9F BF', [0xe0, 0x9f, 0xbf], false],
  ['U+D7FF (ED 9F BF)', [0xed, 0x9f, 0xbf], true],
  ['surrogate U+D800 (ED A0 80)', [0xed, 0xa0, 0x80], false],
  ['surrogate U+DFFF (ED BF BF)', [0xed, 0xbf, 0xbf], false],
  ['U+FFFF (EF BF BF)', [0xef, 0xbf, 0xbf], true],
  ['U+10000 (F0 90 80 80)', [0xf0, 0x90, 0x80, 0x80], true],
  ['overlong F0 8F BF BF', [0xf0, 0x8f, 0xbf, 0xbf], false],
  ['U+10FFFF (F4 8F BF BF)', [0xf4, 0x8f, 0xbf, 0xbf], true],
  ['U+110000 (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80], false],
  ['F5 lead', [0xf5, 0x80, 0x80, 0x80], false],
  ['FF', [0xff], false],
  ['stray continuation', [0x80], false],
  ['truncated 2-byte', [0xc3], false],
  ['truncated 3-byte', [0xe2, 0x82], false],
  ['truncated 4-byte', [0xf0, 0x9f, 0x98], false],
  ['bad continuation', [0xe2, 0x28, 0xa1], false],
  ['64 x FF', new Array(64).fill(0xff), false],
];

test('Utf8.isValid: RFC 3629 edge cases, same verdict as the enclave decoder', async () => {
  const p = await utf8Probe();
  for (const [name, bytes, valid] of EDGE) {
    const b = new Uint8Array(bytes);
    assert.equal(isValidUtf8(b), valid, `decoder: ${name}`);
    assert.equal(await p.call(b), valid, `Utf8.sol: ${name}`);
  }
});

test('Utf8.isValid: property, agrees with the fatal TextDecoder on random bytes and random text', async () => {
  const p = await utf8Probe();
  // Bytes biased towards the interesting region (lead and continuation bytes), and real text with a random byte flipped.
  const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xff }));
  const raw = fc.array(byte, { maxLength: 12 }).map((a) => new Uint8Array(a));
  const text = fc.tuple(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([s, i, v]) => {
    const b = new TextEncoder().encode(s);
    if (b.length > 0) b[i % b.length] = v;
    return b;
  });
  await fc.assert(fc.asyncProperty(fc.oneof(raw, text), async (b) => {
    assert.equal(await p.call(b), isValidUtf8(b), `bytes ${bytesToHex(b)}`);
  }), { numRuns: 300, seed: 7 });
});

test('caps: a commitment at MAX_OUTPUT_BYTES_PER_BATCH commits well under the EIP-7825 gas cap (2^24)', async () => {
  const c = await startChain();
  const d = await deployCore(c);
  const { id, signer } = await openSession(d);
  await send(c, c.wallets[0], d.core, d.abi, 'submitRequest', [privatePayload()]);
  // MAX_OUTPUTS_PER_REQUEST outputs of random ciphertext (almost no zero bytes) filling the batch cap exactly, and
  // the same bytes as a single output: the two extreme shapes of a batch at the cap.
  const per = Math.floor(MAX_OUTPUT_BYTES_PER_BATCH / MAX_OUTPUTS_PER_REQUEST);
  const ctLen = (bytes: number) => bytes - 5 * 32; // encodedOutputBytes minus the 5 words, a multiple of 32
  const shapes: BatchOutput[][] = [
    Array.from({ length: MAX_OUTPUTS_PER_REQUEST }, () => ({ recipient: toHex(randomBytes(20)) as Address, seq: 1n, ciphertext: toHex(randomBytes(ctLen(per))) })),
    [{ recipient: toHex(randomBytes(20)) as Address, seq: 1n, ciphertext: toHex(randomBytes(ctLen(MAX_OUTPUT_BYTES_PER_BATCH))) }],
  ];
  const accTo = (await c.publicClient.readContract({ address: d.core, abi: d.abi, functionName: 'accAt', args: [1n] })) as Hex;
  for (const outs of shapes) {
    const total = outs.reduce((n, o) => n + encodedOutputBytes(hexToBytes(o.ciphertext).length - 48), 0);
    assert.equal(total, MAX_OUTPUT_BYTES_PER_BATCH);
    const outputs = encodeOutputs(outs);
    const newRoot = keccak256(outputs);
    const digest = commitmentDigest({ chainId: CHAIN_ID, contract: d.core, sessionId: id, from: 1n, to: 1n, accTo, prevRoot: `0x${'00'.repeat(32)}`, newRoot, outputsHash: keccak256(outputs), publicOutputsHash: keccak256(NO_PUBLIC_OUTPUTS) });
    const args = [1n, 1n, accTo, `0x${'00'.repeat(32)}`, newRoot, outputs, NO_PUBLIC_OUTPUTS, signer.sign(digest)] as const;
    const gas = await c.publicClient.estimateContractGas({ account: c.accounts[0], address: d.core, abi: d.abi, functionName: 'commitBatch', args });
    console.log(`commitBatch at the cap (${outs.length} outputs, ${outputs.length / 2 - 1} bytes): estimated ${gas} gas = ${(Number(gas) / Number(TX_GAS_CAP) * 100).toFixed(1)}% of 2^24`);
    assert.ok(gas * 2n < TX_GAS_CAP, `${gas} gas is not under half the per-transaction cap`);
  }
  // The many-outputs shape, committed for real with the transaction gas limit at the cap.
  const outputs = encodeOutputs(shapes[0]!);
  const newRoot = keccak256(outputs);
  const digest = commitmentDigest({ chainId: CHAIN_ID, contract: d.core, sessionId: id, from: 1n, to: 1n, accTo, prevRoot: `0x${'00'.repeat(32)}`, newRoot, outputsHash: keccak256(outputs), publicOutputsHash: keccak256(NO_PUBLIC_OUTPUTS) });
  const hash = await c.wallets[0].writeContract({ address: d.core, abi: d.abi, functionName: 'commitBatch', args: [1n, 1n, accTo, `0x${'00'.repeat(32)}`, newRoot, outputs, NO_PUBLIC_OUTPUTS, signer.sign(digest)], gas: TX_GAS_CAP } as never);
  const r = await c.publicClient.getTransactionReceipt({ hash });
  assert.equal(r.status, 'success');
  assert.equal(await c.publicClient.readContract({ address: d.core, abi: d.abi, functionName: 'committedSeq' }), 1n);
});
