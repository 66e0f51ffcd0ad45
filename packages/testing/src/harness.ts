/**
 * The in-memory handler harness of @geode/testing (docs/apps.md#testing): runs an app's handlers (an
 * {@link EnclaveApp}, e.g. from `defineApp`) request by request as the enclave runtime does
 * (packages/enclave/src/batch.ts), with no chain, no enclave process and no sealing directory:
 *
 * 1. state: the real {@link StateStore} (authenticated key-value store, MPT root) over an in-memory SQLite backend;
 *    the handler sees the app's namespace, as in the runtime;
 * 2. context: pinned `seq` (the last seq + 1 per request), `sender` (lower-cased), `block` (`h.block`, fixed until a
 *    test changes it) and deterministic `random` (the runtime's HKDF derivation, SessionKeys.random, over a fixed
 *    app secret);
 * 3. isolation: each request runs in its own request overlay (beginRequest), committed on success and dropped on a
 *    throw together with its emits and publishes;
 * 4. outputs: each emit is wrapped in the runtime's output plaintext `{seq, ok: true, message}` (canonical JSON) and
 *    decoded back with the app's decoder (`decodeOutput`, default the framework's decodeOutputMessage); a refusal's
 *    error output `{seq, ok: false, error: {code, message}}` is decoded the same way;
 * 5. rollback check, on every refusal: the handler threw a GeodeError (anything else fails the test, the runtime
 *    would answer ENCLAVE_HANDLER_FAILED) and the state root after it equals the root before it, byte for byte.
 *
 * Not modelled (tested in @geode/enclave): output caps, output-key registration, encryption, batching.
 */
import assert from 'node:assert/strict';
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem';
import { decodeOutputMessage, encodeOutputMessage, isGeodeError, type GeodeError, type OutputMessage } from '@geode/protocol';
import { SessionKeys, keyMaterialFrom, SqliteBackend, StateStore, type EnclaveApp, type HandlerContext, type KvStore } from '@geode/enclave';

/** The verified block a request sees (`ctx.block`): number and Unix seconds. */
export interface HarnessBlock { number: bigint; timestamp: bigint }

/** Options of {@link AppHarness}. */
export interface HarnessOptions<O> {
  /**
   * The app's output decoder (plaintext bytes -> the app's output type), e.g. the client's decoder; it gets both the
   * ok outputs and the error outputs. Default: decodeOutputMessage (@geode/protocol), giving {@link OutputMessage}.
   */
  decodeOutput?: (plaintext: Uint8Array) => O;
  /** `ctx.block` of every request until `h.block` is changed. Default `{ number: 100n, timestamp: 1_700_000_000n }`. */
  block?: HarnessBlock;
  /** Seq of the last request already handled: the next request is `seq + 1`. Default 0n. */
  seq?: bigint;
  /** ikm (32 bytes) of `ctx.random` (HKDF-SHA256, docs/enclave.md). Default 32 bytes of 0x07. */
  appSecret?: Uint8Array;
  /** The store's backend; default a fresh `:memory:` SQLite (an empty state). Shared by {@link AppHarness.restart}. */
  backend?: SqliteBackend;
}

/** One output of a successful request: its recipient (lowercase 0x address) and its decoded plaintext. */
export interface Emitted<O = OutputMessage> { to: Address; out: O }

/** What one request did. On a refusal nothing was emitted or published and the state root is unchanged. */
export type Outcome<O = OutputMessage> =
  | { ok: true; seq: bigint; emitted: Emitted<O>[]; published: Hex[] }
  | { ok: false; seq: bigint; error: GeodeError; errorOutput: O; emitted: []; published: [] };

const SEALING_KEY = new Uint8Array(32).fill(5);
const STORE_ID = new Uint8Array(32).fill(6);
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const HEX_RE = /^0x([0-9a-fA-F]{2})*$/;

/** See the module doc. `O` is the type of a decoded output (the app's decoder's return type). */
export class AppHarness<O = OutputMessage> {
  /** Seq of the last request handled (0n before the first). */
  seq: bigint;
  /** `ctx.block` of the next requests; assign to move time (e.g. past a deadline). */
  block: HarnessBlock;
  /** Every output of every successful request, in order. */
  readonly log: Emitted<O>[] = [];
  /** Every public output (ctx.publish) of every successful request, in order, with its request's seq. */
  readonly published: { seq: bigint; data: Hex }[] = [];
  private readonly store: StateStore;
  private readonly backend: SqliteBackend;
  private readonly decode: (plaintext: Uint8Array) => O;
  private readonly appSecret: Uint8Array;
  private keys: Promise<SessionKeys> | undefined;

  constructor(readonly app: EnclaveApp, private readonly opts: HarnessOptions<O> = {}) {
    this.backend = opts.backend ?? new SqliteBackend(':memory:');
    this.store = StateStore.open({ backend: this.backend, sealingKey: SEALING_KEY, storeId: STORE_ID });
    this.seq = opts.seq ?? 0n;
    this.block = { ...(opts.block ?? { number: 100n, timestamp: 1_700_000_000n }) };
    this.decode = opts.decodeOutput ?? (decodeOutputMessage as (p: Uint8Array) => O);
    this.appSecret = opts.appSecret ?? new Uint8Array(32).fill(7);
  }

  /** The state root (0x hex, 32 bytes) the store is at: equal roots mean byte-identical states. */
  root(): Hex {
    return this.store.root();
  }

  /** A read view of the app's namespace at the current root (e.g. for an app's own state snapshot). Writes are discarded. */
  view(): KvStore {
    return this.store.begin().namespace(this.app.name);
  }

