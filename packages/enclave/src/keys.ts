import { hkdfSync, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { expand as hkdfExpand, extract as hkdfExtract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, keccak256, numberToBytes, type Address, type Hex } from 'viem';
import { EPOCH, hpkeDeriveKeyPair, keyIdOf, type HpkeKeyPair } from '@geode/protocol';
import { outputEphemeralIkm } from './hpke/output-ekm.ts';

const RANDOM_LABEL = Buffer.from('geode.random.v1', 'ascii');

/** uint256 big-endian (32 bytes) of `v` (0..2^256-1; viem numberToBytes throws outside); a direct write below 2^64, the per-request case. */
function uint256Be(v: bigint): Buffer {
  if (v < 0n || v >= 1n << 64n) return Buffer.from(numberToBytes(v, { size: 32 }));
  const b = Buffer.alloc(32);
  b.writeBigUInt64BE(v, 24);
  return b;
}

/**
 * The enclave's long-lived secrets (docs/enclave.md#keys), generated once and kept sealed (keys.sealed):
 * - epochBase / epochSeed: the oldest rotation epoch whose request key this instance still holds, and that epoch's
 *   32-byte seed (docs/protocol.md#rotation). Epoch 0's seed is the original hpkeSeed; every later seed follows from
 *   it by {@link ratchetEpochSeed}, so holding seed(b) gives the keys of epochs b, b+1, ... and none before b: a
 *   retired epoch's seed is gone from the material (forward secrecy, docs/security.md#rotation-epochs).
 * - sessionEncPubKey: epoch 0's X25519 public key (32 bytes), the session's `encPubKey` on-chain and part of keyId;
 *   null only before {@link SessionKeys.fromMaterial} derived it (then epochBase is 0).
 * - statePrk: HKDF-Extract(salt = empty, ikm = hpkeSeed || signerKey || appSecret) (RFC 5869 §2.2, 32 bytes), the
 *   pseudorandom key the state sealing key expands from; it does not reveal hpkeSeed (HMAC-SHA256 is one-way).
 * - signerKey: 32-byte secp256k1 secret key that signs commitments; its Ethereum address is the session signer.
 * - appSecret: 32 bytes; ikm of ctx.random and of the deterministic output ephemeral keys (never rotates).
 * - sessionId: the on-chain session these keys were activated for (decimal string), once known.
 */
export interface KeyMaterial {
  epochBase: number;
  epochSeed: Uint8Array;
  sessionEncPubKey: Uint8Array | null;
  statePrk: Uint8Array;
  signerKey: Uint8Array;
  appSecret: Uint8Array;
  sessionId: bigint | null;
}

const RATCHET_INFO = Buffer.from(EPOCH.ratchetInfo, 'ascii');

/**
 * seed(e+1) from seed(e) (docs/protocol.md#rotation): HKDF-SHA256 (RFC 5869, node:crypto hkdfSync) with ikm = seed(e),
 * salt = empty, info = "geode.epoch-ratchet.v1" || uint32 big-endian e, 32 bytes. Throws RangeError for e outside
 * 0..2^32-2 (the next epoch must fit the envelope's uint32).
 */
export function ratchetEpochSeed(seed: Uint8Array, epoch: number): Uint8Array {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch >= EPOCH.max) throw new RangeError(`ratchetEpochSeed: epoch must be an integer in 0..${EPOCH.max - 1}`);
  const e = Buffer.alloc(4);
  e.writeUInt32BE(epoch, 0);
  return new Uint8Array(hkdfSync('sha256', seed, new Uint8Array(0), Buffer.concat([RATCHET_INFO, e]), 32));
}

/** statePrk of key material whose epoch-0 seed is `hpkeSeed` (see KeyMaterial). */
function statePrkOf(hpkeSeed: Uint8Array, signerKey: Uint8Array, appSecret: Uint8Array): Uint8Array {
  return hkdfExtract(sha256, Buffer.concat([hpkeSeed, signerKey, appSecret]), new Uint8Array(0));
}

/**
 * Key material at epoch 0 from its three secrets (32 bytes each; the signer key a valid secp256k1 secret key): the
 * v1 fields. For tests and tools that need fixed keys; an enclave draws fresh ones (generateKeyMaterial).
 */
export function keyMaterialFrom(k: { hpkeSeed: Uint8Array; signerKey: Uint8Array; appSecret: Uint8Array; sessionId: bigint | null }): KeyMaterial {
  return { epochBase: 0, epochSeed: k.hpkeSeed, sessionEncPubKey: null, statePrk: statePrkOf(k.hpkeSeed, k.signerKey, k.appSecret), signerKey: k.signerKey, appSecret: k.appSecret, sessionId: k.sessionId };
}

