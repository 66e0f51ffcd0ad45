import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';

import { defineError } from './errors.ts';

/**
 * Geode's one HPKE suite (RFC 9180, mode_base): DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM.
 * Requests are sealed to the session's encryption key; outputs to each recipient's registered output key.
 * Keys are raw 32-byte X25519 values (RFC 7748). enc is 32 bytes.
 *
 * The HPKE protocol itself (DHKEM encap/decap, labeled extract/expand, key schedule, nonces) is @hpke/core's.
 * Only its three primitives are supplied through @hpke's published extension points: X25519 (RFC 7748) and
 * AES-128-GCM from node:crypto (OpenSSL), HKDF-SHA256 (RFC 5869) from @noble/hashes. The stock WebCrypto primitives cost one
 * async round trip each (about 2 ms per seal in Node 20); these cost microseconds. A test checks that this suite
 * and stock @hpke/core produce byte-identical ciphertexts for the same ephemeral key.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject, type webcrypto } from 'node:crypto';
import { expand as hkdfExpand, extract as hkdfExtract, hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { AeadId, Dhkem, HkdfSha256Native, KemId, XCurveDhkemPrimitives, type AeadEncryptionContext, type AeadInterface } from '@hpke/common';

const bytes = (b: ArrayBufferLike | ArrayBufferView): Buffer =>
  ArrayBuffer.isView(b) ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.from(b as ArrayBuffer);
const ab = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/**
 * HKDF-SHA256 (RFC 5869) from @noble/hashes (synchronous, no WebCrypto round trip); the HPKE labelling
 * (LabeledExtract/LabeledExpand, RFC 9180 §4) stays in @hpke's HkdfNative.
 */
class NobleHkdfSha256 extends HkdfSha256Native {
  override async extract(salt: ArrayBuffer, ikm: ArrayBuffer): Promise<ArrayBuffer> {
    // An empty salt means HashLen zero bytes (RFC 5869 §2.2); noble's extract does the same.
    return ab(Buffer.from(hkdfExtract(sha256, bytes(ikm), bytes(salt))));
  }
  override async expand(prk: ArrayBuffer, info: ArrayBuffer, len: number): Promise<ArrayBuffer> {
    return ab(Buffer.from(hkdfExpand(sha256, bytes(prk), bytes(info), len)));
  }
  override async extractAndExpand(salt: ArrayBuffer, ikm: ArrayBuffer, info: ArrayBuffer, len: number): Promise<ArrayBuffer> {
    return ab(Buffer.from(hkdf(sha256, bytes(ikm), bytes(salt), bytes(info), len)));
  }
  /**
   * LabeledExtract (RFC 9180 §4). The key schedule's psk_id_hash and info_hash (§5.1) are LabeledExtract("", label,
   * x) of public, per-suite constants (psk_id is empty in mode_base; info is one of the few HPKE_INFO strings), the
   * same on every seal and open: they are remembered (at most PUBLIC_EXTRACTS_MAX inputs). Every other extract,
   * whose input is secret (eae_prk, secret, dkp_prk), is computed each time and never stored.
   */
  override async labeledExtract(salt: ArrayBufferLike | ArrayBufferView, label: Uint8Array, ikm: Uint8Array): Promise<ArrayBuffer> {
    const name = salt.byteLength === 0 ? Buffer.from(label.buffer, label.byteOffset, label.byteLength).toString('latin1') : '';
    if (name !== 'psk_id_hash' && name !== 'info_hash') return super.labeledExtract(salt, label, ikm);
    const k = `${name}:${bytes(ikm).toString('hex')}`;
    let v = this.publicExtracts.get(k);
    if (v === undefined) {
      v = await super.labeledExtract(salt, label, ikm);
      if (this.publicExtracts.size < PUBLIC_EXTRACTS_MAX) this.publicExtracts.set(k, v);
    }
    return v.slice(0); // a copy: the caller owns what it is handed
  }
  private readonly publicExtracts = new Map<string, ArrayBuffer>();
}
/** Most distinct public (psk_id_hash, info_hash) inputs NobleHkdfSha256 remembers; Geode uses a handful. */
const PUBLIC_EXTRACTS_MAX = 64;

