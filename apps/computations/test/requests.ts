/**
 * The computations app's requests for its unit tests, on the generic in-memory harness of @geode/testing
 * (AppHarness: the real state store, the runtime's request isolation, rollback check on every refusal). Only the
 * app's encoders, its output decoder and its state snapshot live here.
 */
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import { AppHarness, ok, refused, single as singleOutput, type Outcome } from '@geode/testing';
import { computationsApp, snapshotState, type ComputationsState } from '../src/enclave/app.ts';
import { CREATE_KIND, ctypeFromName, decodeOutput, encodeCreateBody, encodeRequest, type ComputationType, type Output, type Request } from '../src/index.ts';

export { ok, refused };

export const ALICE = '0xa11ce00000000000000000000000000000000001' as Address;
export const BOB = '0x0b0b000000000000000000000000000000000002' as Address;
export const CAROL = '0xca401000000000000000000000000000000000c3' as Address;
export const DAVE = '0xdafe000000000000000000000000000000000004' as Address;
export const EVE = '0xeee0000000000000000000000000000000000005' as Address;

/** The harness of this app: outputs decoded with the client's decodeOutput (so every output is checked to decode). */
export type Harness = AppHarness<Output>;
export const harness = (): Harness => new AppHarness(computationsApp, { decodeOutput });

/** The whole app state as plain JSON (snapshotState at the harness's current root). */
export const state = (h: Harness): Promise<ComputationsState> => snapshotState(h.view());

/** The public create request the contract appends (Computations.createComputation). */
export function create(h: Harness, sender: Address, name: string, type: ComputationType | number, participants: Address[], quorum: number | bigint): Promise<Outcome<Output>> {
  const ctype = typeof type === 'number' ? type : ctypeFromName(type);
  return h.publicRequest(sender, CREATE_KIND, encodeCreateBody({ name, ctype, participants, quorum: BigInt(quorum) }));
}

/** Any public request. */
export const publicRaw = (h: Harness, sender: Address, kind: string, body: Uint8Array): Promise<Outcome<Output>> => h.publicRequest(sender, kind, body);

/** A private request, encoded (and validated) by the client's encodeRequest. */
export const send = (h: Harness, sender: Address, req: Request): Promise<Outcome<Output>> => h.privateRequest(sender, encodeRequest(req));

/** Raw private request bytes, or any value as its JSON. */
export function sendRaw(h: Harness, sender: Address, bytes: Uint8Array | unknown): Promise<Outcome<Output>> {
  return h.privateRequest(sender, bytes instanceof Uint8Array ? bytes : new TextEncoder().encode(JSON.stringify(bytes)));
}

/** The result of the single ok output of `o`, asserted to go to `to`. */
export function single(o: Outcome<Output>, to: Address) {
  const out = singleOutput(o, to);
  assert.equal(out.ok, true);
  return out.ok ? out.result : assert.fail('unreachable');
}
