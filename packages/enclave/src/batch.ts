import { bytesToHex, concatHex, hexToBytes, type Address, type Hex } from 'viem';
import {
  HPKE_INFO, REGISTER_KEY_KIND, decodeEnvelope, decodePublicRequest, encodeOutputMessage,
  isGeodeError, outputAad, requestAad, requestEpochAad, type BatchOutput, type Envelope, type PublicOutput,
} from '@geode/protocol';
import { epochOfEnvelope, rotationOf, type EpochStart } from './epochs.ts';
import type { EnclaveApp, HandlerContext } from './app.ts';
import { BatchOutputBudget, outputLimitRefusal, outputsBytes, publicOutputsBytes, requestCapExceeded } from './caps.ts';
import { EnclaveError } from './errors.ts';
import { eventLoopTurn } from './event-loop.ts';
import { sharedHpkePool, type HpkePool } from './hpke/pool.ts';
import type { OpenJob } from './hpke/jobs.ts';
import type { SessionKeys } from './keys.ts';
import { FRAMEWORK_KEYS, frameworkValue, readOutputKey, type FrameworkState } from './state.ts';
import type { KvStore, StateBatch } from './store/kv.ts';

/**
 * Deterministic execution of a verified batch (docs/enclave.md#execution). Called by the runtime only after the
 * header, proofs, session, state root, sequence numbers and accumulator have all been checked.
 *
 * Isolation: every request runs inside StateBatch.beginRequest / commitRequest / dropRequest. A handler reads and
 * writes `ctx.store` (the app's namespace); on a throw its overlay is dropped together with its emits, and the
 * sender gets an error output { seq, ok: false, error: { code, message } } (code = the GeodeError's code, or
 * ENCLAVE_HANDLER_FAILED for any other exception, ENCLAVE_DECRYPT for an undecryptable private request,
 * ENCLAVE_OUTPUT_LIMIT for outputs over a per-request cap, see caps.ts). No copy of the state is ever made.
 *
 * Exception: a store integrity failure (ENCLAVE_SEAL_CORRUPT and the other STORE_FAULTS: the host's storage did not
 * authenticate) is not the request's outcome but the host's doing: it refuses the whole batch, even when the
 * handler caught it, so tampered storage can never turn into an error output.
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

/** Binding of the batch to its deployment, the committing session (output HPKE AADs) and the verified block. */
export interface BatchContext {
  chainId: bigint;
  contract: Address;
  sessionId: bigint;
  /** The light-client-verified block of the batch's header (HandlerContext.block). */
  block: { number: bigint; timestamp: bigint };
  /** The deployment's admin (attested config): the only sender a rotation request is taken from (epochs.ts). */
  admin?: Address;
}

/** Error codes that mean the host's storage failed to authenticate or to work: they refuse the batch. */
const STORE_FAULTS: ReadonlySet<string> = new Set(['ENCLAVE_SEAL_CORRUPT', 'ENCLAVE_SEAL_IO', 'ENCLAVE_STORE_MISSING_ROOT', 'ENCLAVE_INTERNAL']);

interface PendingOutput {
  recipient: Address;
  seq: bigint;
  plaintext: Uint8Array;
  /** Recipient's registered X25519 key when the output was produced, or null (undeliverable). */
  key: Hex | null;
}

const ADDRESS_RE = /^0x[0-9a-f]{40}$/;

/** Result of executing a batch: the requests it covers, their encrypted outputs (in emission order). */
export interface BatchExecution {
  /** Sequence number of the last request run (the batch's `to`; see the per-batch cap). */
  to: bigint;
  /** acc(to). */
  accTo: Hex;
  outputs: BatchOutput[];
  /** Public outputs (ctx.publish) in publication order (docs/protocol.md#public-outputs). */
  publicOutputs: PublicOutput[];
  /** Set when the batch ends with a rotation request (epochs.ts): the epoch it started and that epoch's key. */
  epoch?: EpochStart;
}

