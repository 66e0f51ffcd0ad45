import { z } from 'zod';
import { MAX_BATCH_REQUESTS } from './constants.ts';
import { beaconSyncJson, ethereumAnchorJson } from './ethereum-anchor.ts';

/**
 * Host <-> enclave transport messages (docs/protocol.md#transport).
 *
 * Framing: each message is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON
 * (see frame.ts). Requests carry an `id` the response echoes. Every message is validated with these
 * schemas on receipt, on both sides; an invalid one is answered with ENCLAVE_BAD_MESSAGE and changes nothing.
 *
 * Encodings: bytes are 0x-prefixed lowercase hex; integers that can exceed 2^53 (seq, chain id, block
 * numbers, session ids) are decimal strings.
 */

export const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'expected 0x-prefixed hex bytes');
export const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected 0x-prefixed 32-byte hex');
export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte address');
export const uint = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'expected a decimal unsigned integer string');

/** GeodeConfig in JSON (bigints as decimal strings). */
export const configJson = z.object({
  chainId: uint,
  contract: address,
  measurements: z.array(bytes32).min(1).max(64),
  attestationVerifier: address,
  lcSigner: address,
  lcGenesisHash: bytes32,
  policyHash: bytes32,
  admin: address,
  /** Ethereum sync-committee deployments only (lcSigner = ETHEREUM_SYNC_COMMITTEE_SIGNER): the anchor lcGenesisHash commits to. */
  ethereumAnchor: ethereumAnchorJson.optional(),
});
export type ConfigJson = z.infer<typeof configJson>;

/** A header as RLP plus the block signer's 65-byte signature (r || s || v, v in {27, 28}) over blockSigningDigest. */
export const signedHeader = z.object({ rlp: hex.max(2 + 2 * 4096), signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/) });
export type SignedHeaderJson = z.infer<typeof signedHeader>;

/** The subset of an eth_getProof (EIP-1186) response the enclave needs. */
export const storageProof = z.object({
  address,
  balance: hex.or(z.string()),
  nonce: hex.or(z.string()),
  codeHash: bytes32,
  storageHash: bytes32,
  accountProof: z.array(hex).max(64),
  storageProof: z.array(z.object({ key: bytes32, value: hex.or(z.string()), proof: z.array(hex).max(64) })).max(16),
});
export type StorageProofJson = z.infer<typeof storageProof>;

/**
 * One request from the on-chain log (RequestSubmitted). `sessionId` is the contract's activeSessionId when the request
 * was appended (0 if none). It enters the accumulator (accumulatorStep), so the enclave checks it against the proven
 * accAt[to] with seq, sender and payload; it names the session whose HPKE additional data a private request carries.
 */
export const logRequest = z.object({ seq: uint, sender: address, payload: hex, sessionId: uint });
export type LogRequestJson = z.infer<typeof logRequest>;

/** `format` of a backup file (docs/protocol.md#backup). */
export const BACKUP_FORMAT = 'geode.backup.v1';

/** Largest sealed key material a backup (or a restore message) carries, in bytes (KeyMaterial JSON is well under 1 KiB). */
export const MAX_BACKUP_CIPHERTEXT_BYTES = 4096;

/**
 * A backup file (JSON). Every field but `enc` and `ciphertext` is plaintext metadata, and all of it is in the HPKE
 * additional data (backupAad), so changing any of it makes the blob refuse to open. `ciphertext` is
 * HPKE base mode (X25519, HKDF-SHA256, AES-128-GCM; info HPKE_INFO.backup) of the enclave's serialized key material.
 */
export const backupFile = z.object({
  format: z.literal(BACKUP_FORMAT),
  chainId: uint,
  contract: address,
  /** The session the key material was activated for (decimal). */
  sessionId: uint,
  /** That session's HPKE request public key and commitment signer. */
  encPubKey: bytes32,
  signer: address,
  /** Measurement of the exporting instance (its enclave identity, 0x bytes32). */
  measurement: bytes32,
  /** The recovery public key it is sealed to (GeodeCore.recoveryKey when exported). */
  recoveryKey: bytes32,
  /** Block whose proven state the export was checked against (decimal). */
  block: uint,
  enc: bytes32,
  ciphertext: hex.max(2 + 2 * MAX_BACKUP_CIPHERTEXT_BYTES),
});
export type BackupFile = z.infer<typeof backupFile>;

