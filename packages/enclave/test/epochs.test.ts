import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { cpSync } from 'node:fs';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, encodeAbiParameters, hexToBytes, type Address, type Hex } from 'viem';
import {
  EPOCH, HPKE_INFO, SLOT, configHash, decodeEnvelope, encodeEnvelope, epochCommitmentDigest, commitmentDigest, hpkeDeriveKeyPair, hpkeSeal,
  mappingSlot, requestEpochAad, type GeodeConfig,
} from '@geode/protocol';
import { EnclaveRuntime, KEYS_FILE, SealedStore, SessionKeys, addressOfPublicKey, generateKeyMaterial, sealingKeyFor } from '../src/index.ts';
import { deserializeKeyMaterial, ratchetEpochSeed, serializeKeyMaterial } from '../src/keys.ts';
import { counterApp } from './fixtures/counter-app.ts';
import { CONTRACT, User, batchParams, fakePlatform, publicPayload, setup, testConfig, tmpDir } from './helpers.ts';
import { secp256k1 } from '@noble/curves/secp256k1.js';

const ADMIN = testConfig().admin.toLowerCase() as Address;
const rotatePayload = (epoch: bigint): Hex => publicPayload(EPOCH.rotateKind, encodeAbiParameters([{ type: 'uint256' }], [epoch]));

/** An epoch-tagged private request (0x03) of `user`, sealed to `encPubKey` as epoch `epoch`. */
async function epochPayload(user: User, encPubKey: Hex, epoch: number, msg: unknown, sessionId = 1n): Promise<Hex> {
  const aad = hexToBytes(requestEpochAad(31337n, CONTRACT, sessionId, user.address, epoch));
  const { enc, ciphertext } = await hpkeSeal(hexToBytes(encPubKey), HPKE_INFO.request, aad, new TextEncoder().encode(JSON.stringify(msg)));
  return bytesToHex(encodeEnvelope({ kind: 'private', epoch, enc, ciphertext }));
}

/** The key material sealed in `dataDir`'s keys.sealed (the test platform's sealing key). */
function sealedMaterial(dataDir: string) {
  const c = testConfig();
  const cfg: GeodeConfig = {
    chainId: BigInt(c.chainId), contract: c.contract as Address, measurements: c.measurements as Hex[], attestationVerifier: c.attestationVerifier as Address,
    lcSigner: c.lcSigner as Address, lcGenesisHash: c.lcGenesisHash as Hex, policyHash: c.policyHash as Hex, admin: c.admin as Address,
  };
  const raw = new SealedStore(dataDir, sealingKeyFor(fakePlatform, hexToBytes(configHash(cfg)))).read(KEYS_FILE);
  assert.ok(raw);
  return { text: new TextDecoder().decode(raw), material: deserializeKeyMaterial(raw) };
}

test('epoch ratchet: fixed vector, equal to an independent HKDF (RFC 5869) with the documented info', async () => {
  const seed = new Uint8Array(32).map((_, i) => i);
  const s1 = ratchetEpochSeed(seed, 0);
  const s2 = ratchetEpochSeed(s1, 1);
  assert.equal(bytesToHex(s1), '0x651ea983b02bdd43c18388ea3c6c0c6ed7de9088b2fa4b51187c77e97560abc4');
  assert.equal(bytesToHex(s2), '0xbb813347ac8e3957e1d08343869a9e33a23b37085eb42595ed7fd32954a40386');
  assert.equal(bytesToHex((await hpkeDeriveKeyPair(s2)).publicKey), '0xe85b08179cfda7720a1ad6c338c8260f8bf75aac4360fcfe1ca03861910ff418');
  const info = (e: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(e); return Buffer.concat([Buffer.from('geode.epoch-ratchet.v1', 'ascii'), b]); };
  assert.deepEqual(s1, hkdf(sha256, seed, undefined, info(0), 32), '@noble/hashes agrees with node:crypto');
  assert.deepEqual(s2, hkdf(sha256, s1, undefined, info(1), 32));
  assert.notDeepEqual(ratchetEpochSeed(seed, 1), s1, 'the epoch number is in the info');
  assert.throws(() => ratchetEpochSeed(seed, -1), RangeError);
  assert.throws(() => ratchetEpochSeed(seed, EPOCH.max), RangeError);
});