/**
 * Run `requests` (consecutive, verified, starting at base.lastSeq + 1) on `batch` (a StateBatch at the proven root,
 * whose framework state is `base`), leaving in it the writes of every request run plus the framework's lastSeq /
 * lastAcc (and keyId on the first batch). Deterministic: equal inputs give equal writes and outputs (output
 * ephemeral keys are derived from the sealed app secret, see SessionKeys.outputEphemeralIkm).
 *
 * Output caps (caps.ts, docs/protocol.md#caps): a request over a per-request cap gets one ENCLAVE_OUTPUT_LIMIT
 * error output and its writes are dropped; the batch ends before a request whose outputs would overflow the
 * per-batch cap (its writes dropped too), so the result may cover a prefix requests[0..k] (k >= 0): read `to`.
 * Throws the store fault (ENCLAVE_SEAL_CORRUPT, ...) when the store did not authenticate; `batch` is then unusable.
 *
 * `whileSealing` (the runtime's store commit) runs once every write of the batch is in `batch` and before the
 * outputs are collected, while the HPKE pool is still sealing them: the commit and the seals are independent, and
 * run one after the other the worker would wait for the commit or the commit for the seals. Its error is thrown
 * after every seal has settled.
 */
export async function executeBatch(app: EnclaveApp, batch: StateBatch, base: FrameworkState, requests: readonly BatchRequest[], keys: SessionKeys, bc: BatchContext, whileSealing?: () => Promise<void>): Promise<BatchExecution> {
  let fault: unknown = null;
  const store = guarded(batch.namespace(app.name), (e) => { fault ??= e; });
  const read = (k: Uint8Array) => batch.read(k);
  // Registered output keys as this batch sees them (read once per recipient).
  const outputKeys = new Map<Address, Hex | null>();
  const keyOf = async (a: Address): Promise<Hex | null> => {
    let k = outputKeys.get(a);
    if (k === undefined) outputKeys.set(a, (k = await readOutputKey(read, a)));
    return k;
  };
  const publics: PublicOutput[] = [];
  const budget = new BatchOutputBudget();
  // Request AAD bytes per (session, sender, envelope epoch): a batch repeats senders, and the AAD depends on nothing
  // else (requestAad for a 0x01 envelope, requestEpochAad for a 0x03 one).
  const requestAads = new Map<string, Uint8Array>();
  const requestAadOf = (sessionId: bigint, sender: Address, epoch: number | undefined): Uint8Array => {
    const k = `${sessionId}:${sender}:${epoch ?? ''}`;
    let aad = requestAads.get(k);
    if (!aad) {
      aad = hexToBytes(epoch === undefined ? requestAad(bc.chainId, bc.contract, sessionId, sender) : requestEpochAad(bc.chainId, bc.contract, sessionId, sender, epoch));
      requestAads.set(k, aad);
    }
    return aad;
  };
  let to = base.lastSeq;
  let accTo = base.lastAcc;
  // Rotation epoch of the state (docs/protocol.md#rotation); a rotation request is always the batch's last one.
  const epochNow = base.epoch ?? 0;
  let started: EpochStart | undefined;
  // Every private request's decryption starts now, on the HPKE pool's threads (hpke/pool.ts); the in-order loop
  // below takes each result when it reaches that request, and computes it inline when the inputs differ.
  const pool = sharedHpkePool();
  // hpkeOpen's inputs for a private request (the one place they are made: the early start and the loop agree).
  // The AAD names the session the request was appended under, as proven through the accumulator (no fallback:
  // any other value would be a host choice). Whether it opens is then a function of proven bytes and of this
  // key material, which the state is bound to (keyId): a request sealed to another lineage's key fails to open,
  // the same way in every instance that can continue this state.
  // The envelope's epoch (0x03; 0x01 is epoch 0) picks the key: in grace it opens, retired or future it is an
  // error output, a key this instance already deleted refuses the batch (epochs.ts, docs/protocol.md#rotation).
  const openJob = async (r: BatchRequest, sender: Address, env: PrivateEnvelope): Promise<OpenJob> => {
    const epoch = epochOfEnvelope(env, r.seq, epochNow);
    const kp = keys.epochKeyPair(epoch);
    if (!kp) throw keyDeleted(r.seq, epoch, keys.material.epochBase);
    const aad = requestAadOf(r.sessionId, sender, env.epoch === undefined ? undefined : epoch);
    return { privateKey: (await kp).privateKey, enc: env.enc, info: HPKE_INFO.request, aad, ciphertext: env.ciphertext };
  };
  const opening = await startOpens(requests, openJob, pool);
  const sealing: Promise<BatchOutput>[] = [];
  const seal = (o: PendingOutput) => sealing.push(sealOutput(o, sealing.length, bc, keys, pool));

  for (const [position, r] of requests.entries()) {
    // A worker's answer is an event: a loop that never gives the event loop a turn (awaits of settled promises do
    // not) leaves the worker idle once its WINDOW chunks are answered, and the outputs pile up for the drain.
    if (pool.size > 0 && position > 0 && position % YIELD_EVERY === 0) await eventLoopTurn();
    const sender = r.sender.toLowerCase() as Address;
    const emits: { recipient: Address; plaintext: Uint8Array }[] = [];
    const pubs: { data: Uint8Array }[] = [];
    let registered: Hex | null = null;
    const ctx: HandlerContext = {
      seq: r.seq,
      sender,
      block: bc.block,
      store,
      emit(recipient: Address, message: unknown) {
        const to = String(recipient).toLowerCase() as Address;
        if (!ADDRESS_RE.test(to)) throw new TypeError(`emit: recipient ${String(recipient)} is not a 20-byte 0x address`);
        emits.push({ recipient: to, plaintext: encodeOutputMessage({ seq: r.seq.toString(), ok: true, message }) });
      },
      publish(data: Uint8Array | Hex) {
        if (typeof data === 'string') {
          if (!/^0x([0-9a-fA-F]{2})*$/.test(data)) throw new TypeError('publish: data must be bytes or 0x hex of whole bytes');
          pubs.push({ data: hexToBytes(data) });
        } else if (data instanceof Uint8Array) {
          pubs.push({ data: data.slice() }); // a copy: later mutation by the handler changes nothing
        } else {
          throw new TypeError('publish: data must be bytes or 0x hex');
        }
      },
      random: (label: string, length: number) => keys.random(r.seq, label, length),
    };
    let error: { code: string; message: string } | null = null;
    batch.beginRequest();
    try {
      const env = opening[position]?.env ?? decodeEnvelope(r.payloadBytes); // ENVELOPE_INVALID -> error output
      if (env.kind === 'public') {
        const { kind, body } = decodePublicRequest(bytesToHex(env.data)); // ENVELOPE_INVALID(_UTF8) -> error output
        const rotation = rotationOf(kind, body, sender, epochNow, bc.admin); // ENCLAVE_BAD_REQUEST -> error output
        if (rotation !== null) {
          batch.write(FRAMEWORK_KEYS.epoch, frameworkValue.seq(BigInt(rotation)));
          batch.write(FRAMEWORK_KEYS.epochSeq, frameworkValue.seq(r.seq));
          const kp = keys.epochKeyPair(rotation);
          if (!kp) throw new EnclaveError('ENCLAVE_INTERNAL', `Rotation to epoch ${rotation}: its key is not derivable from the held seed.`);
          started = { epoch: rotation, encPubKey: bytesToHex((await kp).publicKey) };
          ctx.emit(sender, { epoch: rotation, encPubKey: started.encPubKey }); // the admin's acknowledgement (every request has an output)
        } else if (kind === REGISTER_KEY_KIND) {
          if (!/^0x[0-9a-fA-F]{64}$/.test(body)) throw new EnclaveError('ENCLAVE_BAD_REQUEST', 'geode.register-key body must be abi.encode(bytes32 x25519PublicKey).');
          registered = body.toLowerCase() as Hex;
          batch.write(FRAMEWORK_KEYS.outputKey(sender), frameworkValue.hex(registered));
          ctx.emit(sender, { registered });
        } else {
          await app.onPublic(kind, hexToBytes(body), ctx);
        }
      } else {
        let plain: Uint8Array;
        try {
          // Started early when its inputs could be made then; otherwise made here, meeting the same failure.
          plain = await pool.now(opening[position]?.plaintext ?? pool.open(await openJob(r, sender, env)));
        } catch (e) {
          if (isGeodeError(e) && (e.code === 'ENCLAVE_EPOCH_RETIRED' || e.code === 'ENCLAVE_EPOCH_UNKNOWN' || e.code === 'ENCLAVE_EPOCH_KEY_DELETED')) throw e;
          throw new EnclaveError('ENCLAVE_DECRYPT', `Request ${r.seq} could not be decrypted: encrypt it to the active session key with this chain, contract, session and sender as additional data.`, { cause: e });
        }
        await app.onPrivate(plain, ctx);
      }
    } catch (e) {
      error = isGeodeError(e)
        ? { code: e.code, message: e.message }
        : { code: 'ENCLAVE_HANDLER_FAILED', message: `The ${app.name} handler failed on request ${r.seq}: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (fault !== null) throw fault; // the host's storage failed, whatever the handler made of it
    // This instance cannot reproduce the request's outcome (it deleted the key): never an output, refuse the batch.
    if (error?.code === 'ENCLAVE_EPOCH_KEY_DELETED') throw keyDeleted(r.seq, 0, keys.material.epochBase, error.message);
    // Per-request caps (caps.ts rule 1): the request is refused as a whole and changes nothing.
    if (error === null) {
      const over = requestCapExceeded(emits, pubs);
      if (over) error = outputLimitRefusal(r.seq, over);
    }
    const outs = error === null ? emits : [{ recipient: sender, plaintext: errorPlaintext(r.seq, error) }];
    const outPubs = error === null ? pubs : []; // a refused request publishes nothing
    if (error !== null) {
      batch.dropRequest();
      registered = null;
    }
    // Per-batch cap (caps.ts rule 2): end the batch before this request; the next batch runs it from the same state.
    const bytes = outputsBytes(outs) + publicOutputsBytes(outPubs);
    if (!budget.fits(bytes, outPubs.length)) {
      if (error === null) batch.dropRequest();
      started = undefined; // a rotation cut off here runs first in the next batch
      break;
    }
    if (error === null) batch.commitRequest();
    if (registered !== null) outputKeys.set(sender, registered);
    budget.add(bytes, outPubs.length);
    for (const p of outPubs) publics.push({ seq: r.seq, data: bytesToHex(p.data) });
    for (const o of outs) seal({ recipient: o.recipient, seq: r.seq, plaintext: o.plaintext, key: await keyOf(o.recipient) });
    to = r.seq;
    accTo = r.accAfter;
    if (error !== null) started = undefined;
    // The commitment carries the new epoch's key (epochCommitmentDigest): the rotation ends the batch.
    if (started) break;
  }

  // The framework's records, outside any request (docs/protocol.md#state-root).
  batch.write(FRAMEWORK_KEYS.lastSeq, frameworkValue.seq(to));
  batch.write(FRAMEWORK_KEYS.lastAcc, frameworkValue.hex(accTo));
  if (base.lastSeq === 0n) batch.write(FRAMEWORK_KEYS.keyId, frameworkValue.hex(keys.keyId));
  if (whileSealing) {
    try {
      await whileSealing();
    } catch (e) {
      await Promise.allSettled(sealing); // sealOutput never rejects; nothing is left running for the next batch
      throw e;
    }
  }
  await pool.drain(); // the main thread seals what the workers have not reached
  return { to, accTo, outputs: await Promise.all(sealing), publicOutputs: publics, ...(started ? { epoch: started } : {}) };
}

/** Requests the in-order loop runs between two turns of the event loop (when the pool has workers to feed). */
const YIELD_EVERY = 16;

/**
 * `kv` with every store fault (STORE_FAULTS) reported to `onFault` before it is rethrown, so that executeBatch can
 * refuse the batch even if the handler swallows the error.
 */
function guarded(kv: KvStore, onFault: (e: unknown) => void): KvStore {
  const check = (e: unknown): never => {
    if (isGeodeError(e) && STORE_FAULTS.has(e.code)) onFault(e);
    throw e;
  };
  return {
    get: (key) => kv.get(key).catch(check),
    has: (key) => kv.has(key).catch(check),
    set: (key, value) => { try { kv.set(key, value); } catch (e) { check(e); } },
    delete: (key) => { try { kv.delete(key); } catch (e) { check(e); } },
    async *entries(prefix, opts) {
      try {
        yield* kv.entries(prefix, opts);
      } catch (e) {
        check(e);
      }
    },
  } as KvStore;
}

/** ENCLAVE_EPOCH_KEY_DELETED for request `seq` (epochs.ts). */
function keyDeleted(seq: bigint, epoch: number, base: number, message?: string): EnclaveError {
  return new EnclaveError('ENCLAVE_EPOCH_KEY_DELETED', message ?? `Request ${seq} is sealed to epoch ${epoch}, whose key this instance deleted (it holds epochs ${base} and later): it cannot re-execute batches before that rotation was committed. Continue from a later committed state, or process this batch on an instance that still holds epoch ${epoch}.`, { details: { seq: seq.toString(), epoch, epochBase: base } });
}

function errorPlaintext(seq: bigint, error: { code: string; message: string }): Uint8Array {
  return encodeOutputMessage({ seq: seq.toString(), ok: false, error });
}

type PrivateEnvelope = Extract<Envelope, { kind: 'private' }>;

/** A private request's decryption started ahead of the in-order loop: its envelope and its result. */
interface StartedOpen {
  env: Envelope;
  /** Rejects with HpkeOpenError; a rejection nobody awaits (the batch ended before the request) is ignored. */
  plaintext: Promise<Uint8Array>;
}

/**
 * Start the decryption of every request that decodes, is private, and whose open inputs `openJob` can make now (the
 * inputs depend only on the request, the batch and the state's epoch, which a batch never changes before its last
 * request). A request failing any step gets no entry; the in-order loop meets the same failure in its own place.
 */
async function startOpens(requests: readonly BatchRequest[], openJob: (r: BatchRequest, sender: Address, env: PrivateEnvelope) => Promise<OpenJob>, pool: HpkePool): Promise<(StartedOpen | undefined)[]> {
  const out: (StartedOpen | undefined)[] = [];
  for (const r of requests) {
    let started: StartedOpen | undefined;
    try {
      const env = decodeEnvelope(r.payloadBytes);
      if (env.kind === 'private') {
        const plaintext = pool.open(await openJob(r, r.sender.toLowerCase() as Address, env));
        plaintext.catch(() => {});
        started = { env, plaintext };
      }
    } catch {
      started = undefined;
    }
    out.push(started);
  }
  return out;
}

/**
 * Encrypt output number `index` of the batch to its recipient's key: HPKE on the pool, with the ephemeral key
 * material derived (outputEphemeralIkm under the session's appSecret, on whichever thread runs the job) so that the
 * bytes are deterministic. '0x' when the recipient has no key or the key cannot be sealed to (e.g. a low-order X25519
 * point): recorded as undeliverable.
 */
async function sealOutput(o: PendingOutput, index: number, bc: BatchContext, keys: SessionKeys, pool: HpkePool): Promise<BatchOutput> {
  let ciphertext: Hex = '0x';
  if (o.key) {
    try {
      const recipientKey = hexToBytes(o.key);
      const aad = hexToBytes(outputAad(bc.chainId, bc.contract, bc.sessionId, o.recipient, o.seq)); // once: HPKE and the ephemeral key
      const sealed = await pool.seal({ recipientKey, info: HPKE_INFO.output, aad, plaintext: o.plaintext, ephemeralIkm: { appSecret: keys.material.appSecret, index } });
      ciphertext = concatHex([bytesToHex(sealed.enc), bytesToHex(sealed.ciphertext)]);
    } catch {
      ciphertext = '0x';
    }
  }
  return { recipient: o.recipient, seq: o.seq, ciphertext };
}
