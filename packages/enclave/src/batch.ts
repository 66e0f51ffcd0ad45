import { bytesToHex, concatHex, hexToBytes, type Address, type Hex } from 'viem';
import {
  HPKE_INFO, MAX_OUTPUT_BYTES_PER_REQUEST, REGISTER_KEY_KIND, assertPlainJson, decodeEnvelope, decodePublicRequest, encodeOutputMessage,
  MAX_PUBLIC_OUTPUTS_PER_REQUEST, hpkeOpen, hpkeSeal, isGeodeError, outputAad, requestAad, type BatchOutput, type PublicOutput,
} from '@geode/protocol';
import type { EnclaveApp, HandlerContext } from './app.ts';
import { BatchOutputBudget, outputLimitRefusal, outputsBytes, publicOutputsBytes, requestCapExceeded } from './caps.ts';
import { EnclaveError } from './errors.ts';
import type { SessionKeys } from './keys.ts';
import type { EnclaveState, FrameworkState } from './state.ts';

/**
 * Deterministic execution of a verified batch (docs/enclave.md#execution). Called by the runtime only after the
 * header, proofs, session, state root, sequence numbers and accumulator have all been checked.
 *
 * Isolation: the input state is never mutated. Each handler gets a structuredClone of the current app state;
 * on success the clone becomes the current state, on a throw it is dropped together with the handler's emits,
 * and the sender gets an error output { seq, ok: false, error: { code, message } } (code = the GeodeError's code,
 * or ENCLAVE_HANDLER_FAILED for any other exception, ENCLAVE_DECRYPT for an undecryptable private request,
 * ENCLAVE_OUTPUT_LIMIT for outputs over a per-request cap, see caps.ts).
 */

/** One request of the batch, already parsed. */
export interface BatchRequest {
  seq: bigint;
  sender: Address;
  payload: Hex;
  /** The same payload as bytes (the runtime decodes it once to hash it). */
  payloadBytes: Uint8Array;
  /** activeSessionId when the request was appended; proven with it through the accumulator (protocol accumulatorStep). */
  sessionId: bigint;
  /** acc(seq): the accumulator after this request (protocol accumulatorStep), as the runtime computed it from the request bytes and matched against the proven accumulator. */
  accAfter: Hex;
}

/** Binding of the batch to its deployment and the committing session (output HPKE AADs). */
export interface BatchContext {
  chainId: bigint;
  contract: Address;
  sessionId: bigint;
  /** The verified header's block (HandlerContext.block): number and Unix-seconds timestamp. */
  block: { number: bigint; timestamp: bigint };
}

/** A public output a handler published (ctx.publish), before encoding. */
interface PendingPublic {
  seq: bigint;
  data: Uint8Array;
}

interface PendingOutput {
  recipient: Address;
  seq: bigint;
  plaintext: Uint8Array;
  /** Recipient's registered X25519 key when the output was produced, or null (undeliverable). */
  key: Hex | null;
}

const ADDRESS_RE = /^0x[0-9a-f]{40}$/;

/** Result of executing a batch: the new state and encrypted outputs (in emission order). */
export interface BatchExecution<S> {
  /** State after the last request run; its framework.lastSeq is the batch's `to` (see the per-batch cap). */
  state: EnclaveState<S>;
  outputs: BatchOutput[];
  /** Public outputs in publication order (docs/protocol.md#public-outputs). */
  publicOutputs: PublicOutput[];
}

/**
 * Run `requests` (consecutive, verified) on `base`. Deterministic: equal inputs give equal state and outputs
 * (output ephemeral keys are derived from the sealed app secret, see SessionKeys.outputEphemeralIkm).
 *
 * Output caps (caps.ts, docs/protocol.md#caps): a request over a per-request cap gets one ENCLAVE_OUTPUT_LIMIT
 * error output and changes nothing; the batch ends before a request whose outputs would overflow the per-batch
 * cap, so the result may cover a prefix requests[0..k] (k >= 0): read `to` from state.framework.lastSeq.
 */
export async function executeBatch<S>(app: EnclaveApp<S>, base: EnclaveState<S>, requests: readonly BatchRequest[], keys: SessionKeys, bc: BatchContext): Promise<BatchExecution<S>> {
  // See EnclaveApp.validatesBeforeMutating: one working copy per batch, or one per request. A shared copy cannot
  // drop one request's changes, so a per-request cap refusal re-runs the batch with a copy per request
  // (deterministic: the outcome is the same as if the cap had been known up front). Only a request over a cap, which
  // no honest client sends, triggers it.
  if (app.validatesBeforeMutating === true) {
    const run = await runRequests(app, base, requests, keys, bc, true);
    if (run.kind === 'done') return sealOutputs(run, bc, keys);
  }
  const run = await runRequests(app, base, requests, keys, bc, false);
  if (run.kind !== 'done') throw new EnclaveError('ENCLAVE_INTERNAL', 'A batch with a copy per request asked to be re-run; this is a bug in executeBatch.');
  return sealOutputs(run, bc, keys);
}

