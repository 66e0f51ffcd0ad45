import type { Address, Hex } from 'viem';

/**
 * The application interface of a Geode enclave (docs/enclave.md#apps).
 *
 * Handlers run inside the trusted enclave, one request at a time, in chain order. They must be deterministic:
 * no clock, no Math.random, no I/O — use `ctx.random` for randomness. The framework gives each handler a private
 * copy (structuredClone) of the app state; if the handler throws, that copy and every `emit` it made are
 * discarded, so a refusal never leaves a partial mutation behind.
 */
export interface HandlerContext {
  /** Sequence number of the request being handled. */
  readonly seq: bigint;
  /** Lowercase 0x address of the on-chain sender. */
  readonly sender: Address;
  /**
   * The verified block of this batch's header (the one the light client checked): number, Unix seconds. Every
   * request of a batch sees the same block; it is at or after the block that appended the request.
   */
  readonly block: { readonly number: bigint; readonly timestamp: bigint };
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

/** A Geode application: pure state-machine handlers over a JSON state `S`. */
export interface EnclaveApp<S> {
  readonly name: string;
  /** The empty state (state root 0 on-chain means "this state"). Plain JSON-serialisable data only. */
  initialState(): S;
  /**
   * Public (plaintext, on-chain) request of app-defined `kind` with ABI-encoded `body`. Mutates `state` in place.
   * Throws GeodeError for refusals (the framework turns it into an error output to the sender).
   */
  onPublic(state: S, kind: string, body: Uint8Array, ctx: HandlerContext): void | Promise<void>;
  /** Decrypted private request bytes. Same rules. */
  onPrivate(state: S, request: Uint8Array, ctx: HandlerContext): void | Promise<void>;
  /**
   * Set to true when every handler validates before it mutates, so that a refusal (a thrown GeodeError) never
   * leaves a partial change. The framework then runs handlers on one copy of the state per batch instead of one
   * per request (O(state) per batch instead of per request). Any other exception then refuses the whole batch
   * (ENCLAVE_HANDLER_FAILED), leaving the enclave's state unchanged. Default false: a copy per request.
   */
  readonly validatesBeforeMutating?: boolean;
}
