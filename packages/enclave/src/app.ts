import type { Address, Hex } from 'viem';
import type { KvStore } from './store/kv.ts';

/**
 * The application interface of a Geode enclave (docs/enclave.md#apps, docs/apps.md#state).
 *
 * Handlers run inside the trusted enclave, one request at a time, in chain order. They must be deterministic:
 * no clock (use `ctx.block`), no Math.random (use `ctx.random`), no I/O. The app's state is `ctx.store`, a key-value
 * store in the app's own namespace; the empty store is the initial state. Each request's writes go to an overlay: if
 * the handler throws, its writes and every `emit` it made are dropped, so a refusal never leaves a partial change
 * behind and no copy of the state is ever made.
 */
export interface HandlerContext {
  /** Sequence number of the request being handled. */
  readonly seq: bigint;
  /** Lowercase 0x address of the on-chain sender. */
  readonly sender: Address;
  /** The verified block of this batch's header (the one the light client checked): number, Unix seconds. */
  readonly block: { readonly number: bigint; readonly timestamp: bigint };
  /**
   * The app's state: a KvStore (packages/enclave/src/store/kv.ts) in the app's own namespace. Writes go to the
   * request's overlay; a thrown GeodeError drops them.
   */
  readonly store: KvStore;
  /**
   * Queue an output for `recipient` (JSON-serialisable message). The framework encrypts it to the recipient's
   * registered output key (HPKE), or records it as undeliverable if none is registered.
   */
  emit(recipient: Address, message: unknown): void;
  /**
   * Publish plaintext `data` (bytes, or 0x hex) for the app contract: committed with the batch and handed to the
   * contract's `_onPublicOutput(seq, data)` hook inside commitBatch (docs/protocol.md#public-outputs). Everyone can
   * read it. Caps: MAX_PUBLIC_OUTPUTS_PER_REQUEST outputs of MAX_PUBLIC_OUTPUT_BYTES each, counted into the output
   * byte caps (docs/protocol.md#caps); over them the request is refused (ENCLAVE_OUTPUT_LIMIT). Dropped with the
   * request's other effects if the handler throws. Throws TypeError for data that is neither bytes nor 0x hex.
   */
  publish(data: Uint8Array | Hex): void;
  /** Deterministic randomness: HKDF(sealed app secret, seq, label) — same inputs, same bytes. */
  random(label: string, length: number): Uint8Array;
}

/**
 * A Geode application: deterministic handlers over the key-value state `ctx.store`. `name` is the app's store
 * namespace (the first part of every key it writes); "geode" is reserved for the framework (ENCLAVE_BAD_APP).
 */
export interface EnclaveApp {
  readonly name: string;
  /**
   * Public (plaintext, on-chain) request of app-defined `kind` with ABI-encoded `body`.
   * Throws GeodeError for refusals (the framework turns it into an error output to the sender and drops the
   * request's writes); any other exception becomes an ENCLAVE_HANDLER_FAILED error output, also with its writes dropped.
   */
  onPublic(kind: string, body: Uint8Array, ctx: HandlerContext): void | Promise<void>;
  /** Decrypted private request bytes. Same rules. */
  onPrivate(request: Uint8Array, ctx: HandlerContext): void | Promise<void>;
}
