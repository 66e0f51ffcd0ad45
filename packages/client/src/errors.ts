import { defineError } from '@geode/protocol';

/** The contract has no active session: the enclave has not completed the handshake yet. */
export class NoSessionError extends defineError({
  codes: ['CLIENT_NO_SESSION'],
  docsPath: 'protocol.md#handshake',
  build: (contract: string) => ({ code: 'CLIENT_NO_SESSION', message: `Contract ${contract} has no active enclave session yet. Start the host (\`geode dev\`) and wait for the handshake.`, details: { contract } }),
}) {}

/** The session's attestation does not bind the keys the contract holds (report_data mismatch, wrong measurement). */
export class SessionBindingError extends defineError({
  codes: ['CLIENT_SESSION_BINDING'],
  docsPath: 'protocol.md#handshake',
  build: (message: string, details?: Record<string, unknown>) => ({ code: 'CLIENT_SESSION_BINDING', message: `The enclave session's attestation does not match the contract: ${message}. Do not send data to this contract.`, details }),
}) {}

/** A name or address does not identify a known identity. */
export class UnknownIdentityError extends defineError({
  codes: ['CLIENT_UNKNOWN_IDENTITY'],
  docsPath: 'client.md#errors',
  build: (who: string) => ({ code: 'CLIENT_UNKNOWN_IDENTITY', message: `No identity named "${who}". Create it with \`geode identity create ${who}\` or list them with \`geode identity list\`.`, details: { who } }),
}) {}

/** An identity file or name is invalid. */
export class IdentityError extends defineError({
  codes: ['CLIENT_IDENTITY'],
  docsPath: 'client.md#errors',
  build: (message: string, details?: Record<string, unknown>) => ({ code: 'CLIENT_IDENTITY', message, details }),
}) {}

/** A transaction the client sent reverted; `details.error` carries the contract's custom error name. */
export class TransactionRevertedError extends defineError({
  codes: ['CLIENT_TX_REVERTED'],
  docsPath: 'client.md#errors',
  build: (what: string, reason: string, details?: Record<string, unknown>) => ({ code: 'CLIENT_TX_REVERTED', message: `${what} was refused by the contract: ${reason}.`, details: { ...details, reason } }),
}) {}

/** The deployment's enclave believes its RPC node instead of a light client (trusted-RPC anchor). */
export class TrustedRpcDeploymentError extends defineError({
  codes: ['CLIENT_TRUSTED_RPC'],
  docsPath: 'protocol.md#light-client-and-trust-anchors',
  build: (contract: string) => ({ code: 'CLIENT_TRUSTED_RPC', message: `Contract ${contract} was deployed with the INSECURE trusted-RPC light client: its enclave believes whatever chain data its host brings. Accept this only for testing, with --insecure-trusted-rpc (allowTrustedRpc).`, details: { contract } }),
}) {}
