import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';

import { GeodeError } from './errors.ts';

/**
 * Geode's one HPKE suite (RFC 9180, mode_base): DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM.
 * The KEM is @hpke/core's WebCrypto X25519 (native in Node), about 10x faster than the pure-JS one.
 * Requests are sealed to the session's encryption key; outputs to each recipient's registered output key.
 * Keys are raw 32-byte X25519 values (RFC 7748). enc is 32 bytes.
 */
const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });

/** Decryption failed: wrong key, wrong info/aad (e.g. a ciphertext copied to another sender), or tampered bytes. */
export class HpkeOpenError extends GeodeError {
  constructor() {
    super('HPKE_OPEN', 'Ciphertext could not be decrypted: it was sealed to another key, bound to other additional data (chain, contract, session, sender), or altered.', { docsPath: 'protocol.md#encryption' });
  }
}

/** An X25519 key pair as raw bytes (private 32, public 32). */
export interface HpkeKeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

const u8 = (b: ArrayBuffer | Uint8Array) => (b instanceof Uint8Array ? b : new Uint8Array(b));

/** Derive a key pair from >= 32 bytes of secret input keying material (RFC 9180 §7.1.3 DeriveKeyPair). Deterministic. */
export async function hpkeDeriveKeyPair(ikm: Uint8Array): Promise<HpkeKeyPair> {
  const kp = await suite.kem.deriveKeyPair(ikm);
  return { privateKey: u8(await suite.kem.serializePrivateKey(kp.privateKey)), publicKey: u8(await suite.kem.serializePublicKey(kp.publicKey)) };
}

/** Fresh random key pair. */
export async function hpkeGenerateKeyPair(): Promise<HpkeKeyPair> {
  const kp = await suite.kem.generateKeyPair();
  return { privateKey: u8(await suite.kem.serializePrivateKey(kp.privateKey)), publicKey: u8(await suite.kem.serializePublicKey(kp.publicKey)) };
}

/**
 * Seal `plaintext` to `recipientPublicKey` (32 bytes) with `info` (ASCII) and `aad`.
 * `ephemeralIkm` (32 bytes), when given, makes the encapsulation deterministic (RFC 9180 DeriveKeyPair on it);
 * the enclave derives it from sealed secrets so re-running a batch yields identical outputs.
 */
export async function hpkeSeal(recipientPublicKey_: Uint8Array, info: string, aad: Uint8Array, plaintext: Uint8Array, ephemeralIkm?: Uint8Array): Promise<{ enc: Uint8Array; ciphertext: Uint8Array }> {
  const pk = await recipientPublicKey(recipientPublicKey_);
  const params = { recipientPublicKey: pk, info: new TextEncoder().encode(info), ...(ephemeralIkm ? { ekm: await suite.kem.deriveKeyPair(ephemeralIkm) } : {}) };
  const { ct, enc } = await suite.seal(params, plaintext, aad);
  return { enc: u8(enc), ciphertext: u8(ct) };
}

/** Open a ciphertext sealed with hpkeSeal. Throws HpkeOpenError on any failure. */
export async function hpkeOpen(recipientPrivateKey: Uint8Array, enc: Uint8Array, info: string, aad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  try {
    const kp = await recipientKeyPair(recipientPrivateKey);
    return u8(await suite.open({ recipientKey: kp, enc, info: new TextEncoder().encode(info) }, ciphertext, aad));
  } catch {
    throw new HpkeOpenError();
  }
}

// Deserialising keys costs several WebCrypto round trips; recipients reuse the same key for every message.
const keyPairs = new Map<string, Promise<CryptoKeyPair>>();
const publicKeys = new Map<string, Promise<CryptoKey>>();
const CACHE_MAX = 4096;
function remember<T>(m: Map<string, T>, k: string, make: () => T): T {
  let v = m.get(k);
  if (v === undefined) {
    if (m.size >= CACHE_MAX) m.delete(m.keys().next().value as string);
    v = make();
    m.set(k, v);
  }
  return v;
}
function recipientKeyPair(sk: Uint8Array): Promise<CryptoKeyPair> {
  return remember(keyPairs, Buffer.from(sk).toString('hex'), async () => {
    const privateKey = await suite.kem.deserializePrivateKey(sk);
    const publicKey = await suite.kem.deserializePublicKey(x25519.getPublicKey(sk));
    return { privateKey, publicKey };
  });
}
function recipientPublicKey(pk: Uint8Array): Promise<CryptoKey> {
  return remember(publicKeys, Buffer.from(pk).toString('hex'), () => suite.kem.deserializePublicKey(pk));
}

// X25519 public = scalar multiplication of the base point (RFC 7748 §6.1); used once per cached key pair.
import { x25519 } from '@noble/curves/ed25519.js';
