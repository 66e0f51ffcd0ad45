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
 * State (docs/apps.md#computations-state): records in the app's store namespace, so that a request reads and
 * writes only its own data, never the whole computation or the whole state (names are the raw UTF-8 bytes of the
 * decoded name, byte-exact as on-chain):
 *   ["c", name]                        the computation (ComputationRecord, without submissions or key entries)
 *   ["s", name, participant]           average/max/min: the participant's latest Submission (participant: 20 bytes)
 *   ["n", name, keyHash]               keyMatcher: { key, count } of one key (keyHash = keccak256(UTF-8 key), 32
 *                                      bytes: a key may be longer than a store key may be)
 *   ["k", name, keyHash, participant]  keyMatcher: the participant's entry { message, ord } under that key (ord =
 *                                      its position in order of first submission)
 *
 * Determinism: no clock, no Math.random, no Map/Set iteration; the store iterates in key order on every instance,
 * and values are plain JSON built with own properties only.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { hexToBytes, type Address } from 'viem';
import type { EnclaveApp, HandlerContext, KvStore } from '@geode/enclave';
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

/** One computation as stored under ["c", name] (its submissions and key entries are records of their own). */
export interface ComputationMeta {
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
}

/** One computation with all its data (the diagnostic view snapshotState builds). */
export interface ComputationRecord extends ComputationMeta {
  /** average/max/min: latest submission per participant address. */
  submissions: Record<string, Submission>;
  /** keyMatcher: entries per key, in order of each participant's first submission on that key. */
  keys: Record<string, KeyEntry[]>;
}

/** The app's whole state as plain JSON: computations by name (snapshotState; tests and diagnostics). */
export interface ComputationsState {
  computations: Record<string, ComputationRecord>;
}

/** Stored under ["n", name, keyHash]. */
interface KeyCount { key: string; count: number }
/** Stored under ["k", name, keyHash, participant]. */
interface KeySlot { message: string; ord: number }

/** Own-property write (defineProperty does not invoke the `__proto__` setter). */
function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

const utf8 = new TextEncoder();
const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

/** Store keys of the app (see the module doc). Names and keys are well-formed strings, so their UTF-8 is exact. */
const K = {
  computation: (name: string) => ['c', utf8.encode(name)],
  submissions: (name: string) => ['s', utf8.encode(name)],
  submission: (name: string, p: Address) => ['s', utf8.encode(name), hexToBytes(p)],
  keyCount: (name: string, key: string) => ['n', utf8.encode(name), keccak_256(utf8.encode(key))],
  keyEntries: (name: string, key: string) => ['k', utf8.encode(name), keccak_256(utf8.encode(key))],
  keyEntry: (name: string, key: string, p: Address) => ['k', utf8.encode(name), keccak_256(utf8.encode(key)), hexToBytes(p)],
};

const addressOf = (b: unknown): Address => `0x${Buffer.from(b as Uint8Array).toString('hex')}` as Address;

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
 * The result of an average/max/min computation of type `type` over its latest submissions (participant, submission).
 * average: participants sorted by address (ascending lowercase hex), values summed in that order, divided by the count.
 * max/min: the participant with the extreme value; among equal values, the one whose first submission has the lowest seq.
 */