  /** Every [key, value] of the app's namespace at the current root, in key order (key parts joined with '/'). */
  async state(): Promise<[string, unknown][]> {
    const out: [string, unknown][] = [];
    for await (const [k, v] of this.view().entries([])) out.push([k.map(String).join('/'), v]);
    return out;
  }

  /** A public request as the contract appends it: `kind` ("<app>.<kind>") and its ABI body (bytes or 0x hex). */
  publicRequest(sender: Address, kind: string, body: Uint8Array | Hex): Promise<Outcome<O>> {
    if (typeof body === 'string' && !HEX_RE.test(body)) throw new TypeError(`publicRequest: body must be bytes or 0x hex of whole bytes, got ${body.slice(0, 20)}`);
    const bytes = typeof body === 'string' ? hexToBytes(body) : body;
    return this.runHandler(sender, (ctx) => this.app.onPublic(kind, bytes, ctx));
  }

  /** A private request: its decrypted plaintext bytes (e.g. `spec.encodePrivate(op, body)`). */
  privateRequest(sender: Address, bytes: Uint8Array): Promise<Outcome<O>> {
    return this.runHandler(sender, (ctx) => this.app.onPrivate(bytes, ctx));
  }

  /**
   * Run any function as request `seq + 1` of `sender` under the runtime's rules (e.g. to set up state through
   * `ctx.store`). Fails the test (AssertionError) when `f` throws something that is not a GeodeError, or a refusal
   * changed the state root.
   */
  async runHandler(sender: Address, f: (ctx: HandlerContext) => void | Promise<void>): Promise<Outcome<O>> {
    this.keys ??= SessionKeys.fromMaterial(keyMaterialFrom({ hpkeSeed: new Uint8Array(32).fill(8), signerKey: new Uint8Array(32).fill(9), appSecret: this.appSecret, sessionId: null }));
    const keys = await this.keys;
    const seq = (this.seq += 1n);
    const emitted: Emitted<O>[] = [];
    const published: Hex[] = [];
    const batch = this.store.begin();
    const ctx: HandlerContext = {
      seq,
      sender: sender.toLowerCase() as Address,
      block: { ...this.block },
      store: batch.namespace(this.app.name),
      emit: (to, message) => {
        if (!ADDRESS_RE.test(to)) throw new TypeError(`emit: recipient ${String(to)} is not a 20-byte 0x address`);
        const plaintext = encodeOutputMessage({ seq: seq.toString(), ok: true, message });
        const back = decodeOutputMessage(plaintext);
        assert.deepEqual(back.ok && back.message, message, 'an emitted message must survive the output plaintext (canonical JSON) unchanged');
        emitted.push({ to: to.toLowerCase() as Address, out: this.decode(plaintext) });
      },
      publish: (data) => {
        if (typeof data === 'string' && !HEX_RE.test(data)) throw new TypeError('publish: data must be bytes or 0x hex of whole bytes');
        published.push(typeof data === 'string' ? (data.toLowerCase() as Hex) : bytesToHex(data));
      },
      random: (label, length) => keys.random(seq, label, length),
    };
    const before = this.store.root();
    batch.beginRequest();
    try {
      await f(ctx);
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e; // a failed check of the harness (or of the test) inside the handler
      assert.ok(isGeodeError(e), `the handler threw ${String(e)}: a refusal must be a GeodeError (the runtime answers ENCLAVE_HANDLER_FAILED)`);
      batch.dropRequest();
      assert.equal(await this.store.commit(batch), before, `the refusal ${e.code} must leave the state root unchanged`);
      const errorOutput = this.decode(encodeOutputMessage({ seq: seq.toString(), ok: false, error: { code: e.code, message: e.message } }));
      return { ok: false, seq, error: e, errorOutput, emitted: [], published: [] };
    }
    batch.commitRequest();
    await this.store.commit(batch);
    this.log.push(...emitted);
    for (const data of published) this.published.push({ seq, data });
    return { ok: true, seq, emitted, published };
  }

  /**
   * A restarted enclave: a new harness (empty caches) over the same backend, checked out at this harness's root,
   * with the same seq, block, decoder, app secret, log and public outputs.
   */
  async restart(): Promise<AppHarness<O>> {
    const h = new AppHarness<O>(this.app, { ...this.opts, backend: this.backend, seq: this.seq, block: this.block });
    await h.store.checkout(this.store.root());
    h.log.push(...this.log);
    h.published.push(...this.published);
    return h;
  }
}

/** Assert `o` succeeded (AssertionError with the refusal's code otherwise); returns its outputs. */
export function ok<O>(o: Outcome<O>): Emitted<O>[] {
  if (!o.ok) assert.fail(`expected success, got ${o.error.code}: ${o.error.message}`);
  return o.emitted;
}

/**
 * Assert `o` was refused with `code` and that its message reads as guidance (more than 20 characters); returns
 * the error. AssertionError otherwise.
 */
export function refused<O>(o: Outcome<O>, code: string): GeodeError {
  if (o.ok) assert.fail(`expected ${code}, got success ${JSON.stringify(o.emitted, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
  assert.equal(o.error.code, code, o.error.message);
  assert.ok(o.error.message.length > 20, 'an error message should tell the user what to do');
  return o.error;
}

/** Assert `o` succeeded with exactly one output, to `to` (any case); returns that output. */
export function single<O>(o: Outcome<O>, to: Address): O {
  const e = ok(o);
  assert.equal(e.length, 1, `expected one output, got ${e.length}`);
  assert.equal(e[0]!.to, to.toLowerCase());
  return e[0]!.out;
}
