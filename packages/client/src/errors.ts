import { GeodeError } from '@geode/protocol';

/** The contract has no active session: the enclave has not completed the handshake yet. */
export class NoSessionError extends GeodeError {
  constructor(contract: string) {
    super('CLIENT_NO_SESSION', `Contract ${contract} has no active enclave session yet. Start the host (\`geode dev\`) and wait for the handshake.`, { details: { contract }, docsPath: 'protocol.md#handshake' });
  }
}

/** The session's attestation does not bind the keys the contract holds (report_data mismatch, wrong measurement). */
export class SessionBindingError extends GeodeError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CLIENT_SESSION_BINDING', `The enclave session's attestation does not match the contract: ${message}. Do not send data to this contract.`, { details, docsPath: 'protocol.md#handshake' });
  }
}

/** A name or address does not identify a known identity. */
export class UnknownIdentityError extends GeodeError {
  constructor(who: string) {
    super('CLIENT_UNKNOWN_IDENTITY', `No identity named "${who}". Create it with \`geode identity create ${who}\` or list them with \`geode identity list\`.`, { details: { who } });
  }
}

/** An identity file or name is invalid. */
export class IdentityError extends GeodeError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CLIENT_IDENTITY', message, { details });
  }
}

/** A transaction the client sent reverted; `details.error` carries the contract's custom error name. */
export class TransactionRevertedError extends GeodeError {
  constructor(what: string, reason: string, details?: Record<string, unknown>) {
    super('CLIENT_TX_REVERTED', `${what} was refused by the contract: ${reason}.`, { details: { ...details, reason } });
  }
}

/** The deployment's enclave believes its RPC node instead of a light client (trusted-RPC anchor). */
export class TrustedRpcDeploymentError extends GeodeError {
  constructor(contract: string) {
    super('CLIENT_TRUSTED_RPC', `Contract ${contract} was deployed with the INSECURE trusted-RPC light client: its enclave believes whatever chain data its host brings. Accept this only for testing, with --insecure-trusted-rpc (allowTrustedRpc).`, { details: { contract }, docsPath: 'protocol.md#light-client-and-trust-anchors' });
  }
}
