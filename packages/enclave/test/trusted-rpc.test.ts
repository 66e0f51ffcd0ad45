import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toRlp, type Hex } from 'viem';
import { TRUSTED_RPC_SIGNER, UNSIGNED_HEADER_SIGNATURE } from '@geode/protocol';
import { verifySignedHeader } from '@geode/enclave';
import { GENESIS, LC_SIGNER, signHeader } from './helpers.ts';

// A minimal 15-field header whose parentHash is GENESIS, number 1.
const z32 = `0x${'00'.repeat(32)}` as Hex;
const rlp = toRlp([GENESIS, z32, `0x${'00'.repeat(20)}`, z32, z32, z32, `0x${'00'.repeat(256)}`, '0x', '0x01', '0x01', '0x', '0x01', '0x', z32, '0x0000000000000000']);
const trusted = { number: 0n, hash: GENESIS };
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

test('trusted-RPC anchor: unsigned headers are accepted, linked and monotonic as usual', () => {
  const anchor = { chainId: 31337n, signer: TRUSTED_RPC_SIGNER, genesisHash: GENESIS };
  const h = verifySignedHeader(trusted, { rlp, signature: UNSIGNED_HEADER_SIGNATURE }, anchor);
  assert.equal(h.number, 1n);
  assert.equal(h.hash, keccak256(rlp));
  // A real signature is not what a trusted-RPC enclave expects: refused rather than silently ignored.
  assert.throws(() => verifySignedHeader(trusted, { rlp, signature: signHeader(rlp, 1n) }, anchor), code('LC_HEADER_SIGNATURE'));
  // Hash links still hold: a header claiming number 1 over another parent is refused.
  assert.throws(() => verifySignedHeader({ number: 0n, hash: keccak256('0x01') }, { rlp, signature: UNSIGNED_HEADER_SIGNATURE }, anchor), code('LC_HEADER_LINK'));
});

test('a signed-header anchor refuses the unsigned (zero) signature', () => {
  const anchor = { chainId: 31337n, signer: LC_SIGNER, genesisHash: GENESIS };
  assert.throws(() => verifySignedHeader(trusted, { rlp, signature: UNSIGNED_HEADER_SIGNATURE }, anchor), code('LC_HEADER_SIGNATURE'));
  assert.equal(verifySignedHeader(trusted, { rlp, signature: signHeader(rlp, 1n) }, anchor).number, 1n);
});
