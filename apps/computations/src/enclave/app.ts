/**
 * The computations enclave app: a re-implementation of R3 Conclave's EventManager sample on Geode
 * (docs/apps.md). Trusted code: imports only its own files, @geode/protocol-level libraries and viem utils.
 *
 * Semantics (see docs/apps.md#computations for the full rules and the choices made where the sample is silent):
 * - A computation is created by the public request `computations.create` (Computations.sol): name,
 *   type (average/max/min/keyMatcher), participants, quorum; the creator need not be a participant.
 * - average/max/min: participants `submit` numbers (a later submission replaces the earlier one);
 *   the first `result` request once `quorum` distinct participants have submitted computes the
 *   result, stores it and LOCKS the computation: every later `result` returns the stored result and
 *   every later `submit` is refused. max/min reveal only the participant's identity.
 * - keyMatcher: participants `submitKey` (key, message); once `quorum` distinct participants hold
 *   the same key, each of them is sent the other participants' messages for that key, and again
 *   after every later submission on that key. Never locks.
 *
 * Determinism: no clock, no Math.random, no Map/Set iteration; state is plain JSON (objects keyed by
 * computation name / participant address / key, written as own properties so that names such as
 * "__proto__" are safe), arrays in a deterministic order.
 */
import type { Address } from 'viem';
import type { EnclaveApp, HandlerContext } from '@geode/enclave';
import {
  AlreadyExistsError, BadRequestError, DoesNotExistError, InvalidValueError, LockedError,
  NotAuthorisedError, QuorumNotReachedError,
} from '../errors.ts';
import {
  CREATE_KIND, COMPUTATION_TYPES, LIMITS, decodeCreateBody, parseJsonBytes, requestHeadSchema,
  resultRequestSchema, submitKeyRequestSchema, submitRequestSchema,
  type AverageResult, type ComputationType, type ExtremeResult, type OkOutput, type OutputOp, type Result,
} from '../messages.ts';

/** A participant's latest numeric submission. `firstSeq`/`lastSeq` are decimal request sequence numbers. */
export interface Submission {
  value: number;
  /** Sequence number of the participant's first submission to this computation (breaks max/min ties). */
  firstSeq: string;
  /** Sequence number of the submission that set `value`. */
  lastSeq: string;
}

/** One participant's message under a key matcher key. */
export interface KeyEntry {
  from: Address;
  message: string;
}

/** One computation, as held in state. */
export interface ComputationRecord {
  name: string;
  type: ComputationType;
  /** Lowercase addresses, in on-chain order. */
  participants: Address[];
  /** Distinct submitters needed (1..participants.length). */
  quorum: number;
  /** On-chain sender of the creation request. */
  creator: Address;
  /** Decimal sequence number of the creation request. */
  createdSeq: string;
  /** average/max/min only: true once a result has been produced. Key matchers never lock. */
  locked: boolean;
  /** Decimal sequence number of the result request that locked the computation, or null. */
  lockedSeq: string | null;
  /** The stored result once locked, else null. */
  result: AverageResult | ExtremeResult | null;
  /** average/max/min: latest submission per participant address. */
  submissions: Record<string, Submission>;
  /** keyMatcher: entries per key, in order of each participant's first submission on that key. */
  keys: Record<string, KeyEntry[]>;
}

/** The app's whole state: computations by name. Plain JSON (canonical JSON is hashed into the state root). */
export interface ComputationsState {
  computations: Record<string, ComputationRecord>;
}

/** Own-property read, so that keys such as "__proto__" or "constructor" never reach Object.prototype. */
function getOwn<T>(o: Record<string, T>, k: string): T | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

/** Own-property write (defineProperty does not invoke the `__proto__` setter). */
function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

const utf8 = new TextEncoder();
const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

function emitOk(ctx: HandlerContext, to: Address, op: OutputOp, computation: string, result: Result): void {
  const out: OkOutput = { seq: ctx.seq.toString(), op, computation, ok: true, result };
  ctx.emit(to, out);
}

/** Mean of `values` (already in deterministic order): left-to-right sum / n; scaled sum if the plain sum overflows. */
export function mean(values: readonly number[]): number {
  const n = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  let m = sum / n;
  if (!Number.isFinite(m)) {
    // The sum of finite doubles overflowed: sum v/n instead (|result| <= max |v|, up to rounding).
    m = 0;
    for (const v of values) m += v / n;
    if (!Number.isFinite(m)) m = m > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
  }
  return m + 0; // normalise -0 to 0 (JSON cannot tell them apart)
}