/** Fresh random key material (node:crypto CSPRNG; secp256k1 key from @noble/curves randomSecretKey), at epoch 0. */
export function generateKeyMaterial(): KeyMaterial {
  const hpkeSeed = new Uint8Array(randomBytes(32));
  const signerKey = secp256k1.utils.randomSecretKey();
  const appSecret = new Uint8Array(randomBytes(32));
  return { epochBase: 0, epochSeed: hpkeSeed, sessionEncPubKey: null, statePrk: statePrkOf(hpkeSeed, signerKey, appSecret), signerKey, appSecret, sessionId: null };
}

/**
 * JSON bytes of key material (hex fields), for sealing and for the handover message: version 2
 * {v: 2, epochBase, epochSeed, sessionEncPubKey, statePrk, signerKey, appSecret, sessionId}. Only the live seed
 * (epochBase's) is ever written. Throws Error when sessionEncPubKey is not yet derived (use SessionKeys.material).
 */
export function serializeKeyMaterial(k: KeyMaterial): Uint8Array {
  if (!k.sessionEncPubKey) throw new Error('serializeKeyMaterial: sessionEncPubKey not derived yet');
  return new TextEncoder().encode(JSON.stringify({
    v: 2, epochBase: k.epochBase, epochSeed: bytesToHex(k.epochSeed), sessionEncPubKey: bytesToHex(k.sessionEncPubKey), statePrk: bytesToHex(k.statePrk),
    signerKey: bytesToHex(k.signerKey), appSecret: bytesToHex(k.appSecret), sessionId: k.sessionId === null ? null : k.sessionId.toString(),
  }));
}

/**
 * Inverse of serializeKeyMaterial; also reads version 1 files ({v: 1, hpkeSeed, signerKey, appSecret, sessionId}, the
 * format before rotation epochs) as epoch 0 with hpkeSeed as its seed. Throws Error on malformed input (callers map
 * it to ENCLAVE_SEAL_CORRUPT).
 */
export function deserializeKeyMaterial(b: Uint8Array): KeyMaterial {
  const v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b)) as Record<string, unknown>;
  const b32 = (x: unknown, n: string): Uint8Array => {
    if (typeof x !== 'string' || !/^0x[0-9a-f]{64}$/.test(x)) throw new Error(`${n} malformed`);
    return hexToBytes(x as Hex);
  };
  if (v.v !== 1 && v.v !== 2) throw new Error('unknown key file version');
  const sid = v.sessionId;
  if (sid !== null && (typeof sid !== 'string' || !/^(0|[1-9][0-9]*)$/.test(sid))) throw new Error('sessionId malformed');
  const signerKey = b32(v.signerKey, 'signerKey');
  if (!secp256k1.utils.isValidSecretKey(signerKey)) throw new Error('signerKey out of range');
  const appSecret = b32(v.appSecret, 'appSecret');
  const sessionId = sid === null ? null : BigInt(sid as string);
  if (v.v === 1) {
    const hpkeSeed = b32(v.hpkeSeed, 'hpkeSeed');
    return { epochBase: 0, epochSeed: hpkeSeed, sessionEncPubKey: null, statePrk: statePrkOf(hpkeSeed, signerKey, appSecret), signerKey, appSecret, sessionId };
  }
  const base = v.epochBase;
  if (typeof base !== 'number' || !Number.isInteger(base) || base < 0 || base > EPOCH.max) throw new Error('epochBase malformed');
  return { epochBase: base, epochSeed: b32(v.epochSeed, 'epochSeed'), sessionEncPubKey: b32(v.sessionEncPubKey, 'sessionEncPubKey'), statePrk: b32(v.statePrk, 'statePrk'), signerKey, appSecret, sessionId };
}

/** Ethereum address (lowercase) of a secp256k1 public key: keccak256(uncompressed x||y)[12..32]. */
export function addressOfPublicKey(pub: Uint8Array): Address {
  const uncompressed = secp256k1.Point.fromBytes(pub).toBytes(false);
  return `0x${keccak256(uncompressed.subarray(1)).slice(26)}` as Address;
}

/** Usable session keys derived from KeyMaterial. */
export class SessionKeys {
  /** Epoch key pairs derived so far, by epoch (only epochs >= material.epochBase). */
  private readonly epochKeys = new Map<number, Promise<HpkeKeyPair>>();

  private constructor(
    /** The material, with sessionEncPubKey derived. */
    readonly material: KeyMaterial,
    /** Ethereum address of the commitment signer, lowercase. */
    readonly signer: Address,
  ) {}

  /**
   * Usable keys from `m`. Derives sessionEncPubKey (epoch 0's public key) when the material lacks it, which needs
   * epochBase 0; throws Error otherwise (callers map it to ENCLAVE_SEAL_CORRUPT / ENCLAVE_HANDOVER_KEYS).
   */
  static async fromMaterial(m: KeyMaterial): Promise<SessionKeys> {
    let material = m;
    if (!m.sessionEncPubKey) {
      if (m.epochBase !== 0) throw new Error('key material without sessionEncPubKey must be at epoch 0');
      material = { ...m, sessionEncPubKey: (await hpkeDeriveKeyPair(m.epochSeed)).publicKey };
    }
    return new SessionKeys(material, addressOfPublicKey(secp256k1.getPublicKey(m.signerKey)));
  }

