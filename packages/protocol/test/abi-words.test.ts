import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from 'viem';
import fc from 'fast-check';
import { DOMAIN, accumulatorStep, outputAad, requestAad } from '@geode/protocol';

// The fixed-layout hashes must give exactly the bytes of the generic encoder they replace (and of the contract's
// abi.encode, which the contract tests check against the same protocol functions).
const u256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
const b32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b));
const addr = fc.tuple(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.boolean()).map(([b, checksum]) => (checksum ? getAddress(bytesToHex(b)) : bytesToHex(b)) as Address);

test('accumulatorStep, requestAad and outputAad equal keccak256(encodeAbiParameters(...)) / encodeAbiParameters(...)', () => {
  fc.assert(fc.property(b32, u256, addr, u256, b32, (prev, seq, sender, sessionId, ph) => {
    const ref = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }, { type: 'bytes32' }], [prev, seq, sender, sessionId, ph]));
    assert.equal(accumulatorStep(prev, seq, sender, sessionId, ph), ref);
    assert.equal(accumulatorStep(prev.toUpperCase().replace('0X', '0x') as Hex, seq, sender, sessionId, ph), ref, 'hex case does not change the bytes');
  }), { numRuns: 200 });
  fc.assert(fc.property(u256, addr, u256, addr, u256, (chainId, contract, sessionId, who, seq) => {
    assert.equal(requestAad(chainId, contract, sessionId, who),
      encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }, { type: 'address' }], [DOMAIN.requestAad, chainId, contract, sessionId, who]));
    assert.equal(outputAad(chainId, contract, sessionId, who, seq),
      encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }], [DOMAIN.outputAad, chainId, contract, sessionId, who, seq]));
  }), { numRuns: 200 });
});

test('the fixed-layout hashes refuse what encodeAbiParameters refuses', () => {
  const z = `0x${'00'.repeat(32)}` as Hex;
  const a = '0x00000000000000000000000000000000000000aa' as Address;
  assert.throws(() => accumulatorStep(z, -1n, a, 0n, z), RangeError);
  assert.throws(() => accumulatorStep(z, 1n << 256n, a, 0n, z), RangeError);
  assert.throws(() => accumulatorStep('0x00' as Hex, 1n, a, 0n, z), TypeError);
  assert.throws(() => accumulatorStep(z, 1n, '0x00000000000000000000000000000000000000aA' as Address, 0n, z), TypeError, 'bad EIP-55 checksum');
  assert.throws(() => outputAad(1n, '0x1234' as Address, 0n, a, 1n), TypeError);
  assert.throws(() => requestAad(1n, a, 0n, `0x${'g'.repeat(40)}` as Address), TypeError);
});
