import { bytesToHex, concatHex, hexToBytes, keccak256, type Address, type Hex } from 'viem';
import {
  HPKE_INFO, REGISTER_KEY_KIND, accumulatorStep, assertPlainJson, decodeEnvelope, decodePublicRequest, encodeOutputMessage,
  hpkeOpen, hpkeSeal, isGeodeError, outputAad, requestAad, type BatchOutput,
} from '@geode/protocol';
import type { EnclaveApp, HandlerContext } from './app.ts';
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
 * or ENCLAVE_HANDLER_FAILED for any other exception, ENCLAVE_DECRYPT for an undecryptable private request).
 */

/** One request of the batch, already parsed. */
export interface BatchRequest {
  seq: bigint;
  sender: Address;
  payload: Hex;
  /** activeSessionId when the request was appended; proven with it through the accumulator (protocol accumulatorStep). */
  sessionId: bigint;
}

/** Binding of the batch to its deployment and the committing session (output HPKE AADs). */
export interface BatchContext {
  chainId: bigint;
  contract: Address;
  sessionId: bigint;
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
  state: EnclaveState<S>;
  outputs: BatchOutput[];
}

/**
 * Run `requests` (consecutive, verified) on `base`. Deterministic: equal inputs give equal state and outputs
 * (output ephemeral keys are derived from the sealed app secret, see SessionKeys.outputEphemeralIkm).
 */
export async function executeBatch<S>(app: EnclaveApp<S>, base: EnclaveState<S>, requests: readonly BatchRequest[], keys: SessionKeys, bc: BatchContext): Promise<BatchExecution<S>> {
  const fw: FrameworkState = { lastSeq: base.framework.lastSeq, lastAcc: base.framework.lastAcc, outputKeys: { ...base.framework.outputKeys }, keyId: keys.keyId };
  // See EnclaveApp.validatesBeforeMutating: one working copy per batch, or one per request.
  const inPlace = app.validatesBeforeMutating === true;
  let appState = inPlace ? structuredClone(base.app) : base.app;
  const pending: PendingOutput[] = [];

  for (const r of requests) {
    const sender = r.sender.toLowerCase() as Address;
    const payload = hexToBytes(r.payload);
    const emits: PendingOutput[] = [];
    const ctx: HandlerContext = {
      seq: r.seq,
      sender,
      emit(recipient: Address, message: unknown) {
        const to = String(recipient).toLowerCase() as Address;
        if (!ADDRESS_RE.test(to)) throw new TypeError(`emit: recipient ${String(recipient)} is not a 20-byte 0x address`);
        const plaintext = encodeOutputMessage({ seq: r.seq.toString(), ok: true, message });
        emits.push({ recipient: to, seq: r.seq, plaintext, key: fw.outputKeys[to] ?? null });
      },
      random: (label: string, length: number) => keys.random(r.seq, label, length),
    };
    try {
      const env = decodeEnvelope(payload); // ENVELOPE_INVALID -> error output
      if (env.kind === 'public') {
        const { kind, body } = decodePublicRequest(bytesToHex(env.data));
        if (kind === REGISTER_KEY_KIND) {
          if (!/^0x[0-9a-fA-F]{64}$/.test(body)) throw new EnclaveError('ENCLAVE_BAD_REQUEST', 'geode.register-key body must be abi.encode(bytes32 x25519PublicKey).');
          const key = body.toLowerCase() as Hex;
          fw.outputKeys[sender] = key;
          ctx.emit(sender, { registered: key });
        } else {
          const draft = inPlace ? appState : structuredClone(appState);
          app.onPublic(draft, kind, hexToBytes(body), ctx);
          if (!inPlace) assertPlainJson(draft); // the state must stay plain JSON data (sealable); throws TypeError otherwise
          appState = draft;
        }
      } else {
        let plain: Uint8Array;
        try {
          // The AAD names the session the request was appended under, as proven through the accumulator (no fallback:
          // any other value would be a host choice). Whether it opens is then a function of proven bytes and of this
          // key material, which the state is bound to (keyId): a request sealed to another lineage's key fails here,
          // the same way in every instance that can continue this state.
          plain = await hpkeOpen(keys.hpke.privateKey, env.enc, HPKE_INFO.request, hexToBytes(requestAad(bc.chainId, bc.contract, r.sessionId, sender)), env.ciphertext);
        } catch (e) {
          throw new EnclaveError('ENCLAVE_DECRYPT', `Request ${r.seq} could not be decrypted: encrypt it to the active session key with this chain, contract, session and sender as additional data.`, { cause: e });
        }
        const draft = inPlace ? appState : structuredClone(appState);
        app.onPrivate(draft, plain, ctx);
        if (!inPlace) assertPlainJson(draft);
        appState = draft;
      }
      pending.push(...emits);
    } catch (e) {
      if (inPlace && !isGeodeError(e)) {
        // The shared working copy may hold a partial change: refuse the batch; the enclave state is untouched.
        throw new EnclaveError('ENCLAVE_HANDLER_FAILED', `The ${app.name} handler failed on request ${r.seq}: ${e instanceof Error ? e.message : String(e)}. The batch is refused; fix the application.`);
      }
      const error = isGeodeError(e)
        ? { code: e.code, message: e.message }
        : { code: 'ENCLAVE_HANDLER_FAILED', message: `The ${app.name} handler failed on request ${r.seq}: ${e instanceof Error ? e.message : String(e)}` };
      pending.push({ recipient: sender, seq: r.seq, plaintext: encodeOutputMessage({ seq: r.seq.toString(), ok: false, error }), key: fw.outputKeys[sender] ?? null });
    }
    fw.lastAcc = accumulatorStep(fw.lastAcc, r.seq, sender, r.sessionId, keccak256(payload));
    fw.lastSeq = r.seq;
  }

  if (inPlace) {
    try {
      assertPlainJson(appState);
    } catch (e) {
      throw new EnclaveError('ENCLAVE_HANDLER_FAILED', `The ${app.name} handlers left state that is not plain JSON data (${(e as Error).message}). The batch is refused; fix the application.`);
    }
  }

  const outputs: BatchOutput[] = [];
  for (let i = 0; i < pending.length; i++) {
    const o = pending[i]!;
    let ciphertext: Hex = '0x';
    if (o.key) {
      const keyBytes = hexToBytes(o.key);
      try {
        const aad = outputAad(bc.chainId, bc.contract, bc.sessionId, o.recipient, o.seq);
        const { enc, ciphertext: ct } = await hpkeSeal(keyBytes, HPKE_INFO.output, hexToBytes(aad), o.plaintext, keys.outputEphemeralIkm(i, aad, keyBytes, o.plaintext));
        ciphertext = concatHex([bytesToHex(enc), bytesToHex(ct)]);
      } catch {
        ciphertext = '0x'; // e.g. a low-order X25519 key: recorded as undeliverable
      }
    }
    outputs.push({ recipient: o.recipient, seq: o.seq, ciphertext });
  }
  return { state: { framework: fw, app: appState }, outputs };
}
