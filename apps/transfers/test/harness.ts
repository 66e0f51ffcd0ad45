/**
 * In-memory harness for an app (EnclaveApp): runs handlers as the runtime does (packages/enclave/src/batch.ts) without
 * a chain or an enclave process. Sequence numbers increase by one per request; each request runs in its own request
 * overlay of a real StateStore (SQLite in memory), committed on success and dropped on a throw (with every emit and
 * publish); emits are wrapped in the runtime's output plaintext and decoded back. Asserts on every request that a
 * refusal is a GeodeError and left the state root unchanged.
 */
import assert from 'node:assert/strict';
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem';
import { decodeOutputMessage, decodePublicRequest, encodeOutputMessage, encodePublicRequest, isGeodeError, type GeodeError, type OutputMessage } from '@geode/protocol';
import type { EnclaveApp, HandlerContext } from '@geode/enclave';
import { SqliteBackend, StateStore } from '@geode/enclave';

const KEY = new Uint8Array(32).fill(5);
const STORE_ID = new Uint8Array(32).fill(6);

export interface Emitted { to: Address; out: OutputMessage }
export type Outcome = { ok: true; emitted: Emitted[]; published: Hex[] } | { ok: false; error: GeodeError; emitted: []; published: [] };

export class StoreHarness {
  log: Emitted[] = [];
  published: { seq: bigint; data: Hex }[] = [];
  private readonly store: StateStore;

  /** A fresh (empty) state, or `backend` (shared with the harness it was restarted from). */
  constructor(readonly app: EnclaveApp, private readonly backend: SqliteBackend = new SqliteBackend(':memory:'), public seq = 0n, public block = { number: 100n, timestamp: 1_700_000_000n }) {
    this.store = StateStore.open({ backend, sealingKey: KEY, storeId: STORE_ID });
  }

  /** Every [key, value] of the app's namespace at the current root, in key order (keys as strings). */
  async state(): Promise<[string, unknown][]> {
    const out: [string, unknown][] = [];
    for await (const [k, v] of this.store.begin().namespace(this.app.name).entries([])) out.push([k.map(String).join('/'), v]);
    return out;
  }

  private async run(sender: Address, f: (ctx: HandlerContext) => void | Promise<void>): Promise<Outcome> {
    this.seq += 1n;
    const seq = this.seq;
    const emitted: Emitted[] = [];
    const published: Hex[] = [];
    const batch = this.store.begin();
    const ctx: HandlerContext = {
      seq,
      sender: sender.toLowerCase() as Address,
      block: { ...this.block },
      store: batch.namespace(this.app.name),
      emit: (to, message) => emitted.push({ to: to.toLowerCase() as Address, out: decodeOutputMessage(encodeOutputMessage({ seq: seq.toString(), ok: true, message })) }),
      publish: (data) => published.push(typeof data === 'string' ? data : bytesToHex(data)),
      random: () => { throw new Error('this app must not need randomness'); },
    };
    const before = this.store.root();
    batch.beginRequest();
    try {
      await f(ctx);
    } catch (e) {
      assert.ok(isGeodeError(e), `handler threw a non-GeodeError: ${String(e)}`);
      batch.dropRequest();
      assert.equal(await this.store.commit(batch), before, `refusal ${(e as GeodeError).code} must not change the state`);
      return { ok: false, error: e as GeodeError, emitted: [], published: [] };
    }
    batch.commitRequest();
    await this.store.commit(batch);
    this.log.push(...emitted);
    for (const data of published) this.published.push({ seq, data });
    return { ok: true, emitted, published };
  }

  /** A public request as the contract appends it (kind, ABI body). */
  publicRequest(sender: Address, kind: string, body: Hex): Promise<Outcome> {
    // Round-trip through the on-chain public payload encoding, as the runtime receives it.
    const r = decodePublicRequest(encodePublicRequest(kind, body));
    return this.run(sender, (ctx) => this.app.onPublic(r.kind, hexToBytes(r.body), ctx));
  }

  /** A private request's plaintext bytes. */
  privateRequest(sender: Address, bytes: Uint8Array): Promise<Outcome> {
    return this.run(sender, (ctx) => this.app.onPrivate(bytes, ctx));
  }

  /** A restarted enclave: a new store (empty cache) over the same sealed records at the same root, same next seq. */
  async restart(): Promise<StoreHarness> {
    const h = new StoreHarness(this.app, this.backend, this.seq, this.block);
    await h.store.checkout(this.store.root());
    h.published = [...this.published];
    return h;
  }
}

/** Assert success; returns the outcome's emitted outputs. */
export function ok(o: Outcome): Emitted[] {
  if (!o.ok) assert.fail(`expected success, got ${o.error.code}: ${o.error.message}`);
  return o.emitted;
}

/** Assert refusal with `code`; returns the error. */
export function refused(o: Outcome, code: string): GeodeError {
  if (o.ok) assert.fail(`expected ${code}, got success ${JSON.stringify(o.emitted)}`);
  assert.equal(o.error.code, code, o.error.message);
  assert.ok(o.error.message.length > 20, 'an error message should tell the user what to do');
  return o.error;
}
