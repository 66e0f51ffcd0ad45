/**
 * In-memory harness for a store-based app (StoreEnclaveApp): runs handlers as the runtime does (packages/enclave/src/
 * batch.ts) without a chain or an enclave process. Sequence numbers increase by one per request; each handler works on
 * a copy of the state (jsonKvStore, the KvStore semantics of the state store) that replaces it only on success; emits
 * are wrapped in the runtime's output plaintext and decoded back; a thrown GeodeError becomes an error outcome and
 * drops every write, emit and publish. Asserts on every request that a refusal is a GeodeError.
 */
import assert from 'node:assert/strict';
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem';
import { canonicalJson, decodeOutputMessage, decodePublicRequest, encodeOutputMessage, encodePublicRequest, isGeodeError, type GeodeError, type OutputMessage } from '@geode/protocol';
import { jsonKvStore, type JsonKvState, type StoreEnclaveApp, type StoreHandlerContext } from '@geode/enclave';

export interface Emitted { to: Address; out: OutputMessage }
export type Outcome = { ok: true; emitted: Emitted[]; published: Hex[] } | { ok: false; error: GeodeError; emitted: []; published: [] };

export class StoreHarness {
  log: Emitted[] = [];
  published: { seq: bigint; data: Hex }[] = [];

  constructor(readonly app: StoreEnclaveApp, public state: JsonKvState = {}, public seq = 0n, public block = { number: 100n, timestamp: 1_700_000_000n }) {}

  private async run(sender: Address, f: (ctx: StoreHandlerContext) => void | Promise<void>): Promise<Outcome> {
    this.seq += 1n;
    const seq = this.seq;
    const emitted: Emitted[] = [];
    const published: Hex[] = [];
    const draft = structuredClone(this.state);
    const ctx: StoreHandlerContext = {
      seq,
      sender: sender.toLowerCase() as Address,
      block: { ...this.block },
      store: jsonKvStore(draft, this.app.name),
      emit: (to, message) => emitted.push({ to: to.toLowerCase() as Address, out: decodeOutputMessage(encodeOutputMessage({ seq: seq.toString(), ok: true, message })) }),
      publish: (data) => published.push(typeof data === 'string' ? data : bytesToHex(data)),
      random: () => { throw new Error('this app must not need randomness'); },
    };
    try {
      await f(ctx);
    } catch (e) {
      assert.ok(isGeodeError(e), `handler threw a non-GeodeError: ${String(e)}`);
      return { ok: false, error: e as GeodeError, emitted: [], published: [] };
    }
    this.state = JSON.parse(canonicalJson(draft)) as JsonKvState; // what a sealed/committed state round-trips to
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

  /** A restarted enclave: the same (sealed) state and next seq. */
  restart(): StoreHarness {
    const h = new StoreHarness(this.app, JSON.parse(canonicalJson(this.state)) as JsonKvState, this.seq, this.block);
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
