import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdfSync } from 'node:crypto';
import { hexToBytes, keccak256, numberToBytes, toHex, type Address } from 'viem';
import { keyIdOf, outputAad } from '@geode/protocol';
import { SessionKeys, generateKeyMaterial } from '../src/index.ts';
import { deserializeKeyMaterial, serializeKeyMaterial } from '../src/keys.ts';

test('keys: material round trip, low-s r||s||v signatures, deterministic random and output ikm', async () => {
  const k = await SessionKeys.fromMaterial({ ...generateKeyMaterial(), sessionId: 7n });
  const m = k.material;
  const m2 = deserializeKeyMaterial(serializeKeyMaterial(m));
  assert.deepEqual(m2, m);
  const k2 = await SessionKeys.fromMaterial(m2);
  assert.equal(k.encPubKey, k2.encPubKey);
  assert.equal(k.signer, k2.signer);
  for (let i = 0; i < 20; i++) {
    const d = keccak256(toHex(`d${i}`));
    const sig = hexToBytes(k.sign(d));
    assert.equal(sig.length, 65);
    assert.ok(sig[64] === 27 || sig[64] === 28);
    const s = BigInt(`0x${Buffer.from(sig.subarray(32, 64)).toString('hex')}`);
    assert.ok(s <= secp256k1.Point.CURVE().n / 2n);
  }
  assert.deepEqual(k.random(5n, 'x', 16), k2.random(5n, 'x', 16));
  assert.notDeepEqual(k.random(5n, 'x', 16), k.random(6n, 'x', 16));
  assert.notDeepEqual(k.random(5n, 'x', 16), k.random(5n, 'y', 16));
  assert.throws(() => k.random(1n, 'x', 0), RangeError);
  // the documented formula, recomputed here, on both sides of the 2^64 fast path
  for (const seq of [0n, 5n, (1n << 64n) - 1n, 1n << 64n, (1n << 256n) - 1n]) {
    const rinfo = Buffer.concat([Buffer.from('geode.random.v1', 'ascii'), numberToBytes(seq, { size: 32 }), Buffer.from('lbl', 'utf8')]);
    assert.deepEqual(k.random(seq, 'lbl', 40), new Uint8Array(hkdfSync('sha256', k.material.appSecret, new Uint8Array(0), rinfo, 40)));
  }
  const pk = new Uint8Array(32).fill(4);
  const to = '0x' + '11'.repeat(20) as Address;
  const aad = (sessionId: bigint, seq = 1n, chainId = 31337n, contract: Address = '0x' + '22'.repeat(20) as Address, recipient = to) => hexToBytes(outputAad(chainId, contract, sessionId, recipient, seq));
  const a = k.outputEphemeralIkm(0, aad(1n), pk, new Uint8Array([1]));
  // the documented formula, recomputed here from its parts
  const info = Buffer.concat([Buffer.from('geode.output-ekm.v2', 'ascii'), numberToBytes(0n, { size: 32 }), hexToBytes(keccak256(aad(1n))), pk, hexToBytes(keccak256(new Uint8Array([1])))]);
  assert.deepEqual(a, new Uint8Array(hkdfSync('sha256', k.material.appSecret, new Uint8Array(0), info, 32)));
  assert.deepEqual(a, k2.outputEphemeralIkm(0, aad(1n), pk, new Uint8Array([1])));
  assert.notDeepEqual(a, k.outputEphemeralIkm(0, aad(1n), pk, new Uint8Array([2])), 'different plaintext, different ephemeral key');
  assert.notDeepEqual(a, k.outputEphemeralIkm(1, aad(1n), pk, new Uint8Array([1])), 'different position');
  assert.notDeepEqual(a, k.outputEphemeralIkm(0, aad(1n), new Uint8Array(32).fill(5), new Uint8Array([1])), 'different recipient key');
  // every AAD field: a re-processing under another session (or any other binding) never reuses the (key, nonce) pair
  for (const other of [aad(2n), aad(1n, 2n), aad(1n, 1n, 1n), aad(1n, 1n, 31337n, to), aad(1n, 1n, 31337n, undefined, '0x' + '33'.repeat(20) as Address)]) {
    assert.notDeepEqual(a, k.outputEphemeralIkm(0, other, pk, new Uint8Array([1])));
  }
  assert.match(k.keyId, /^0x[0-9a-f]{64}$/);
  assert.equal(k.keyId, keyIdOf(k.encPubKey, k.signer));
  assert.notEqual(k.keyId, (await SessionKeys.fromMaterial(generateKeyMaterial())).keyId);
  assert.deepEqual(k.stateSealingKey(new Uint8Array(32), new Uint8Array(32)), k2.stateSealingKey(new Uint8Array(32), new Uint8Array(32)));
  // the state key depends on every secret of the material (through statePrk; the v1 file format carries them all)
  const v1 = (appSecret: string) => deserializeKeyMaterial(new TextEncoder().encode(JSON.stringify({ v: 1, hpkeSeed: `0x${'01'.repeat(32)}`, signerKey: `0x${'02'.repeat(32)}`, appSecret, sessionId: null })));
  assert.notDeepEqual((await SessionKeys.fromMaterial(v1(`0x${'03'.repeat(32)}`))).stateSealingKey(new Uint8Array(32), new Uint8Array(32)), (await SessionKeys.fromMaterial(v1(`0x${'09'.repeat(32)}`))).stateSealingKey(new Uint8Array(32), new Uint8Array(32)), 'the state key depends on every secret of the material');
  assert.throws(() => deserializeKeyMaterial(new TextEncoder().encode('{"v":1}')));
});