/** A finished run, or (in-place mode only) the signal that a request over a per-request cap needs a re-run. */
type Run<S> =
  | { kind: 'done'; fw: FrameworkState; appState: S; pending: PendingOutput[]; publics: PendingPublic[] }
  | { kind: 'refused' };

async function runRequests<S>(app: EnclaveApp<S>, base: EnclaveState<S>, requests: readonly BatchRequest[], keys: SessionKeys, bc: BatchContext, inPlace: boolean): Promise<Run<S>> {
  const fw: FrameworkState = { lastSeq: base.framework.lastSeq, lastAcc: base.framework.lastAcc, outputKeys: { ...base.framework.outputKeys }, keyId: keys.keyId };
  let appState = inPlace ? structuredClone(base.app) : base.app;
  const pending: PendingOutput[] = [];
  const publics: PendingPublic[] = [];
  const block = Object.freeze({ number: bc.block.number, timestamp: bc.block.timestamp });
  const budget = new BatchOutputBudget();
  // Request AAD bytes per (session, sender): a batch repeats senders, and the AAD depends on nothing else.
  const requestAads = new Map<string, Uint8Array>();
  const requestAadOf = (sessionId: bigint, sender: Address): Uint8Array => {
    const k = `${sessionId}:${sender}`;
    let aad = requestAads.get(k);
    if (!aad) requestAads.set(k, (aad = hexToBytes(requestAad(bc.chainId, bc.contract, sessionId, sender))));
    return aad;
  };

  for (const r of requests) {
    const sender = r.sender.toLowerCase() as Address;
    const payload = r.payloadBytes;
    const emits: PendingOutput[] = [];
    const pubs: PendingPublic[] = [];
    const outputKeysBefore = fw.outputKeys[sender];
    const ctx: HandlerContext = {
      seq: r.seq,
      sender,
      block,
      publish(data: Uint8Array | Hex) {
        if (typeof data === 'string') {
          if (!/^0x([0-9a-fA-F]{2})*$/.test(data)) throw new TypeError('publish: data must be bytes or 0x hex of whole bytes');
          pubs.push({ seq: r.seq, data: hexToBytes(data) });
        } else if (data instanceof Uint8Array) {
          pubs.push({ seq: r.seq, data: data.slice() }); // a copy: later mutation by the handler changes nothing
        } else {
          throw new TypeError('publish: data must be bytes or 0x hex');
        }
      },
      emit(recipient: Address, message: unknown) {
        const to = String(recipient).toLowerCase() as Address;
        if (!ADDRESS_RE.test(to)) throw new TypeError(`emit: recipient ${String(recipient)} is not a 20-byte 0x address`);
        const plaintext = encodeOutputMessage({ seq: r.seq.toString(), ok: true, message });
        emits.push({ recipient: to, seq: r.seq, plaintext, key: fw.outputKeys[to] ?? null });
      },
      random: (label: string, length: number) => keys.random(r.seq, label, length),
    };
    // A request that might not fit the rest of the batch (caps.ts rule 2) runs on its own copy even in in-place mode,
    // so that it can be left out of this batch; only the batch's last MAX_OUTPUT_BYTES_PER_REQUEST bytes pay for it.
    const isolated = !inPlace || !budget.fits(MAX_OUTPUT_BYTES_PER_REQUEST, MAX_PUBLIC_OUTPUTS_PER_REQUEST);
    let next = appState;
    let outs: PendingOutput[];
    let outPubs: PendingPublic[] = [];
    try {
      const env = decodeEnvelope(payload); // ENVELOPE_INVALID -> error output
      if (env.kind === 'public') {
        const { kind, body } = decodePublicRequest(bytesToHex(env.data)); // ENVELOPE_INVALID(_UTF8) -> error output
        if (kind === REGISTER_KEY_KIND) {
          if (!/^0x[0-9a-fA-F]{64}$/.test(body)) throw new EnclaveError('ENCLAVE_BAD_REQUEST', 'geode.register-key body must be abi.encode(bytes32 x25519PublicKey).');
          const key = body.toLowerCase() as Hex;
          fw.outputKeys[sender] = key;
          ctx.emit(sender, { registered: key });
        } else {
          const draft = isolated ? structuredClone(appState) : appState;
          await app.onPublic(draft, kind, hexToBytes(body), ctx);
          if (!inPlace) assertPlainJson(draft); // the state must stay plain JSON data (sealable); throws TypeError otherwise
          next = draft;
        }
      } else {
        let plain: Uint8Array;
        try {
          // The AAD names the session the request was appended under, as proven through the accumulator (no fallback:
          // any other value would be a host choice). Whether it opens is then a function of proven bytes and of this
          // key material, which the state is bound to (keyId): a request sealed to another lineage's key fails here,
          // the same way in every instance that can continue this state.
          plain = await hpkeOpen(keys.hpke.privateKey, env.enc, HPKE_INFO.request, requestAadOf(r.sessionId, sender), env.ciphertext);
        } catch (e) {
          throw new EnclaveError('ENCLAVE_DECRYPT', `Request ${r.seq} could not be decrypted: encrypt it to the active session key with this chain, contract, session and sender as additional data.`, { cause: e });
        }
        const draft = isolated ? structuredClone(appState) : appState;
        await app.onPrivate(draft, plain, ctx);
        if (!inPlace) assertPlainJson(draft);
        next = draft;
      }
      outs = emits;
      outPubs = pubs;
    } catch (e) {
      if (inPlace && !isGeodeError(e)) {
        // The shared working copy may hold a partial change: refuse the batch; the enclave state is untouched.
        throw new EnclaveError('ENCLAVE_HANDLER_FAILED', `The ${app.name} handler failed on request ${r.seq}: ${e instanceof Error ? e.message : String(e)}. The batch is refused; fix the application.`);
      }
      const error = isGeodeError(e)
        ? { code: e.code, message: e.message }
        : { code: 'ENCLAVE_HANDLER_FAILED', message: `The ${app.name} handler failed on request ${r.seq}: ${e instanceof Error ? e.message : String(e)}` };
      outs = [errorOutput(sender, r.seq, error, fw.outputKeys[sender] ?? null)];
    }
    // The request's framework change (a registered output key) is undone with its app change when it is left out.
    const undoOutputKey = () => {
      if (outputKeysBefore === undefined) delete fw.outputKeys[sender];
      else fw.outputKeys[sender] = outputKeysBefore;
    };
    // Per-request caps (caps.ts rule 1): the request is refused as a whole and changes nothing.
    const over = requestCapExceeded(outs, outPubs);
    if (over) {
      if (!isolated) return { kind: 'refused' };
      next = appState;
      undoOutputKey();
      outs = [errorOutput(sender, r.seq, outputLimitRefusal(r.seq, over), fw.outputKeys[sender] ?? null)];
      outPubs = [];
    }
    // Per-batch cap (caps.ts rule 2): end the batch before this request; the next batch runs it from the same state.
    const bytes = outputsBytes(outs) + publicOutputsBytes(outPubs);
    if (!budget.fits(bytes, outPubs.length)) {
      undoOutputKey(); // the app change needs no undo: the request was isolated (under the per-request caps left)
      break;
    }
    budget.add(bytes, outPubs.length);
    appState = next;
    pending.push(...outs);
    publics.push(...outPubs);
    fw.lastAcc = r.accAfter;
    fw.lastSeq = r.seq;
  }

  if (inPlace) {
    try {
      assertPlainJson(appState);
    } catch (e) {
      throw new EnclaveError('ENCLAVE_HANDLER_FAILED', `The ${app.name} handlers left state that is not plain JSON data (${(e as Error).message}). The batch is refused; fix the application.`);
    }
  }
  return { kind: 'done', fw, appState, pending, publics };
}

