import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hexToBytes } from 'viem';
import fc from 'fast-check';
import { hpkeDeriveKeyPair, hpkeOpen, hpkeSeal, HpkeOpenError, nodeX25519, stockSuite } from '@geode/protocol';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('X25519 on node:crypto matches RFC 7748 §6.1', () => {
  const aSk = hexToBytes('0x77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bSk = hexToBytes('0x5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  assert.equal(hex(nodeX25519.getPublicKey(aSk)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(hex(nodeX25519.getPublicKey(bSk)), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  assert.equal(hex(nodeX25519.getSharedSecret(aSk, nodeX25519.getPublicKey(bSk))), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
  // A low-order public key (all zero) must be refused (RFC 9180 §7.1.4).
  assert.throws(() => nodeX25519.getSharedSecret(aSk, new Uint8Array(32)));
});

test('Geode HPKE suite is byte-identical to stock @hpke/core for the same ephemeral key, both directions', async () => {
  // Several infos, each seen many times: the suite remembers info_hash per info (NobleHkdfSha256.labeledExtract).
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 100 }), fc.constantFrom('geode.test', 'geode.other', ''), async (ikmR, ikmE, pt, aad, info) => {
      const r = await hpkeDeriveKeyPair(ikmR);
      const ours = await hpkeSeal(r.publicKey, info, aad, pt, ikmE);
      const stockR = await stockSuite.kem.deriveKeyPair(ikmR);
      assert.equal(hex(new Uint8Array(await stockSuite.kem.serializePublicKey(stockR.publicKey))), hex(r.publicKey), 'DeriveKeyPair must agree');
      const stock = await stockSuite.seal({ recipientPublicKey: stockR.publicKey, info: new TextEncoder().encode(info), ekm: await stockSuite.kem.deriveKeyPair(ikmE) }, pt, aad);
      assert.equal(hex(ours.enc), hex(new Uint8Array(stock.enc)));
      assert.equal(hex(ours.ciphertext), hex(new Uint8Array(stock.ct)));
      const opened = await stockSuite.open({ recipientKey: stockR, enc: ours.enc, info: new TextEncoder().encode(info) }, ours.ciphertext, aad);
      assert.equal(hex(new Uint8Array(opened)), hex(pt));
      assert.equal(hex(await hpkeOpen(r.privateKey, new Uint8Array(stock.enc), info, aad, new Uint8Array(stock.ct))), hex(pt));
    }),
    { numRuns: 60, seed: 7 },
  );
});

test('HPKE open refuses wrong aad, info, key and tampered bytes with HPKE_OPEN', async () => {
  const r = await hpkeDeriveKeyPair(new Uint8Array(32).fill(1));
  const other = await hpkeDeriveKeyPair(new Uint8Array(32).fill(2));
  const aad = new Uint8Array([1, 2, 3]);
  const { enc, ciphertext } = await hpkeSeal(r.publicKey, 'i', aad, new TextEncoder().encode('secret'));
  const cases: [Uint8Array, Uint8Array, string, Uint8Array, Uint8Array][] = [
    [r.privateKey, enc, 'i', new Uint8Array([1, 2, 4]), ciphertext],
    [r.privateKey, enc, 'j', aad, ciphertext],
    [other.privateKey, enc, 'i', aad, ciphertext],
    [r.privateKey, enc, 'i', aad, Uint8Array.from(ciphertext, (b, k) => (k === 0 ? b ^ 1 : b))],
    [r.privateKey, Uint8Array.from(enc, (b, k) => (k === 5 ? b ^ 1 : b)), 'i', aad, ciphertext],
  ];
  for (const [sk, e, info, a, ct] of cases) await assert.rejects(hpkeOpen(sk, e, info, a, ct), (err: unknown) => err instanceof HpkeOpenError && err.code === 'HPKE_OPEN');
  assert.equal(new TextDecoder().decode(await hpkeOpen(r.privateKey, enc, 'i', aad, ciphertext)), 'secret');
});