// X25519 on node:crypto in the shape @hpke's XCurveDhkemPrimitives expects from a curve (noble's MontgomeryECDH).
// Keys are imported as JWK: node builds them with EVP_PKEY_new_raw_*_key (0.1 ms) where PKCS#8 DER goes through
// OpenSSL 3's decoders (1.2 ms). For a private JWK node derives the public half from `d` itself and ignores `x`,
// so a placeholder `x` is passed; getPublicKey then reads the derived public key back (tested against RFC 7748 §6.1).
const b64u = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
const X_PLACEHOLDER = b64u(new Uint8Array(32));
const privateKeys = new Map<string, KeyObject>();
function privateKeyObject(sk: Uint8Array): KeyObject {
  const id = b64u(sk);
  let k = privateKeys.get(id);
  if (!k) {
    k = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: id, x: X_PLACEHOLDER }, format: 'jwk' });
    if (privateKeys.size >= 1024) privateKeys.delete(privateKeys.keys().next().value as string);
    privateKeys.set(id, k);
  }
  return k;
}
// Public keys recur (an output recipient's registered key, a session key), and importing one costs about 15 µs;
// a request's `enc` does not recur, so this cache only skips repeats (bounded like privateKeys).
const publicKeys_ = new Map<string, KeyObject>();
function publicKeyObject(pk: Uint8Array): KeyObject {
  const id = b64u(pk);
  let k = publicKeys_.get(id);
  if (!k) {
    k = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: id }, format: 'jwk' });
    if (publicKeys_.size >= 1024) publicKeys_.delete(publicKeys_.keys().next().value as string);
    publicKeys_.set(id, k);
  }
  return k;
}
/** X25519 (RFC 7748) on node:crypto. Exported for its test vectors. */
export const nodeX25519 = {
  utils: { randomSecretKey: () => new Uint8Array(randomBytes(32)) },
  getPublicKey(sk: Uint8Array): Uint8Array {
    return new Uint8Array(Buffer.from(createPublicKey(privateKeyObject(sk)).export({ format: 'jwk' }).x!, 'base64url'));
  },
  getSharedSecret(sk: Uint8Array, pk: Uint8Array): Uint8Array {
    const publicKey = publicKeyObject(pk);
    const z = diffieHellman({ privateKey: privateKeyObject(sk), publicKey });
    // RFC 7748 §6.1: an all-zero shared secret means a low-order point; DHKEM must fail (RFC 9180 §7.1.4).
    if (z.every((x) => x === 0)) throw new Error('X25519 shared secret is all zero');
    return new Uint8Array(z);
  },
};

class NodeDhkemX25519 extends Dhkem {
  constructor() {
    const kdf = new NobleHkdfSha256();
    super(KemId.DhkemX25519HkdfSha256, new XCurveDhkemPrimitives('X25519', 32, nodeX25519 as never, kdf), kdf);
    Object.assign(this, { id: KemId.DhkemX25519HkdfSha256, secretSize: 32, encSize: 32, publicKeySize: 32, privateKeySize: 32 });
  }
}

/** AES-128-GCM (NIST SP 800-38D) on node:crypto, tag appended as HPKE expects. */
class NodeAes128Gcm implements AeadInterface {
  readonly id = AeadId.Aes128Gcm;
  readonly keySize = 16;
  readonly nonceSize = 12;
  readonly tagSize = 16;
  createEncryptionContext(key: ArrayBufferLike | ArrayBufferView): AeadEncryptionContext {
    const k = Buffer.from(bytes(key));
    return {
      async seal(iv, data, aad) {
        const c = createCipheriv('aes-128-gcm', k, bytes(iv));
        c.setAAD(bytes(aad));
        return ab(Buffer.concat([c.update(bytes(data)), c.final(), c.getAuthTag()]));
      },
      async open(iv, data, aad) {
        const d = bytes(data);
        const c = createDecipheriv('aes-128-gcm', k, bytes(iv));
        c.setAAD(bytes(aad));
        c.setAuthTag(d.subarray(d.length - 16));
        return ab(Buffer.concat([c.update(d.subarray(0, d.length - 16)), c.final()]));
      },
    };
  }
}

const suite = new CipherSuite({ kem: new NodeDhkemX25519(), kdf: new NobleHkdfSha256(), aead: new NodeAes128Gcm() });

/** The stock @hpke/core suite (WebCrypto primitives), kept for the equivalence test. */
export const stockSuite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });

/** Decryption failed: wrong key, wrong info/aad (e.g. a ciphertext copied to another sender), or tampered bytes. */
export class HpkeOpenError extends defineError({
  codes: ['HPKE_OPEN'],
  docsPath: 'protocol.md#encryption',
  build: () => ({ code: 'HPKE_OPEN', message: 'Ciphertext could not be decrypted: it was sealed to another key, bound to other additional data (chain, contract, session, sender), or altered.' }),
}) {}

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
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;
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
    const publicKey = await suite.kem.deserializePublicKey(nodeX25519.getPublicKey(sk));
    return { privateKey, publicKey };
  });
}
function recipientPublicKey(pk: Uint8Array): Promise<CryptoKey> {
  return remember(publicKeys, Buffer.from(pk).toString('hex'), () => suite.kem.deserializePublicKey(pk));
}

