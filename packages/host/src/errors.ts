import { defineError } from '@geode/protocol';

/** The enclave answered a request with a typed refusal. `code` is the enclave's code (ENCLAVE_*, LC_*, APP_*). */
export class EnclaveRefusedError extends defineError({
  docsPath: 'protocol.md#errors',
  build: (method: string, code: string, message: string, details?: Record<string, unknown>) => ({ code, message: `Enclave refused ${method}: ${message}`, details: { ...details, method } }),
}) {}

/** The enclave process died or could not be started. The supervisor restarts it; this error reports a request lost with it. */
export class EnclaveUnavailableError extends defineError({
  codes: ['HOST_ENCLAVE_UNAVAILABLE'],
  docsPath: 'cli.md#host-errors',
  build: (message: string, details?: Record<string, unknown>) => ({ code: 'HOST_ENCLAVE_UNAVAILABLE', message: `Enclave process unavailable: ${message}. It is restarted automatically; check its log (stderr) if this repeats.`, details }),
}) {}

/** The enclave sent a response that does not match the transport schema. */
export class EnclaveProtocolError extends defineError({
  codes: ['HOST_ENCLAVE_PROTOCOL'],
  docsPath: 'cli.md#host-errors',
  build: (message: string, details?: Record<string, unknown>) => ({ code: 'HOST_ENCLAVE_PROTOCOL', message: `Enclave sent an invalid response: ${message}. The enclave build and the host are out of step: run \`npm run build\`.`, details }),
}) {}

/**
 * The enclave does not hold the active session's keys, and a handshake with its keys would be refused on-chain or
 * could never continue the committed state (which is bound to the keys that produced it). Code HOST_KEYS_LOST.
 */
export class KeysLostError extends defineError({
  codes: ['HOST_KEYS_LOST'],
  docsPath: 'protocol.md#who-may-activate-a-session',
  build: (message: string, details?: Record<string, unknown>) => ({ code: 'HOST_KEYS_LOST', message: `${message} Hand the keys over from a live keyed instance (runHandover, docs/protocol.md#handover) or restore the enclave data directory (its keys.sealed) that holds them, and restart; new keys cannot take over (docs/protocol.md#who-may-activate-a-session).`, details }),
}) {}

/** A chain read or transaction failed in a way the host cannot retry past. */
export class ChainError extends defineError({
  codes: ['HOST_CHAIN'],
  docsPath: 'cli.md#host-errors',
  build: (message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) => ({ code: 'HOST_CHAIN', message: `${message}. Check that the RPC endpoint is reachable and the contract address is right.`, ...opts }),
}) {}

/**
 * A batch commitment would not fit one transaction: its gas estimate is above min(EIP-7825 cap 2^24, block gas
 * limit). The host halves the batch and tries again; the enclave's output caps make a single request always fit.
 */
export class CommitTooLargeError extends defineError({
  codes: ['HOST_COMMIT_TOO_LARGE'],
  docsPath: 'protocol.md#caps',
  build: (requests: number, estimate: bigint, limit: bigint) => ({ code: 'HOST_COMMIT_TOO_LARGE', message: `The commitment of ${requests} requests needs ${estimate} gas, over the ${limit} a transaction may use. The host retries with half as many requests; if one request alone does not fit, report it: the output caps should make that impossible.`, details: { requests, estimate: estimate.toString(), limit: limit.toString() } }),
}) {}

/**
 * A deployment was refused before any transaction: no configured on-chain attestation verifier checks the evidence
 * of the chosen TEE, so the contract could not check the enclave's quotes (docs/attestation.md#on-chain-verifiers).
 */
export class DeployRefusedError extends defineError({
  codes: ['HOST_NO_ATTESTATION_VERIFIER'],
  docsPath: 'attestation.md#on-chain-verifiers',
  build: (message: string, details?: Record<string, unknown>) => ({ code: 'HOST_NO_ATTESTATION_VERIFIER', message, details }),
}) {}