export function computeResult(type: ComputationType, submissions: readonly (readonly [Address, Submission])[]): AverageResult | ExtremeResult {
  const entries = [...submissions];
  if (type === 'average') {
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return { type: 'average', value: mean(entries.map((e) => e[1].value)), count: entries.length };
  }
  if (type === 'keyMatcher') throw new InvalidValueError('key matcher computations have no single result');
  entries.sort((a, b) => {
    const x = BigInt(a[1].firstSeq), y = BigInt(b[1].firstSeq);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  let best = entries[0]!;
  for (const e of entries.slice(1)) {
    if (type === 'max' ? e[1].value > best[1].value : e[1].value < best[1].value) best = e;
  }
  return { type, participant: best[0] };
}

/** The latest submissions of computation `name`, in participant address order. */
async function submissionsOf(store: KvStore, name: string): Promise<[Address, Submission][]> {
  const out: [Address, Submission][] = [];
  for await (const [k, v] of store.entries<Submission>(K.submissions(name))) out.push([addressOf(k[2]), v]);
  return out;
}

async function onCreate(body: Uint8Array, ctx: HandlerContext): Promise<void> {
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
  if (await ctx.store.has(K.computation(b.name))) {
    throw new AlreadyExistsError(`a computation named "${b.name}" already exists; choose another name`, { details: { computation: b.name } });
  }
  const rec: ComputationMeta = {
    name: b.name,
    type: COMPUTATION_TYPES[b.ctype]!,
    participants: [...b.participants],
    quorum: Number(b.quorum),
    creator: ctx.sender.toLowerCase() as Address,
    createdSeq: ctx.seq.toString(),
    locked: false,
    lockedSeq: null,
    result: null,
  };
  ctx.store.set(K.computation(b.name), rec);
  emitOk(ctx, rec.creator, 'create', rec.name, { type: 'accepted' });
}

async function onSubmit(rec: ComputationMeta, json: unknown, sender: Address, ctx: HandlerContext): Promise<void> {
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
  const prev = await ctx.store.get<Submission>(K.submission(rec.name, sender));
  const sub: Submission = { value: r.data.value + 0, firstSeq: prev?.firstSeq ?? seq, lastSeq: seq };
  ctx.store.set(K.submission(rec.name, sender), sub);
  emitOk(ctx, sender, 'submit', rec.name, { type: 'accepted' });
}

async function onResult(rec: ComputationMeta, json: unknown, sender: Address, ctx: HandlerContext): Promise<void> {
  if (rec.type === 'keyMatcher') {
    throw new InvalidValueError(`"${rec.name}" is a key matcher computation: matches are sent to you as they happen, there is no result to request; submit keys with { op: 'submitKey' }`, { details: { computation: rec.name } });
  }
  if (!resultRequestSchema.safeParse(json).success) {
    throw new BadRequestError("a result request is exactly { op: 'result', computation }; remove other fields");
  }
  let result = rec.result;
  if (!rec.locked) {
    const subs = await submissionsOf(ctx.store, rec.name);
    if (subs.length < rec.quorum) {
      throw new QuorumNotReachedError(`"${rec.name}" needs submissions from ${rec.quorum} distinct participants before a result is available; ask again later`, { details: { computation: rec.name, quorum: rec.quorum } });
    }
    result = computeResult(rec.type, subs);
    ctx.store.set(K.computation(rec.name), { ...rec, result, locked: true, lockedSeq: ctx.seq.toString() } satisfies ComputationMeta);
  }
  emitOk(ctx, sender, 'result', rec.name, result!);
}

async function onSubmitKey(rec: ComputationMeta, json: unknown, sender: Address, ctx: HandlerContext): Promise<void> {
  if (rec.type !== 'keyMatcher') {
    throw new InvalidValueError(`"${rec.name}" is an ${rec.type} computation; send { op: 'submit', value } instead of 'submitKey'`, { details: { computation: rec.name } });
  }
  const r = submitKeyRequestSchema.safeParse(json);
  if (!r.success) {
    throw new InvalidValueError(`a key submission needs 'key' (${LIMITS.keyMinChars}..${LIMITS.keyMaxChars} characters) and 'message' (at most ${LIMITS.messageMaxChars} characters) and no other fields`, { details: { computation: rec.name } });
  }
  const { key, message } = r.data;
  const counted = (await ctx.store.get<KeyCount>(K.keyCount(rec.name, key))) ?? { key, count: 0 };
  const mine = await ctx.store.get<KeySlot>(K.keyEntry(rec.name, key, sender));
  let count = counted.count;
  if (mine) {
    ctx.store.set(K.keyEntry(rec.name, key, sender), { message, ord: mine.ord } satisfies KeySlot);
  } else {
    ctx.store.set(K.keyEntry(rec.name, key, sender), { message, ord: count } satisfies KeySlot);
    count += 1;
    ctx.store.set(K.keyCount(rec.name, key), { key, count } satisfies KeyCount);
  }
  emitOk(ctx, sender, 'submitKey', rec.name, { type: 'accepted' });
  if (count >= rec.quorum) {
    const bucket = await keyBucket(ctx.store, rec.name, key);
    for (const e of bucket) {
      const messages = bucket.filter((o) => o.from !== e.from).map((o) => ({ from: o.from, message: o.message }));
      emitOk(ctx, e.from, 'submitKey', rec.name, { type: 'match', key, messages });
    }
  }
}

/** The entries under `key` of key matcher `name`, in order of each participant's first submission on it. */
async function keyBucket(store: KvStore, name: string, key: string): Promise<KeyEntry[]> {
  const slots: [number, KeyEntry][] = [];
  for await (const [k, v] of store.entries<KeySlot>(K.keyEntries(name, key))) slots.push([v.ord, { from: addressOf(k[3]), message: v.message }]);
  return slots.sort((a, b) => a[0] - b[0]).map((s) => s[1]);
}

/**
 * The whole app state as plain JSON (computations by name, with their submissions and key entries), read from
 * `store`. O(state): for tests and diagnostics, never called by a handler.
 */
export async function snapshotState(store: KvStore): Promise<ComputationsState> {
  const computations: Record<string, ComputationRecord> = {};
  for await (const [, rec] of store.entries<ComputationMeta>(['c'])) {
    const submissions: Record<string, Submission> = {};
    for (const [p, s] of await submissionsOf(store, rec.name)) setOwn(submissions, p, s);
    const keys: Record<string, KeyEntry[]> = {};
    for await (const [, kc] of store.entries<KeyCount>(['n', utf8.encode(rec.name)])) setOwn(keys, kc.key, await keyBucket(store, rec.name, kc.key));
    setOwn(computations, rec.name, { ...rec, submissions, keys });
  }
  return { computations };
}

/** The computations app, run by the Geode enclave runtime (see main.ts). */
export const computationsApp: EnclaveApp = {
  name: 'computations',

  async onPublic(kind, body, ctx) {
    if (kind !== CREATE_KIND) {
      throw new BadRequestError(`unknown public request kind "${kind}"; the computations app only handles "${CREATE_KIND}" from Computations.sol`, { details: { kind } });
    }
    await onCreate(body, ctx);
  },

  async onPrivate(request, ctx) {
    const json = parseJsonBytes(request);
    const head = requestHeadSchema.safeParse(json);
    if (!head.success) {
      throw new BadRequestError("a request needs 'op' ('submit', 'result' or 'submitKey') and 'computation' (1..64 UTF-8 bytes); encode it with encodeRequest()");
    }
    const { op, computation } = head.data;
    const rec = await ctx.store.get<ComputationMeta>(K.computation(computation));
    if (rec === undefined) {
      throw new DoesNotExistError(`no computation named "${computation}"; check the name, or create it through the Computations contract`, { details: { computation } });
    }
    const sender = ctx.sender.toLowerCase() as Address;
    if (!rec.participants.includes(sender)) {
      throw new NotAuthorisedError(`${sender} is not a participant of "${computation}"; only its participants may submit or read results`, { details: { computation, sender } });
    }
    if (op === 'submit') await onSubmit(rec, json, sender, ctx);
    else if (op === 'result') await onResult(rec, json, sender, ctx);
    else await onSubmitKey(rec, json, sender, ctx);
  },
};
