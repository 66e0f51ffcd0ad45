/**
 * Test harness: drives computationsApp directly with a fake HandlerContext, mimicking the runtime
 * (packages/enclave/src/batch.ts): sequence numbers increase by one per request, each handler works on a
 * structuredClone of the state that replaces it only on success, every emit is wrapped in the runtime's
 * output plaintext `{ seq, ok: true, message }`, and a thrown GeodeError becomes `{ seq, ok: false, error }`. It also asserts, on every request, that a
 * refusal left the state untouched (handlers validate before mutating), that the state is canonical-JSON
 * encodable and JSON round-trip stable, and that every emitted output decodes with decodeOutput().
 */
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { canonicalJson, encodeOutputMessage, isGeodeError, type GeodeError } from '@geode/protocol';
import type { HandlerContext } from '@geode/enclave/app';
import { computationsApp, type ComputationsState } from '../src/enclave/app.ts';
import { CREATE_KIND, ctypeFromName, decodeOutput, encodeCreateBody, encodeRequest, type ComputationType, type Output, type Request } from '../src/index.ts';

export const ALICE = '0xa11ce00000000000000000000000000000000001' as Address;
export const BOB = '0x0b0b000000000000000000000000000000000002' as Address;
export const CAROL = '0xca401000000000000000000000000000000000c3' as Address;
export const DAVE = '0xdafe000000000000000000000000000000000004' as Address;
export const EVE = '0xeee0000000000000000000000000000000000005' as Address;

export interface Emitted { to: Address; out: Output }
export type Outcome = { ok: true; emitted: Emitted[] } | { ok: false; error: GeodeError; emitted: [] };

export class Harness {
  state: ComputationsState;
  seq: bigint;
  log: Emitted[] = [];

  constructor(state?: ComputationsState, seq = 0n) {
    this.state = state ?? computationsApp.initialState();
    this.seq = seq;
  }

  private run(sender: Address, f: (state: ComputationsState, ctx: HandlerContext) => void): Outcome {
    this.seq += 1n;
    const emitted: Emitted[] = [];
    const ctx: HandlerContext = {
      seq: this.seq,
      sender,
      block: { number: this.seq, timestamp: 1_700_000_000n + this.seq * 12n },
      publish: () => { throw new Error('computations app publishes nothing'); },
      emit: (to, message) => {
        const out = decodeOutput(encodeOutputMessage({ seq: this.seq.toString(), ok: true, message }));
        assert.deepEqual(out, message, 'emitted output must survive the runtime envelope + schema round trip unchanged');
        emitted.push({ to, out });
      },
      random: () => { throw new Error('computations app must not need randomness'); },
    };
    const before = canonicalJson(this.state);
    const draft = structuredClone(this.state);
    try {
      f(draft, ctx);
    } catch (e) {
      assert.ok(isGeodeError(e), `handler threw a non-GeodeError: ${String(e)}`);
      // The runtime would drop the draft; we check the handler validated before mutating anyway.
      assert.equal(canonicalJson(draft), before, `refusal ${(e as GeodeError).code} must not mutate state`);
      const out = decodeOutput(encodeOutputMessage({ seq: this.seq.toString(), ok: false, error: { code: (e as GeodeError).code, message: (e as GeodeError).message } }));
      assert.equal(out.ok, false);
      return { ok: false, error: e as GeodeError, emitted: [] };
    }
    this.state = draft;
    const after = canonicalJson(this.state);
    assert.deepEqual(JSON.parse(JSON.stringify(this.state)), this.state, 'state must be plain JSON');
    assert.equal(canonicalJson(JSON.parse(after)), after);
    this.log.push(...emitted);
    return { ok: true, emitted };
  }

  create(sender: Address, name: string, type: ComputationType | number, participants: Address[], quorum: number | bigint): Outcome {
    const ctype = typeof type === 'number' ? type : ctypeFromName(type);
    const body = encodeCreateBody({ name, ctype, participants, quorum: BigInt(quorum) });
    return this.run(sender, (st, ctx) => computationsApp.onPublic(st, CREATE_KIND, body, ctx));
  }

  publicRaw(sender: Address, kind: string, body: Uint8Array): Outcome {
    return this.run(sender, (st, ctx) => computationsApp.onPublic(st, kind, body, ctx));
  }

  send(sender: Address, req: Request): Outcome {
    const bytes = encodeRequest(req);
    return this.run(sender, (st, ctx) => computationsApp.onPrivate(st, bytes, ctx));
  }

  sendRaw(sender: Address, bytes: Uint8Array | unknown): Outcome {
    const b = bytes instanceof Uint8Array ? bytes : new TextEncoder().encode(JSON.stringify(bytes));
    return this.run(sender, (st, ctx) => computationsApp.onPrivate(st, b, ctx));
  }

  /** A restarted enclave: state restored from its canonical JSON (as sealed/committed), same next seq. */
  restart(): Harness {
    return new Harness(JSON.parse(canonicalJson(this.state)) as ComputationsState, this.seq);
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