test('key material: v1 files read as epoch 0 with the same keys and state key; retiring deletes the old seeds from the serialized material', async () => {
  const hpkeSeed = new Uint8Array(32).fill(1);
  const signerKey = new Uint8Array(32).fill(2);
  const appSecret = new Uint8Array(32).fill(3);
  const v1 = new TextEncoder().encode(JSON.stringify({ v: 1, hpkeSeed: bytesToHex(hpkeSeed), signerKey: bytesToHex(signerKey), appSecret: bytesToHex(appSecret), sessionId: '4' }));
  const k = await SessionKeys.fromMaterial(deserializeKeyMaterial(v1));
  assert.equal(k.encPubKey, bytesToHex((await hpkeDeriveKeyPair(hpkeSeed)).publicKey), 'epoch 0 is DeriveKeyPair(hpkeSeed)');
  assert.equal(k.signer, addressOfPublicKey(secp256k1.getPublicKey(signerKey)));
  const mr = new Uint8Array(32).fill(5);
  const ch = new Uint8Array(32).fill(6);
  const formula = new Uint8Array(hkdfSync('sha256', Buffer.concat([hpkeSeed, signerKey, appSecret]), new Uint8Array(0), Buffer.concat([Buffer.from('geode.state-seal.v1', 'ascii'), mr, ch]), 32));
  assert.deepEqual(k.stateSealingKey(mr, ch), formula, 'the state sealing key is unchanged by the v2 format (states sealed before stay readable)');

  const s1 = ratchetEpochSeed(hpkeSeed, 0);
  const s2 = ratchetEpochSeed(s1, 1);
  assert.equal(bytesToHex((await k.epochKeyPair(2)!).publicKey), bytesToHex((await hpkeDeriveKeyPair(s2)).publicKey));
  const r = k.retireBefore(2);
  assert.equal(r.material.epochBase, 2);
  assert.equal(r.epochKeyPair(0), null);
  assert.equal(r.epochKeyPair(1), null);
  assert.equal(bytesToHex((await r.epochKeyPair(3)!).publicKey), bytesToHex((await k.epochKeyPair(3)!).publicKey));
  assert.equal(r.encPubKey, k.encPubKey, 'the session key (identity) stays');
  assert.equal(r.keyId, k.keyId);
  assert.deepEqual(r.stateSealingKey(mr, ch), formula, 'the state key outlives the deleted epoch-0 seed');
  const text = new TextDecoder().decode(serializeKeyMaterial(r.material));
  for (const gone of [hpkeSeed, s1]) assert.ok(!text.includes(bytesToHex(gone).slice(2)), 'a retired seed is not in the serialized material');
  assert.ok(text.includes(bytesToHex(s2).slice(2)));
  const back = await SessionKeys.fromMaterial(deserializeKeyMaterial(serializeKeyMaterial(r.material)));
  assert.equal(bytesToHex((await back.epochKeyPair(4)!).publicKey), bytesToHex((await k.epochKeyPair(4)!).publicKey));
  assert.equal(r.retireBefore(1), r, 'retiring backwards is a no-op');
  assert.rejects(SessionKeys.fromMaterial({ ...generateKeyMaterial(), epochBase: 1 }), 'a material past epoch 0 must carry its session key');
});

test('envelope: 0x03 names the epoch (uint32 BE), 0x01 stays epoch 0; short or out-of-range ones refused', () => {
  const enc = new Uint8Array(32).fill(1);
  const ct = new Uint8Array(16).fill(2);
  const b = encodeEnvelope({ kind: 'private', epoch: 0x01020304, enc, ciphertext: ct });
  assert.deepEqual([...b.subarray(0, 5)], [3, 1, 2, 3, 4]);
  assert.deepEqual(decodeEnvelope(b), { kind: 'private', epoch: 0x01020304, enc, ciphertext: ct });
  assert.equal((decodeEnvelope(encodeEnvelope({ kind: 'private', enc, ciphertext: ct })) as { epoch?: number }).epoch, undefined);
  assert.throws(() => decodeEnvelope(b.subarray(0, 52)), { code: 'ENVELOPE_INVALID' });
  assert.throws(() => encodeEnvelope({ kind: 'private', epoch: -1, enc, ciphertext: ct }), { code: 'ENVELOPE_INVALID' });
});