  /** The session's HPKE request public key (epoch 0's, what the session records on-chain) as 0x bytes32. */
  get encPubKey(): Hex {
    return bytesToHex(this.material.sessionEncPubKey!);
  }

  /**
   * The X25519 request key pair of rotation epoch `epoch` (DeriveKeyPair(seed(epoch)), docs/protocol.md#rotation), or
   * null when this material no longer holds it (epoch < epochBase: retired and deleted). Derives forward from the
   * held seed (epoch - epochBase HKDF steps) and caches the result.
   */
  epochKeyPair(epoch: number): Promise<HpkeKeyPair> | null {
    if (!Number.isInteger(epoch) || epoch < this.material.epochBase || epoch > EPOCH.max) return null;
    let kp = this.epochKeys.get(epoch);
    if (!kp) {
      kp = hpkeDeriveKeyPair(this.epochSeedOf(epoch));
      this.epochKeys.set(epoch, kp);
    }
    return kp;
  }

  /** seed(epoch) for epoch >= epochBase. */
  private epochSeedOf(epoch: number): Uint8Array {
    let seed = this.material.epochSeed;
    for (let e = this.material.epochBase; e < epoch; e++) seed = ratchetEpochSeed(seed, e);
    return seed;
  }

  /**
   * These keys with every epoch before `base` deleted (the material then holds seed(base) only), or `this` when
   * epochBase >= base already. The caller seals the returned material over keys.sealed.
   */
  retireBefore(base: number): SessionKeys {
    if (base <= this.material.epochBase) return this;
    const next = new SessionKeys({ ...this.material, epochBase: base, epochSeed: this.epochSeedOf(base) }, this.signer);
    for (const [e, kp] of this.epochKeys) if (e >= base) next.epochKeys.set(e, kp);
    return next;
  }

  /** Identity of this key material: protocol keyIdOf(encPubKey, signer), 0x bytes32 (recorded in every state). */
  get keyId(): Hex {
    return keyIdOf(this.encPubKey, this.signer);
  }

  /**
   * Sealing key (32 bytes) of the states produced with this key material: HKDF-SHA256 (RFC 5869) with
   * ikm = hpkeSeed || signerKey || appSecret, salt = empty, info = "geode.state-seal.v1" || mrEnclave (32) ||
   * configHash (32), computed as HKDF-Expand(statePrk, info) so that it outlives the deletion of hpkeSeed (epoch 0's
   * seed) at rotation. It depends on the key material only, not on the platform secret, so a state opens only under
   * the keys that produced it: deleting or replacing keys.sealed makes the old states unreadable (an availability
   * loss), never continuable with fresh randomness (docs/security.md#state-is-bound-to-its-keys).
   */
  stateSealingKey(mrEnclave: Uint8Array, configHash: Uint8Array): Uint8Array {
    const info = Buffer.concat([Buffer.from('geode.state-seal.v1', 'ascii'), mrEnclave, configHash]);
    return hkdfExpand(sha256, this.material.statePrk, info, 32);
  }

  /**
   * Sign a 32-byte digest (raw, no EIP-191 prefix) with the commitment key: RFC 6979 deterministic ECDSA,
   * low-s. Returns 65 bytes r || s || v as 0x hex, v in {27, 28} (what Solidity ecrecover takes).
   */
  sign(digest: Hex): Hex {
    const sig = secp256k1.sign(hexToBytes(digest), this.material.signerKey, { prehash: false, lowS: true, format: 'recovered' });
    const out = new Uint8Array(65);
    out.set(sig.subarray(1, 65), 0);
    out[64] = 27 + sig[0]!;
    return bytesToHex(out);
  }

  /**
   * ctx.random: HKDF-SHA256 (RFC 5869) with ikm = appSecret, salt = empty,
   * info = "geode.random.v1" || seq (uint256 big-endian) || UTF-8 label; `length` bytes (1..8160).
   */
  random(seq: bigint, label: string, length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 1 || length > 255 * 32) throw new RangeError('random: length must be an integer in 1..8160');
    const info = Buffer.concat([RANDOM_LABEL, uint256Be(seq), Buffer.from(label, 'utf8')]);
    return new Uint8Array(hkdfSync('sha256', this.material.appSecret, new Uint8Array(0), info, length));
  }

  /**
   * Input keying material (32 bytes) of the ephemeral HPKE key of one output: outputEphemeralIkm (hpke/output-ekm.ts)
   * under this material's appSecret. The HPKE workers compute the same function from OutputEkmInput (jobs.ts).
   */
  outputEphemeralIkm(index: number, aad: Uint8Array, recipientKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return outputEphemeralIkm(this.material.appSecret, index, aad, recipientKey, plaintext);
  }
}