function errorOutput(recipient: Address, seq: bigint, error: { code: string; message: string }, key: Hex | null): PendingOutput {
  return { recipient, seq, plaintext: encodeOutputMessage({ seq: seq.toString(), ok: false, error }), key };
}

/** Encrypt every pending output to its recipient's key (HPKE, deterministic ephemeral keys). */
async function sealOutputs<S>(run: { fw: FrameworkState; appState: S; pending: PendingOutput[]; publics: PendingPublic[] }, bc: BatchContext, keys: SessionKeys): Promise<BatchExecution<S>> {
  const { pending } = run;
  const outputs: BatchOutput[] = [];
  for (let i = 0; i < pending.length; i++) {
    const o = pending[i]!;
    let ciphertext: Hex = '0x';
    if (o.key) {
      const keyBytes = hexToBytes(o.key);
      try {
        const aad = hexToBytes(outputAad(bc.chainId, bc.contract, bc.sessionId, o.recipient, o.seq)); // once: HPKE and the ephemeral key
        const { enc, ciphertext: ct } = await hpkeSeal(keyBytes, HPKE_INFO.output, aad, o.plaintext, keys.outputEphemeralIkm(i, aad, keyBytes, o.plaintext));
        ciphertext = concatHex([bytesToHex(enc), bytesToHex(ct)]);
      } catch {
        ciphertext = '0x'; // e.g. a low-order X25519 key: recorded as undeliverable
      }
    }
    outputs.push({ recipient: o.recipient, seq: o.seq, ciphertext });
  }
  const publicOutputs = run.publics.map((p) => ({ seq: p.seq, data: bytesToHex(p.data) }));
  return { state: { framework: run.fw, app: run.appState }, outputs, publicOutputs };
}