/** A session with a registered user, then a rotation at seq 3 (batch 1..3 ends there). */
async function rotated(beforeBatch?: (dataDir: string) => void) {
  const s = await setup(counterApp);
  beforeBatch?.(s.dataDir);
  const alice = await User.make('alice');
  s.chain.submit(alice.address, alice.registerPayload()); // 1
  s.chain.submit(alice.address, await alice.privatePayload(s.keys.encPubKey, 1n, { op: 'inc' })); // 2 (legacy 0x01 = epoch 0)
  s.chain.submit(ADMIN, rotatePayload(1n)); // 3
  s.chain.submit(alice.address, await epochPayload(alice, s.keys.encPubKey, 0, { op: 'inc' })); // 4: epoch 0, sealed before the client saw epoch 1
  const { params } = await batchParams(s.chain, 1, 4);
  const r = (await s.rt.handle('processBatch', params)) as { to: string; newRoot: Hex; signature: Hex; prevRoot: Hex; accTo: Hex; outputsHash: Hex; publicOutputsHash: Hex; epoch?: { epoch: string; encPubKey: Hex } };
  return { ...s, alice, r };
}

test('rotation: the batch ends at the rotation request and signs the new epoch key into the commitment digest', async () => {
  const { r, rt, keys } = await rotated();
  assert.equal(r.to, '3', 'the rotation request is the batch\'s last');
  assert.ok(r.epoch);
  assert.equal(r.epoch.epoch, '1');
  assert.notEqual(r.epoch.encPubKey, keys.encPubKey);
  const c = { chainId: 31337n, contract: CONTRACT, sessionId: 1n, from: 1n, to: 3n, accTo: r.accTo, prevRoot: r.prevRoot, newRoot: r.newRoot, outputsHash: r.outputsHash, publicOutputsHash: r.publicOutputsHash };
  const sig = hexToBytes(r.signature);
  const recover = (digest: Hex) => addressOfPublicKey(secp256k1.Signature.fromBytes(sig.subarray(0, 64), 'compact').addRecoveryBit(sig[64]! - 27).recoverPublicKey(hexToBytes(digest)).toBytes(true));
  assert.equal(recover(epochCommitmentDigest(commitmentDigest(c), 1n, r.epoch.encPubKey)), keys.signer.toLowerCase(), 'signed over the epoch digest');
  assert.notEqual(recover(commitmentDigest(c)), keys.signer.toLowerCase(), 'not the plain digest: the key cannot be stripped');
  assert.equal(((await rt.handle('status', {})) as { epoch: string }).epoch, '1');
  assert.equal(rt.framework.epoch, 1);
});

test('rotation: grace epoch still decrypts, retired and future epochs get error outputs and change nothing, keys of retired epochs leave keys.sealed once committed', async () => {
  const { chain, rt, alice, r, dataDir, keys } = await rotated();
  const seed0 = sealedMaterial(dataDir).material.epochSeed;
  chain.commit(3n, r.newRoot);
  const e1 = r.epoch!.encPubKey;
  chain.submit(alice.address, await epochPayload(alice, e1, 1, { op: 'inc' })); // 5: epoch 1
  chain.submit(alice.address, await epochPayload(alice, e1, 2, { op: 'inc' })); // 6: future epoch
  const b2 = (await rt.handle('processBatch', (await batchParams(chain, 4, 6)).params)) as { to: string; newRoot: Hex; outputs: Hex };
  assert.equal(b2.to, '6');
  const out2 = await alice.read(b2.outputs, 1n);
  assert.deepEqual(out2.map((o) => o.ok), [true, true, false], 'seq 4 (epoch 0, in grace) and 5 (epoch 1) run, seq 6 (epoch 2) refused');
  assert.equal((out2[2] as { error: { code: string } }).error.code, 'ENCLAVE_EPOCH_UNKNOWN');
  assert.match((out2[2] as { error: { message: string } }).error.message, /re-encrypt it to epoch 1/);
  chain.commit(6n, b2.newRoot);
  assert.equal(sealedMaterial(dataDir).material.epochBase, 0, 'epoch 0 is in grace: its seed is still held');

  // Rotation to epoch 2 retires epoch 0.
  chain.submit(ADMIN, rotatePayload(2n)); // 7
  const b3 = (await rt.handle('processBatch', (await batchParams(chain, 7, 7)).params)) as { newRoot: Hex; epoch?: { epoch: string; encPubKey: Hex } };
  assert.equal(b3.epoch?.epoch, '2');
  chain.commit(7n, b3.newRoot);
  chain.submit(alice.address, await epochPayload(alice, keys.encPubKey, 0, { op: 'inc' })); // 8: epoch 0, retired
  chain.submit(alice.address, await epochPayload(alice, e1, 1, { op: 'inc' })); // 9: epoch 1, in grace
  const b4 = (await rt.handle('processBatch', (await batchParams(chain, 8, 9)).params)) as { newRoot: Hex; outputs: Hex };
  const out4 = await alice.read(b4.outputs, 1n);
  assert.equal(out4.length, 2);
  assert.equal((out4[0] as { error: { code: string } }).error.code, 'ENCLAVE_EPOCH_RETIRED');
  assert.match((out4[0] as { error: { message: string } }).error.message, /re-encrypt it to epoch 2/);
  assert.deepEqual((out4[1] as { message: { count: number } }).message.count, 4, 'the retired request changed no state: the count goes 3 -> 4');
  // The batch ran on a state whose rotation (seq 7) is committed: epoch 0's seed is gone from keys.sealed.
  const sealed = sealedMaterial(dataDir);
  assert.equal(sealed.material.epochBase, 1);
  assert.ok(!sealed.text.includes(bytesToHex(seed0).slice(2)), 'the retired seed is absent from the sealed key file');
  assert.equal(((await rt.handle('status', {})) as { epochBase: string }).epochBase, '1');
});

