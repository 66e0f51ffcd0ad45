import { defineError } from '@geode/protocol';

/**
 * Typed errors of the trusted enclave runtime (codes `ENCLAVE_*`) and of its light client (codes `LC_*`).
 * Every refusal leaves the enclave's state, keys and sealed files exactly as they were.
 * Documentation of each code: docs/enclave.md#errors.
 */
export const ENCLAVE_ERROR_CODES = [
  'ENCLAVE_BAD_MESSAGE',
  'ENCLAVE_NOT_CONFIGURED',
  'ENCLAVE_CONFIG_MISMATCH',
  'ENCLAVE_NO_PENDING_SESSION',
  'ENCLAVE_NO_SESSION',
  'ENCLAVE_SESSION_MISMATCH',
  'ENCLAVE_STALE_STATE',
  'ENCLAVE_SEQ_MISMATCH',
  'ENCLAVE_ACCUMULATOR_MISMATCH',
  'ENCLAVE_SEAL_CORRUPT',
  'ENCLAVE_KEYS_MISMATCH',
  'ENCLAVE_SEAL_IO',
  'ENCLAVE_STORE_MISSING_ROOT',
  'ENCLAVE_STORE_NATIVE',
  'ENCLAVE_BAD_APP',
  'ENCLAVE_ATTESTOR_UNAVAILABLE',
  'ENCLAVE_PLATFORM_RACE',
  'ENCLAVE_PLATFORM_MISMATCH',
  'ENCLAVE_INTERNAL',
  // Key handover (src/handover/, docs/protocol.md#handover):
  'ENCLAVE_HANDOVER_STATE',
  'ENCLAVE_HANDOVER_UNAUTHORISED',
  'ENCLAVE_HANDOVER_POLICY',
  'ENCLAVE_HANDOVER_EVIDENCE',
  'ENCLAVE_HANDOVER_MEASUREMENT',
  'ENCLAVE_HANDOVER_BINDING',
  'ENCLAVE_HANDOVER_OPEN',
  'ENCLAVE_HANDOVER_KEYS',
  'ENCLAVE_FOLLOW_MISMATCH',
  // Rotation epochs (docs/protocol.md#rotation): this instance deleted a key the batch needs (refuses the batch).
  'ENCLAVE_EPOCH_KEY_DELETED',
  // Backup and restore (src/handover/backup.ts, docs/protocol.md#backup):
  'ENCLAVE_BACKUP_NO_RECOVERY_KEY',
  'ENCLAVE_RESTORE_SUPERSEDED',
  'ENCLAVE_RESTORE_NO_STATE',
  // State snapshots (src/snapshot.ts, docs/protocol.md#snapshot):
  'ENCLAVE_SNAPSHOT_NOT_COMMITTED',
  'ENCLAVE_SNAPSHOT_STALE',
  'ENCLAVE_SNAPSHOT_INVALID',
  'ENCLAVE_SNAPSHOT_TOO_LARGE',
  // Codes carried by error *outputs* (sent to a request's sender; the batch itself succeeds):
  'ENCLAVE_DECRYPT',
  'ENCLAVE_BAD_REQUEST',
  'ENCLAVE_HANDLER_FAILED',
  'ENCLAVE_STORE_KEY',
  'ENCLAVE_STORE_VALUE',
  'ENCLAVE_STORE_LIMIT',
  'ENCLAVE_OUTPUT_LIMIT',
  'ENCLAVE_EPOCH_RETIRED',
  'ENCLAVE_EPOCH_UNKNOWN',
] as const;
export type EnclaveErrorCode = (typeof ENCLAVE_ERROR_CODES)[number];

/** An enclave refusal or failure. `code` is one of {@link ENCLAVE_ERROR_CODES}. */
export class EnclaveError extends defineError({
  codes: ENCLAVE_ERROR_CODES,
  docsPath: 'enclave.md#errors',
  build: (code: EnclaveErrorCode, message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) => ({ code, message, details: opts.details, cause: opts.cause }),
}) {}

/** Light-client error codes (`LC_HEADER_DECODE` is thrown by @geode/protocol's decodeHeader). */
export const LC_ERROR_CODES = [
  'LC_HEADER_SIGNATURE',
  'LC_STALE_HEADER',
  'LC_HEADER_LINK',
  'LC_HEADER_DECODE',
  'LC_ACCOUNT_PROOF',
  'LC_STORAGE_PROOF',
  'LC_PROOF_MISSING_KEY',
  // Ethereum sync-committee light client (src/lightclient/ethereum/, docs/protocol.md#ethereum-light-client):
  'LC_ANCHOR_INVALID',
  'LC_PRESET_MISMATCH',
  'LC_BEACON_DECODE',
  'LC_FORK_MISMATCH',
  'LC_PRE_CAPELLA_HEADER',
  'LC_CHECKPOINT_MISMATCH',
  'LC_EXECUTION_BRANCH',
  'LC_SYNC_COMMITTEE_BRANCH',
  'LC_SYNC_COMMITTEE_CONFLICT',
  'LC_FINALITY_BRANCH',
  'LC_NOT_FINALIZED',
  'LC_SYNC_PARTICIPATION',
  'LC_UPDATE_SLOTS',
  'LC_UPDATE_PERIOD',
  'LC_UPDATE_IRRELEVANT',
  'LC_SYNC_SIGNATURE',
  'LC_TOO_MANY_UPDATES',
  'LC_EXECUTION_BLOCK_MISMATCH',
] as const;
export type LightClientErrorCode = (typeof LC_ERROR_CODES)[number];

/** A header or storage proof that does not verify against the light client's trust anchor. */
export class LightClientError extends defineError({
  codes: LC_ERROR_CODES,
  docsPath: 'enclave.md#light-client',
  build: (code: LightClientErrorCode, message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) => ({ code, message, details: opts.details, cause: opts.cause }),
}) {}
