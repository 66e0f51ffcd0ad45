import { hkdfSync, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, keccak256, numberToBytes, type Address, type Hex } from 'viem';
import { hpkeDeriveKeyPair, keyIdOf, type HpkeKeyPair } from '@geode/protocol';
import { keccak256 as keccakBytes } from './store/keccak.ts';

const OUTPUT_EKM_LABEL = Buffer.from('geode.output-ekm.v2', 'ascii');
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
 * - hpkeSeed: 32 bytes; the HPKE X25519 request key pair is DeriveKeyPair(hpkeSeed) (RFC 9180 §7.1.3).
 * - signerKey: 32-byte secp256k1 secret key that signs commitments; its Ethereum address is the session signer.
 * - appSecret: 32 bytes; ikm of ctx.random and of the deterministic output ephemeral keys.
 * - sessionId: the on-chain session these keys were activated for (decimal string), once known.
 */
export interface KeyMaterial {
  hpkeSeed: Uint8Array;
  signerKey: Uint8Array;
  appSecret: Uint8Array;
  sessionId: bigint | null;
}

/** Fresh random key material (node:crypto CSPRNG; secp256k1 key from @noble/curves randomSecretKey). */
export function generateKeyMaterial(): KeyMaterial {
  return { hpkeSeed: new Uint8Array(randomBytes(32)), signerKey: secp256k1.utils.randomSecretKey(), appSecret: new Uint8Array(randomBytes(32)), sessionId: null };
}

/** JSON bytes of key material (hex fields), for sealing. */
export function serializeKeyMaterial(k: KeyMaterial): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, hpkeSeed: bytesToHex(k.hpkeSeed), signerKey: bytesToHex(k.signerKey), appSecret: bytesToHex(k.appSecret), sessionId: k.sessionId === null ? null : k.sessionId.toString() }));
}

/** Inverse of serializeKeyMaterial. Throws Error on malformed input (callers map it to ENCLAVE_SEAL_CORRUPT). */
export function deserializeKeyMaterial(b: Uint8Array): KeyMaterial {
  const v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b)) as Record<string, unknown>;
  const b32 = (x: unknown, n: string): Uint8Array => {
    if (typeof x !== 'string' || !/^0x[0-9a-f]{64}$/.test(x)) throw new Error(`${n} malformed`);
    return hexToBytes(x as Hex);
  };
  if (v.v !== 1) throw new Error('unknown key file version');
  const sid = v.sessionId;
  if (sid !== null && (typeof sid !== 'string' || !/^(0|[1-9][0-9]*)$/.test(sid))) throw new Error('sessionId malformed');
  const signerKey = b32(v.signerKey, 'signerKey');
  if (!secp256k1.utils.isValidSecretKey(signerKey)) throw new Error('signerKey out of range');
  return { hpkeSeed: b32(v.hpkeSeed, 'hpkeSeed'), signerKey, appSecret: b32(v.appSecret, 'appSecret'), sessionId: sid === null ? null : BigInt(sid as string) };
}

/** Ethereum address (lowercase) of a secp256k1 public key: keccak256(uncompressed x||y)[12..32]. */
export function addressOfPublicKey(pub: Uint8Array): Address {
  const uncompressed = secp256k1.Point.fromBytes(pub).toBytes(false);
  return `0x${keccak256(uncompressed.subarray(1)).slice(26)}` as Address;
}

/** Usable session keys derived from KeyMaterial. */
export class SessionKeys {
  private constructor(
    readonly material: KeyMaterial,
    readonly hpke: HpkeKeyPair,
    /** Ethereum address of the commitment signer, lowercase. */
    readonly signer: Address,
  ) {}

  static async fromMaterial(m: KeyMaterial): Promise<SessionKeys> {
    return new SessionKeys(m, await hpkeDeriveKeyPair(m.hpkeSeed), addressOfPublicKey(secp256k1.getPublicKey(m.signerKey)));
  }

  /** The HPKE request public key as 0x bytes32. */
  get encPubKey(): Hex {
    return bytesToHex(this.hpke.publicKey);
  }

  /** Identity of this key material: protocol keyIdOf(encPubKey, signer), 0x bytes32 (recorded in every state). */
  get keyId(): Hex {
    return keyIdOf(this.encPubKey, this.signer);
  }

  /**
   * Sealing key (32 bytes) of the states produced with this key material: HKDF-SHA256 (RFC 5869) with
   * ikm = hpkeSeed || signerKey || appSecret, salt = empty, info = "geode.state-seal.v1" || mrEnclave (32) ||
   * configHash (32). It depends on the key material only, not on the platform secret, so a state opens only under
   * the keys that produced it: deleting or replacing keys.sealed makes the old states unreadable (an availability
   * loss), never continuable with fresh randomness (docs/security.md#state-is-bound-to-its-keys).
   */
  stateSealingKey(mrEnclave: Uint8Array, configHash: Uint8Array): Uint8Array {
    const m = this.material;
    const ikm = Buffer.concat([m.hpkeSeed, m.signerKey, m.appSecret]);
    const info = Buffer.concat([Buffer.from('geode.state-seal.v1', 'ascii'), mrEnclave, configHash]);
    return new Uint8Array(hkdfSync('sha256', ikm, new Uint8Array(0), info, 32));
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
   * Input keying material (32 bytes) of the ephemeral HPKE key of one output: HKDF-SHA256(appSecret, salt empty,
   * info = "geode.output-ekm.v2" || index (uint256 BE) || keccak256(aad) || recipient key (32) || keccak256(plaintext)),
   * where `aad` is the output's HPKE additional data as bytes (protocol outputAad: chain id, contract, committing session id,
   * recipient, seq). HPKE derives the AES-GCM key and nonce from the ephemeral key, the recipient key and `info`, so
   * binding everything the AAD and the plaintext carry means no (key, nonce) pair ever meets two different
   * (AAD, plaintext) pairs (RFC 9180 §9.7.1; NIST SP 800-38D §8), while re-processing a batch in the same session
   * reproduces the same ciphertexts.
   */
  outputEphemeralIkm(index: number, aad: Uint8Array, recipientKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
    // `aad` as bytes (the caller already holds them for HPKE): keccak over bytes, no hex round trips.
    const info = Buffer.concat([
      OUTPUT_EKM_LABEL, uint256Be(BigInt(index)), keccakBytes(aad), recipientKey, keccakBytes(plaintext),
    ]);
    // @noble/hashes' HKDF (the same RFC 5869 function as node:crypto's hkdfSync): per output, and hkdfSync's
    // per-call setup cost about twice its work here.
    return hkdf(sha256, this.material.appSecret, new Uint8Array(0), info, 32);
  }
}