test('rotation: a keyed copy follows to the same epoch key and root; a copy that deleted a needed key refuses the batch instead of diverging', async () => {
  // Follower: the same keys and the same (empty) state in another data directory, copied before any batch.
  const copy = tmpDir();
  const { chain, rt, alice, r } = await rotated((dir) => cpSync(dir, copy, { recursive: true }));
  const rt2 = new EnclaveRuntime(counterApp, { dataDir: copy, platform: fakePlatform, log: () => {} });
  await rt2.handle('init', { config: testConfig() });
  const b1 = (await rt2.handle('processBatch', { ...(await batchParams(chain, 1, 3)).params, expectNewRoot: r.newRoot })) as { newRoot: Hex; epoch?: { encPubKey: Hex } };
  assert.equal(b1.epoch?.encPubKey, r.epoch!.encPubKey, 'the follower derives the same epoch-1 key');
  chain.commit(3n, r.newRoot);
  chain.submit(alice.address, await epochPayload(alice, r.epoch!.encPubKey, 1, { op: 'inc' })); // 5
  chain.submit(ADMIN, rotatePayload(2n)); // 6
  const p = (await batchParams(chain, 4, 6)).params;
  const a = (await rt.handle('processBatch', p)) as { newRoot: Hex; epoch?: { encPubKey: Hex } };
  const b = (await rt2.handle('processBatch', { ...p, expectNewRoot: a.newRoot })) as { newRoot: Hex; epoch?: { encPubKey: Hex } };
  assert.equal(b.newRoot, a.newRoot);
  assert.equal(b.epoch?.encPubKey, a.epoch?.encPubKey, 'both derive epoch 2\'s key from their own seed');
  // Forged rotation requests: not from the admin, or naming the wrong epoch, are error outputs and start nothing.
  chain.commit(6n, a.newRoot);
  chain.submit(alice.address, rotatePayload(3n)); // 7: not the admin
  chain.submit(ADMIN, rotatePayload(5n)); // 8: wrong epoch
  const f = (await rt.handle('processBatch', (await batchParams(chain, 7, 8)).params)) as { to: string; epoch?: unknown; outputs: Hex };
  assert.equal(f.to, '8');
  assert.equal(f.epoch, undefined);
  assert.equal(rt.framework.epoch, 2);
  assert.deepEqual((await alice.read(f.outputs, 1n)).map((o) => (o as { error?: { code: string } }).error?.code), ['ENCLAVE_BAD_REQUEST']);
  // The storage layout keeps the epochs where the docs say (the contract test pins the same slots).
  assert.equal(SLOT.epochs, 13n);
  assert.ok(mappingSlot(1n, SLOT.epochs) > 0n);
});
