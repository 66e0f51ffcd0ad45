import { outputEphemeralIkm } from './output-ekm.ts';

/**
 * Messages between the enclave's main thread and its HPKE workers (pool.ts, worker.ts). Byte fields are
 * Uint8Array (structured clone copies them); `info` is an HPKE_INFO string (RFC 9180 `info`, ASCII).
 */

/** hpkeOpen's arguments (RFC 9180 §6.1 Open in mode_base). */
export interface OpenJob {
  /** Recipient X25519 private key, 32 bytes (the epoch's session key: the worker is inside the enclave). */
  privateKey: Uint8Array;
  /** Encapsulated key, 32 bytes. */
  enc: Uint8Array;
  info: string;
  aad: Uint8Array;
  ciphertext: Uint8Array;
}

/**
 * What an output's ephemeral key material is derived from (output-ekm.ts outputEphemeralIkm, with the job's aad,
 * recipientKey and plaintext): the session's appSecret (32 bytes; the worker is inside the enclave) and the output's
 * index in its batch. Sent instead of the derived bytes so that the derivation (two Keccaks and an HKDF per output)
 * runs on the worker, not on the main thread.
 */
export interface OutputEkmInput {
  appSecret: Uint8Array;
  index: number;
}

/** hpkeSeal's arguments with the deterministic ephemeral key material, or what it is derived from. */
export interface SealJob {
  /** Recipient X25519 public key, 32 bytes. */
  recipientKey: Uint8Array;
  info: string;
  aad: Uint8Array;
  plaintext: Uint8Array;
  /** 32 bytes: DeriveKeyPair input of the ephemeral key (RFC 9180 §7.1.3), or its OutputEkmInput. */
  ephemeralIkm: Uint8Array | OutputEkmInput;
}

/** The job's ephemeral key material as bytes (derived with outputEphemeralIkm when the job carries its inputs). */
export function jobEphemeralIkm(j: SealJob): Uint8Array {
  const e = j.ephemeralIkm;
  return e instanceof Uint8Array ? e : outputEphemeralIkm(e.appSecret, e.index, j.aad, j.recipientKey, j.plaintext);
}

/** Sealed output: enc (32 bytes) and ciphertext (plaintext length + 16-byte tag). */
export interface Sealed {
  enc: Uint8Array;
  ciphertext: Uint8Array;
}

/** A chunk of jobs sent to one worker. */
export type PoolRequest = { id: number; kind: 'open'; jobs: OpenJob[] } | { id: number; kind: 'seal'; jobs: SealJob[] };

/** The worker's answer to PoolRequest `id`: one result per job, in order; null = that job failed. */
export type PoolReply = { id: number; kind: 'open'; results: (Uint8Array | null)[] } | { id: number; kind: 'seal'; results: (Sealed | null)[] };
