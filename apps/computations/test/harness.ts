/**
 * Test harness: drives computationsApp directly, mimicking the runtime (packages/enclave/src/batch.ts): sequence
 * numbers increase by one per request, each request runs in its own StateBatch request overlay over a real
 * StateStore (SQLite in memory), committed on success and dropped on a throw, every emit is wrapped in the
 * runtime's output plaintext `{ seq, ok: true, message }`, and a thrown GeodeError becomes `{ seq, ok: false, error }`.
 * It also asserts, on every request, that a refusal left the state root untouched, that the state snapshot is
 * canonical-JSON encodable and JSON round-trip stable, and that every emitted output decodes with decodeOutput().
 */
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { canonicalJson, encodeOutputMessage, isGeodeError, type GeodeError } from '@geode/protocol';
import { SqliteBackend, StateStore, type HandlerContext } from '@geode/enclave';
import { computationsApp, snapshotState, type ComputationsState } from '../src/enclave/app.ts';
import { CREATE_KIND, ctypeFromName, decodeOutput, encodeCreateBody, encodeRequest, type ComputationType, type Output, type Request } from '../src/index.ts';

export const ALICE = '0xa11ce00000000000000000000000000000000001' as Address;
export const BOB = '0x0b0b000000000000000000000000000000000002' as Address;
export const CAROL = '0xca401000000000000000000000000000000000c3' as Address;
export const DAVE = '0xdafe000000000000000000000000000000000004' as Address;
export const EVE = '0xeee0000000000000000000000000000000000005' as Address;

export interface Emitted { to: Address; out: Output }
export type Outcome = { ok: true; emitted: Emitted[] } | { ok: false; error: GeodeError; emitted: [] };

const KEY = new Uint8Array(32).fill(3);
const STORE_ID = new Uint8Array(32).fill(4);

export class Harness {
  seq: bigint;
  log: Emitted[] = [];
  private readonly store: StateStore;

  /** A fresh (empty) state, or `backend` (shared with the harness it was restarted from) at `root`. */
  constructor(private readonly backend: SqliteBackend = new SqliteBackend(':memory:'), seq = 0n) {
    this.store = StateStore.open({ backend, sealingKey: KEY, storeId: STORE_ID });
    this.seq = seq;
  }

  /** The whole app state as plain JSON (snapshotState of the store at the current root). */
  async state(): Promise<ComputationsState> {
    return snapshotState(this.store.begin().namespace(computationsApp.name));
  }

  private async run(sender: Address, f: (ctx: HandlerContext) => void | Promise<void>): Promise<Outcome> {
    this.seq += 1n;
    const emitted: Emitted[] = [];
    const batch = this.store.begin();
    const ctx: HandlerContext = {
      seq: this.seq,
      sender,
      block: { number: this.seq, timestamp: 1_700_000_000n + this.seq },
      store: batch.namespace(computationsApp.name),
      emit: (to, message) => {
        const out = decodeOutput(encodeOutputMessage({ seq: this.seq.toString(), ok: true, message }));
        assert.deepEqual(out, message, 'emitted output must survive the runtime envelope + schema round trip unchanged');
        emitted.push({ to, out });
      },
      publish: () => { throw new Error('computations app publishes nothing'); },
      random: () => { throw new Error('computations app must not need randomness'); },
    };
    const before = this.store.root();
    batch.beginRequest();
    try {
      await f(ctx);
    } catch (e) {
      assert.ok(isGeodeError(e), `handler threw a non-GeodeError: ${String(e)}`);
      batch.dropRequest();
      assert.equal(await this.store.commit(batch), before, `refusal ${(e as GeodeError).code} must not change the state`);
      const out = decodeOutput(encodeOutputMessage({ seq: this.seq.toString(), ok: false, error: { code: (e as GeodeError).code, message: (e as GeodeError).message } }));
      assert.equal(out.ok, false);
      return { ok: false, error: e as GeodeError, emitted: [] };
    }
    batch.commitRequest();
    await this.store.commit(batch);
    const state = await this.state();
    const after = canonicalJson(state);
    assert.deepEqual(JSON.parse(JSON.stringify(state)), state, 'state must be plain JSON');
    assert.equal(canonicalJson(JSON.parse(after)), after);
    this.log.push(...emitted);
    return { ok: true, emitted };
  }

  create(sender: Address, name: string, type: ComputationType | number, participants: Address[], quorum: number | bigint): Promise<Outcome> {
    const ctype = typeof type === 'number' ? type : ctypeFromName(type);
    const body = encodeCreateBody({ name, ctype, participants, quorum: BigInt(quorum) });
    return this.run(sender, (ctx) => computationsApp.onPublic(CREATE_KIND, body, ctx));
  }

  publicRaw(sender: Address, kind: string, body: Uint8Array): Promise<Outcome> {
    return this.run(sender, (ctx) => computationsApp.onPublic(kind, body, ctx));
  }

  send(sender: Address, req: Request): Promise<Outcome> {
    const bytes = encodeRequest(req);
    return this.run(sender, (ctx) => computationsApp.onPrivate(bytes, ctx));
  }

  sendRaw(sender: Address, bytes: Uint8Array | unknown): Promise<Outcome> {
    const b = bytes instanceof Uint8Array ? bytes : new TextEncoder().encode(JSON.stringify(bytes));
    return this.run(sender, (ctx) => computationsApp.onPrivate(b, ctx));
  }

  /** A restarted enclave: a new store (empty cache) over the same sealed records at the same root, same next seq. */
  async restart(): Promise<Harness> {
    const h = new Harness(this.backend, this.seq);
    await h.store.checkout(this.store.root());
    return h;
  }
}

/** Assert success and return the emitted outputs. */
export function ok(o: Outcome): Emitted[] {
  if (!o.ok) assert.fail(`expected success, got ${o.error.code}: ${o.error.message}`);
  return o.emitted;
}

/** Assert refusal with `code` and return the error. */
export function refused(o: Outcome, code: string): GeodeError {
  if (o.ok) assert.fail(`expected ${code}, got success ${JSON.stringify(o.emitted)}`);
  assert.equal(o.error.code, code, o.error.message);
  assert.ok(o.error.message.length > 20, 'error message should tell the user what to do');
  return o.error;
}

/** The single output of a successful request, asserted to go to `to`; returns its result. */
export function single(o: Outcome, to: Address) {
  const e = ok(o);
  assert.equal(e.length, 1, `expected one output, got ${JSON.stringify(e)}`);
  assert.equal(e[0]!.to, to);
  const out = e[0]!.out;
  assert.equal(out.ok, true);
  return out.ok ? out.result : assert.fail('unreachable');
}