/**
 * The result of an average/max/min computation over its latest submissions.
 * average: participants sorted by address (ascending lowercase hex), values summed in that order, divided by the count.
 * max/min: the participant with the extreme value; among equal values, the one whose first submission has the lowest seq.
 */
export function computeResult(rec: ComputationRecord): AverageResult | ExtremeResult {
  const entries = Object.keys(rec.submissions).map((p) => [p as Address, rec.submissions[p]!] as const);
  if (rec.type === 'average') {
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return { type: 'average', value: mean(entries.map((e) => e[1].value)), count: entries.length };
  }
  if (rec.type === 'keyMatcher') throw new InvalidValueError('key matcher computations have no single result');
  entries.sort((a, b) => {
    const x = BigInt(a[1].firstSeq), y = BigInt(b[1].firstSeq);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  let best = entries[0]!;
  for (const e of entries.slice(1)) {
    if (rec.type === 'max' ? e[1].value > best[1].value : e[1].value < best[1].value) best = e;
  }
  return { type: rec.type, participant: best[0] };
}

function onCreate(state: ComputationsState, body: Uint8Array, ctx: HandlerContext): void {
  const b = decodeCreateBody(body);
  const nameBytes = utf8.encode(b.name).length;
  if (nameBytes < LIMITS.nameMinBytes || nameBytes > LIMITS.nameMaxBytes) {
    throw new InvalidValueError(`computation name must be ${LIMITS.nameMinBytes}..${LIMITS.nameMaxBytes} UTF-8 bytes; choose a shorter name`, { details: { nameBytes } });
  }
  if (b.ctype < 0 || b.ctype >= COMPUTATION_TYPES.length) {
    throw new InvalidValueError(`unknown computation type ${b.ctype}; use 0 (average), 1 (max), 2 (min) or 3 (keyMatcher)`, { details: { ctype: b.ctype } });
  }
  const n = b.participants.length;
  if (n < LIMITS.participantsMin || n > LIMITS.participantsMax) {
    throw new InvalidValueError(`a computation needs ${LIMITS.participantsMin}..${LIMITS.participantsMax} participants; list two or more distinct addresses`, { details: { participants: n } });
  }
  if (new Set(b.participants).size !== n || b.participants.includes(ZERO_ADDRESS)) {
    throw new InvalidValueError('participants must be distinct non-zero addresses; remove duplicates and the zero address');
  }
  if (b.quorum < 1n || b.quorum > BigInt(n)) {
    throw new InvalidValueError(`quorum must be between 1 and the number of participants (${n})`, { details: { quorum: b.quorum.toString(), participants: n } });
  }
  if (getOwn(state.computations, b.name) !== undefined) {
    throw new AlreadyExistsError(`a computation named "${b.name}" already exists; choose another name`, { details: { computation: b.name } });
  }
  const rec: ComputationRecord = {
    name: b.name,
    type: COMPUTATION_TYPES[b.ctype]!,
    participants: [...b.participants],
    quorum: Number(b.quorum),
    creator: ctx.sender.toLowerCase() as Address,
    createdSeq: ctx.seq.toString(),
    locked: false,
    lockedSeq: null,
    result: null,
    submissions: {},
    keys: {},
  };
  setOwn(state.computations, b.name, rec);
  emitOk(ctx, rec.creator, 'create', rec.name, { type: 'accepted' });
}

function onSubmit(rec: ComputationRecord, json: unknown, sender: Address, ctx: HandlerContext): void {
  if (rec.type === 'keyMatcher') {
    throw new InvalidValueError(`"${rec.name}" is a key matcher computation; send { op: 'submitKey', key, message } instead of 'submit'`, { details: { computation: rec.name } });
  }
  if (rec.locked) {
    throw new LockedError(`"${rec.name}" is locked: its result is fixed and no more submissions are accepted; request the result with { op: 'result' }`, { details: { computation: rec.name } });
  }
  const r = submitRequestSchema.safeParse(json);
  if (!r.success) {
    throw new InvalidValueError("a submission needs a finite JSON number as 'value' and no other fields; resend { op: 'submit', computation, value }", { details: { computation: rec.name } });
  }
  const seq = ctx.seq.toString();
  const prev = getOwn(rec.submissions, sender);
  setOwn(rec.submissions, sender, { value: r.data.value + 0, firstSeq: prev?.firstSeq ?? seq, lastSeq: seq });
  emitOk(ctx, sender, 'submit', rec.name, { type: 'accepted' });
}

function onResult(rec: ComputationRecord, json: unknown, sender: Address, ctx: HandlerContext): void {
  if (rec.type === 'keyMatcher') {
    throw new InvalidValueError(`"${rec.name}" is a key matcher computation: matches are sent to you as they happen, there is no result to request; submit keys with { op: 'submitKey' }`, { details: { computation: rec.name } });
  }
  if (!resultRequestSchema.safeParse(json).success) {
    throw new BadRequestError("a result request is exactly { op: 'result', computation }; remove other fields");
  }
  if (!rec.locked) {
    const submitters = Object.keys(rec.submissions).length;
    if (submitters < rec.quorum) {
      throw new QuorumNotReachedError(`"${rec.name}" needs submissions from ${rec.quorum} distinct participants before a result is available; ask again later`, { details: { computation: rec.name, quorum: rec.quorum } });
    }
    rec.result = computeResult(rec);
    rec.locked = true;
    rec.lockedSeq = ctx.seq.toString();
  }
  emitOk(ctx, sender, 'result', rec.name, rec.result!);
}

function onSubmitKey(rec: ComputationRecord, json: unknown, sender: Address, ctx: HandlerContext): void {
  if (rec.type !== 'keyMatcher') {
    throw new InvalidValueError(`"${rec.name}" is an ${rec.type} computation; send { op: 'submit', value } instead of 'submitKey'`, { details: { computation: rec.name } });
  }
  const r = submitKeyRequestSchema.safeParse(json);
  if (!r.success) {
    throw new InvalidValueError(`a key submission needs 'key' (${LIMITS.keyMinChars}..${LIMITS.keyMaxChars} characters) and 'message' (at most ${LIMITS.messageMaxChars} characters) and no other fields`, { details: { computation: rec.name } });
  }
  const { key, message } = r.data;
  const bucket = getOwn(rec.keys, key) ?? [];
  const mine = bucket.find((e) => e.from === sender);
  if (mine) mine.message = message;
  else bucket.push({ from: sender, message });
  setOwn(rec.keys, key, bucket);
  emitOk(ctx, sender, 'submitKey', rec.name, { type: 'accepted' });
  if (bucket.length >= rec.quorum) {
    for (const e of bucket) {
      const messages = bucket.filter((o) => o.from !== e.from).map((o) => ({ from: o.from, message: o.message }));
      emitOk(ctx, e.from, 'submitKey', rec.name, { type: 'match', key, messages });
    }
  }
}

/** The computations app, run by the Geode enclave runtime (see main.ts). */
export const computationsApp: EnclaveApp<ComputationsState> = {
  name: 'computations',
  // Every handler validates fully before its first write (test/harness.ts checks that a refusal leaves the state
  // unchanged), so the runtime can skip its per-request copy of the state.
  validatesBeforeMutating: true,

  initialState(): ComputationsState {
    return { computations: {} };
  },

  onPublic(state, kind, body, ctx) {
    if (kind !== CREATE_KIND) {
      throw new BadRequestError(`unknown public request kind "${kind}"; the computations app only handles "${CREATE_KIND}" from Computations.sol`, { details: { kind } });
    }
    onCreate(state, body, ctx);
  },

  onPrivate(state, request, ctx) {
    const json = parseJsonBytes(request);
    const head = requestHeadSchema.safeParse(json);
    if (!head.success) {
      throw new BadRequestError("a request needs 'op' ('submit', 'result' or 'submitKey') and 'computation' (1..64 UTF-8 bytes); encode it with encodeRequest()");
    }
    const { op, computation } = head.data;
    const rec = getOwn(state.computations, computation);
    if (rec === undefined) {
      throw new DoesNotExistError(`no computation named "${computation}"; check the name, or create it through the Computations contract`, { details: { computation } });
    }
    const sender = ctx.sender.toLowerCase() as Address;
    if (!rec.participants.includes(sender)) {
      throw new NotAuthorisedError(`${sender} is not a participant of "${computation}"; only its participants may submit or read results`, { details: { computation, sender } });
    }
    if (op === 'submit') onSubmit(rec, json, sender, ctx);
    else if (op === 'result') onResult(rec, json, sender, ctx);
    else onSubmitKey(rec, json, sender, ctx);
  },
};