/**
 * Largest attestation evidence a message carries as `quote`, in bytes (docs/protocol.md#evidence-encoding): a DCAP
 * quote with its certification data, or an SEV-SNP report (1184 bytes) with its certificate table (at most
 * @geode/attestation SNP_MAX_CERT_TABLE_BYTES).
 */
export const MAX_EVIDENCE_BYTES = 16 * 1024;

/**
 * What a handover side needs to verify its peer's evidence (docs/protocol.md#handover): a DCAP quote's collateral
 * (dcap-qvl QuoteCollateralV3 JSON; signed by the TEE vendor's PKI, so the host cannot forge it; absent or ignored
 * for an SEV-SNP peer, whose certificates travel in its evidence) and the attestation policy JSON, which the enclave
 * accepts only if keccak256(canonicalJson(policy)) is the attested config's policyHash.
 */
export const handoverTrust = z.object({ collateral: z.record(z.string(), z.unknown()).optional(), policy: z.unknown() });

export const methods = {
  /** Set the deployment config. Allowed once per enclave process; a different config later is refused. */
  init: { params: z.object({ config: configJson }), result: z.object({ configHash: bytes32, measurement: bytes32, teeType: z.string(), simulated: z.boolean() }) },
  /** Report what the enclave holds. */
  status: {
    params: z.object({}).optional(),
    result: z.object({
      measurement: bytes32, teeType: z.string(), simulated: z.boolean(), configured: z.boolean(),
      sessionId: uint.nullable(), encPubKey: bytes32.nullable(), signer: address.nullable(),
      lastSeq: uint, stateRoot: bytes32, trustedBlock: uint,
      /** Rotation epoch of the state at stateRoot (docs/protocol.md#rotation) and the oldest epoch whose key is still held. */
      epoch: uint.optional(), epochBase: uint.optional(),
    }),
  },
  /** Draw a nonce and attest to it (SessionCreate). */
  sessionCreate: { params: z.object({}).optional(), result: z.object({ nonce: bytes32, quote: hex }) },
  /** Check the proof that the pending session holds our nonce; create or unseal keys; attest to them. */
  sessionSetPubKey: {
    params: z.object({ sessionId: uint, header: signedHeader, proof: storageProof, beacon: beaconSyncJson.optional() }),
    result: z.object({ encPubKey: bytes32, signer: address, quote: hex }),
  },
  /**
   * Verify and process requests [from, to]; return the signed commitment for [from, to'] where to' <= to: the enclave
   * ends the batch early when the next request's outputs would exceed MAX_OUTPUT_BYTES_PER_BATCH (docs/protocol.md#caps).
   */
  processBatch: {
    params: z.object({
      header: signedHeader, proof: storageProof, requests: z.array(logRequest).min(1).max(MAX_BATCH_REQUESTS), beacon: beaconSyncJson.optional(),
      /**
       * Follow mode (docs/protocol.md#takeover): the batch was already committed with this newRoot; refuse
       * (ENCLAVE_FOLLOW_MISMATCH, nothing changes) unless processing reproduces it.
       */
      expectNewRoot: bytes32.optional(),
    }),
    result: z.object({
      sessionId: uint, from: uint, to: uint, accTo: bytes32, prevRoot: bytes32, newRoot: bytes32,
      outputs: hex, outputsHash: bytes32, publicOutputs: hex, publicOutputsHash: bytes32, signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
      /**
       * Present when the batch ends with a rotation request (docs/protocol.md#rotation): the new epoch and its X25519
       * request key; `signature` is then over epochCommitmentDigest and the host commits with commitBatchWithEpoch.
       */
      epoch: z.object({ epoch: uint, encPubKey: bytes32 }).optional(),
    }),
  },
  // Key handover by mutual attestation (docs/protocol.md#handover).
  /** Newcomer: draw a fresh X25519 handover key (kept in memory) and attest to it (GeodeCore.requestHandover). */
  handoverRequest: { params: z.object({}).optional(), result: z.object({ handoverPubKey: bytes32, quote: hex }) },
  /**
   * Keyed instance: check by proof that handover request `requestId` is on-chain, check the newcomer's quote against
   * the attested policy, and seal the key material to its handover key.
   */
  handoverSend: {
    params: z.object({
      requestId: uint, quote: hex.max(2 + 2 * MAX_EVIDENCE_BYTES), handoverPubKey: bytes32, header: signedHeader, proof: storageProof,
      beacon: beaconSyncJson.optional(), trust: handoverTrust,
    }),
    result: z.object({ requestId: uint, enc: bytes32, ciphertext: hex, quote: hex }),
  },
  /** Newcomer: check the sender's quote and the proven session keys, open the message, seal the keys. */
  handoverReceive: {
    params: z.object({
      requestId: uint, enc: bytes32, ciphertext: hex.max(2 + 2 * 4096), quote: hex.max(2 + 2 * MAX_EVIDENCE_BYTES), header: signedHeader,
      proof: storageProof, beacon: beaconSyncJson.optional(), trust: handoverTrust,
    }),
    result: z.object({ sessionId: uint, encPubKey: bytes32, signer: address }),
  },
  // Backup and restore (docs/protocol.md#backup).
  /**
   * Keyed instance: check by proof that the active session is its own and read the deployment's recovery key, then
   * seal the key material to it (a backup file).
   */
  backupExport: {
    params: z.object({ header: signedHeader, proof: storageProof, beacon: beaconSyncJson.optional() }),
    result: backupFile,
  },
  /**
   * Newcomer with a pending handover request: import key material the recovery-key holder re-sealed to its handover
   * key in the handover message format (enc, ciphertext; the exporting instance's measurement in place of a sender
   * quote). The same proofs as handoverReceive, plus the committed stateRoot.
   */
  handoverRestore: {
    params: z.object({
      requestId: uint, enc: bytes32, ciphertext: hex.max(2 + 2 * MAX_BACKUP_CIPHERTEXT_BYTES), exporterMeasurement: bytes32, header: signedHeader,
      proof: storageProof, beacon: beaconSyncJson.optional(),
    }),
    result: z.object({ sessionId: uint, encPubKey: bytes32, signer: address, stateRoot: bytes32 }),
  },
  // State snapshots (docs/protocol.md#snapshot): a newcomer with the keys starts from a committed state.
  /**
   * Keyed instance: prove the committed stateRoot and write the state at it as `file` (snapshot-<root>.db in its data
   * directory), sealed for `measurement` (default its own; an accepted measurement). Its own state does not change.
   */
  stateExport: {
    params: z.object({ header: signedHeader, proof: storageProof, beacon: beaconSyncJson.optional(), measurement: bytes32.optional() }),
    result: z.object({ file: z.string().regex(/^snapshot-[0-9a-f]{64}\.db$/), root: bytes32, lastSeq: uint, block: uint, measurement: bytes32, bytes: uint }),
  },
  /**
   * Newcomer holding the keys: adopt snapshot-<root>.db from its data directory when `root` is the contract's proven
   * stateRoot at the header's block; the host then follows the batches committed since.
   */
  stateImport: {
    params: z.object({ root: bytes32, header: signedHeader, proof: storageProof, beacon: beaconSyncJson.optional() }),
    result: z.object({ root: bytes32, lastSeq: uint }),
  },
} as const;

export type Method = keyof typeof methods;
export type Params<M extends Method> = z.input<(typeof methods)[M]['params']>;
export type Result<M extends Method> = z.infer<(typeof methods)[M]['result']>;

/** A request frame from the host. */
export const requestFrame = z.object({ id: z.number().int().nonnegative(), method: z.string().max(64), params: z.unknown().optional() });
/** A response frame from the enclave. */
export const responseFrame = z.union([
  z.object({ id: z.number().int().nonnegative(), result: z.unknown() }),
  z.object({ id: z.number().int().nonnegative(), error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }) }),
]);
