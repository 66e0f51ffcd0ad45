import { GeodeError } from '@geode/protocol';

/** The enclave answered a request with a typed refusal. `code` is the enclave's code (ENCLAVE_*, LC_*, APP_*). */
export class EnclaveRefusedError extends GeodeError {
  constructor(method: string, code: string, message: string, details?: Record<string, unknown>) {
    super(code, `Enclave refused ${method}: ${message}`, { details: { ...details, method }, docsPath: 'protocol.md#errors' });
  }
}

/** The enclave process died or could not be started. The supervisor restarts it; this error reports a request lost with it. */
export class EnclaveUnavailableError extends GeodeError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('HOST_ENCLAVE_UNAVAILABLE', `Enclave process unavailable: ${message}. It is restarted automatically; check its log (stderr) if this repeats.`, { details });
  }
}

/** The enclave sent a response that does not match the transport schema. */
export class EnclaveProtocolError extends GeodeError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('HOST_ENCLAVE_PROTOCOL', `Enclave sent an invalid response: ${message}. The enclave build and the host are out of step: run \`npm run build\`.`, { details });
  }
}

/**
 * The enclave does not hold the active session's keys, and a handshake with its keys would be refused on-chain or
 * could never continue the committed state (which is bound to the keys that produced it). Code HOST_KEYS_LOST.
 */
export class KeysLostError extends GeodeError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('HOST_KEYS_LOST', `${message} Hand the keys over from a live keyed instance (runHandover, docs/protocol.md#handover) or restore the enclave data directory (its keys.sealed) that holds them, and restart; new keys cannot take over (docs/protocol.md#who-may-activate-a-session).`, { details, docsPath: 'protocol.md#who-may-activate-a-session' });
  }
}

/** A chain read or transaction failed in a way the host cannot retry past. */
export class ChainError extends GeodeError {
  constructor(message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super('HOST_CHAIN', `${message}. Check that the RPC endpoint is reachable and the contract address is right.`, opts);
  }
}

/**
 * A batch commitment would not fit one transaction: its gas estimate is above min(EIP-7825 cap 2^24, block gas
 * limit). The host halves the batch and tries again; the enclave's output caps make a single request always fit.
 */
export class CommitTooLargeError extends GeodeError {
  constructor(requests: number, estimate: bigint, limit: bigint) {
    super('HOST_COMMIT_TOO_LARGE', `The commitment of ${requests} requests needs ${estimate} gas, over the ${limit} a transaction may use. The host retries with half as many requests; if one request alone does not fit, report it: the output caps should make that impossible.`, { details: { requests, estimate: estimate.toString(), limit: limit.toString() }, docsPath: 'protocol.md#caps' });
  }
}

/**
 * A deployment was refused before any transaction: no configured on-chain attestation verifier checks the evidence
 * of the chosen TEE, so the contract could not check the enclave's quotes (docs/attestation.md#on-chain-verifiers).
 */
export class DeployRefusedError extends GeodeError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('HOST_NO_ATTESTATION_VERIFIER', message, { details, docsPath: 'attestation.md#on-chain-verifiers' });
  }
}
