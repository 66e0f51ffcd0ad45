// The host signs its commitments with the WebAssembly Keccak-256 (sign-tx.ts): the signed transaction must be
// byte-identical to viem's signTransaction (same digest, RFC 6979 deterministic signature), for calldata from empty
// to a commitment's size, and a wrong digest would change the bytes (so the comparison can fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, parseGwei, type Account, recoverTransactionAddress, serializeTransaction, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import fc from 'fast-check';
import { signsHashes, signTransactionWasm, withWasmKeccak } from '../src/sign-tx.ts';

const account = privateKeyToAccount(keccak256(toHex('geode sign-tx test')));

test('signTransactionWasm equals viem signTransaction byte for byte, for any calldata and fields', async () => {
  const asAccount: Account = account;
  assert.ok(signsHashes(asAccount));
  await fc.assert(fc.asyncProperty(
    fc.uint8Array({ maxLength: 4096 }), fc.nat({ max: 2 ** 31 }), fc.bigInt({ min: 21_000n, max: 16_777_216n }), fc.bigInt({ min: 1n, max: 10n ** 12n }),
    async (data, nonce, gas, fee) => {
      const tx = { chainId: 31337, nonce, gas, maxFeePerGas: fee * 2n, maxPriorityFeePerGas: fee, to: account.address, data: toHex(data) };
      const ours = await signTransactionWasm(account, tx);
      assert.equal(ours, await account.signTransaction({ ...tx, type: 'eip1559' }));
      assert.equal(await recoverTransactionAddress({ serializedTransaction: ours }), account.address);
    },
  ), { numRuns: 60 });
});

test('a commitment-sized transaction (200 KB of calldata) signs the same as viem, and a different one differs', async () => {
  const data = toHex(new Uint8Array(200_000).map((_, i) => (i * 31) & 0xff)) as Hex;
  const tx = { chainId: 31337, nonce: 7, gas: 16_000_000n, maxFeePerGas: parseGwei('2'), maxPriorityFeePerGas: parseGwei('1'), to: account.address, data };
  const ours = await signTransactionWasm(account, tx);
  assert.equal(ours, await account.signTransaction({ ...tx, type: 'eip1559' }));
  const other = await signTransactionWasm(account, { ...tx, nonce: 8 });
  assert.notEqual(other, ours);
  assert.equal(serializeTransaction({ ...tx, type: 'eip1559' }).length < ours.length, true);
});

test('withWasmKeccak: the wrapped account signs what viem would (EIP-1559 through the WASM path, legacy through the key)', async () => {
  const wrapped = withWasmKeccak(account);
  assert.notEqual(wrapped, account);
  assert.ok(wrapped.type === 'local');
  const tx = { chainId: 31337, nonce: 3, gas: 100_000n, maxFeePerGas: parseGwei('3'), maxPriorityFeePerGas: parseGwei('1'), to: account.address, data: toHex(new Uint8Array(5000).fill(7)) };
  assert.equal(await wrapped.signTransaction({ ...tx, type: 'eip1559' }), await account.signTransaction({ ...tx, type: 'eip1559' }));
  const legacy = { chainId: 31337, nonce: 3, gas: 100_000n, gasPrice: parseGwei('3'), to: account.address, type: 'legacy' as const };
  assert.equal(await wrapped.signTransaction(legacy), await account.signTransaction(legacy));
  assert.equal(await wrapped.signMessage({ message: 'm' }), await account.signMessage({ message: 'm' }));
  const rpc: Account = { address: account.address, type: 'json-rpc' };
  assert.equal(withWasmKeccak(rpc), rpc);
});

test('a JSON-RPC (non-local) account is not a hash-signing account', () => {
  assert.equal(signsHashes({ address: account.address, type: 'json-rpc' }), false);
});
