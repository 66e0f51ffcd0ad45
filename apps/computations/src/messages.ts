/**
 * Wire formats of the computations app, shared by the enclave and clients. Pure: no I/O.
 *
 * - Public request (on-chain, plaintext): the Computations contract appends
 *   `0x02 || abi.encode(string kind, bytes body)` with kind {@link CREATE_KIND} and
 *   `body = abi.encode(string name, uint8 ctype, address[] participants, uint256 quorum)`.
 * - Private requests (HPKE-encrypted to the enclave by @geode/client): UTF-8 JSON of {@link Request}.
 * - Outputs (HPKE-encrypted by the enclave to each recipient): UTF-8 JSON of {@link Output}.
 *
 * Encodings: addresses are 0x-prefixed lowercase hex; `seq` is a decimal string (it can exceed 2^53);
 * values are JSON numbers (IEEE-754 doubles, finite). See docs/apps.md.
 */
import { z } from 'zod';
import { decodeAbiParameters, encodeAbiParameters, bytesToHex, hexToBytes, type Address } from 'viem';
import { canonicalJson, decodeUtf8Strict, encodeUtf8Strict, isWellFormedString } from '@geode/protocol';
import { BadOutputError, BadRequestError, InvalidValueError } from './errors.ts';

/** Kind string of the public creation request emitted by Computations.sol. */
export const CREATE_KIND = 'computations.create';

/** Computation types, indexed by their on-chain `uint8 ctype` (0 average, 1 max, 2 min, 3 key matcher). */
export const COMPUTATION_TYPES = ['average', 'max', 'min', 'keyMatcher'] as const;
/** Name of a computation type. */
export type ComputationType = (typeof COMPUTATION_TYPES)[number];

/** On-chain `ctype` number -> name. Throws InvalidValueError (APP_INVALID_VALUE) for anything but 0..3. */
export function ctypeToName(ctype: number): ComputationType {
  const t = Number.isInteger(ctype) ? COMPUTATION_TYPES[ctype] : undefined;
  if (t === undefined) throw new InvalidValueError(`unknown computation type ${ctype}; use 0 (average), 1 (max), 2 (min) or 3 (keyMatcher)`, { details: { ctype } });
  return t;
}

/** Name -> on-chain `ctype` number. Throws InvalidValueError (APP_INVALID_VALUE) for an unknown name. */
export function ctypeFromName(name: string): number {
  const i = (COMPUTATION_TYPES as readonly string[]).indexOf(name);
  if (i < 0) throw new InvalidValueError(`unknown computation type "${name}"; use one of ${COMPUTATION_TYPES.join(', ')}`, { details: { name } });
  return i;
}

/** Limits shared with Computations.sol. */
export const LIMITS = {
  /** Computation name length in UTF-8 bytes. */
  nameMinBytes: 1,
  nameMaxBytes: 64,
  /** Participants per computation (distinct, non-zero). */
  participantsMin: 2,
  participantsMax: 256,
  /** Key matcher key length in UTF-16 code units (JS string length). */
  keyMinChars: 1,
  keyMaxChars: 256,
  /** Key matcher message length in UTF-16 code units. */
  messageMaxChars: 1024,
} as const;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Lowercase 0x-prefixed 20-byte address. */
export const addressSchema = z.string().regex(/^0x[0-9a-f]{40}$/, 'expected a lowercase 0x-prefixed 20-byte address').transform((s) => s as Address);
/**
 * Computation name: 1..64 UTF-8 bytes, well-formed (no lone surrogate, which has no UTF-8 form). Names are bytes
 * (docs/protocol.md#strings): "\uFEFFpoll" and "poll" are two names, on-chain and in the enclave.
 */
export const nameSchema = z.string().refine((s) => {
  if (!isWellFormedString(s)) return false;
  const n = utf8.encode(s).length;
  return n >= LIMITS.nameMinBytes && n <= LIMITS.nameMaxBytes;
}, `computation name must be ${LIMITS.nameMinBytes}..${LIMITS.nameMaxBytes} bytes of UTF-8 text`);
const seqSchema = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'expected a decimal sequence number');

/** Request ops. */
export const REQUEST_OPS = ['submit', 'result', 'submitKey'] as const;
/** Output ops: the request ops plus `create` (the public creation request). */
export const OUTPUT_OPS = ['create', ...REQUEST_OPS] as const;

/** `{ op: 'submit', computation, value }`: submit (or replace) a number to an average/max/min computation. */
export const submitRequestSchema = z.strictObject({
  op: z.literal('submit'),
  computation: nameSchema,
  value: z.number().refine(Number.isFinite, 'value must be a finite number'),
});
/** `{ op: 'result', computation }`: ask for the result of an average/max/min computation (locks it on the first success). */
export const resultRequestSchema = z.strictObject({
  op: z.literal('result'),
  computation: nameSchema,
});
/** `{ op: 'submitKey', computation, key, message }`: submit (or replace) a message under a key of a key matcher computation. */
export const submitKeyRequestSchema = z.strictObject({
  op: z.literal('submitKey'),
  computation: nameSchema,
  key: z.string().min(LIMITS.keyMinChars).max(LIMITS.keyMaxChars),
  message: z.string().max(LIMITS.messageMaxChars),
});
/** Any private request. */
export const requestSchema = z.discriminatedUnion('op', [submitRequestSchema, resultRequestSchema, submitKeyRequestSchema]);

/** A `submit` request. */
export type SubmitRequest = z.infer<typeof submitRequestSchema>;
/** A `result` request. */
export type ResultRequest = z.infer<typeof resultRequestSchema>;
/** A `submitKey` request. */
export type SubmitKeyRequest = z.infer<typeof submitKeyRequestSchema>;
/** A private request, as sent (encrypted) by a participant. */
export type Request = z.infer<typeof requestSchema>;
/** A request op. */
export type RequestOp = Request['op'];
/** An output op. */
export type OutputOp = (typeof OUTPUT_OPS)[number];

/**
 * The part of a request the enclave reads first (op and computation name), so that it can answer
 * APP_DOES_NOT_EXIST / APP_NOT_AUTHORISED / APP_LOCKED before judging op-specific fields.
 * Extra fields pass through here; the op's strict schema judges them later.
 */
export const requestHeadSchema = z.object({ op: z.enum(REQUEST_OPS), computation: nameSchema });
/** The head of a request: op and computation name. */
export type RequestHead = z.infer<typeof requestHeadSchema>;

/** Average result: the mean of every submitter's latest value, and how many submitters it covers. */
export const averageResultSchema = z.strictObject({ type: z.literal('average'), value: z.number(), count: z.number().int().positive() });
/** Max/min result: the identity of the participant holding the extreme value. Never the value. */
export const extremeResultSchema = z.strictObject({ type: z.enum(['max', 'min']), participant: addressSchema });
/** Key matcher notification: the other matched participants' messages for `key`. */
export const matchResultSchema = z.strictObject({
  type: z.literal('match'),
  key: z.string(),
  messages: z.array(z.strictObject({ from: addressSchema, message: z.string() })),
});
/** Acknowledgement of a submission (or, with op `create`, of a creation). */
export const acceptedResultSchema = z.strictObject({ type: z.literal('accepted') });
/** Any success payload. */
export const resultSchema = z.discriminatedUnion('type', [averageResultSchema, extremeResultSchema, matchResultSchema, acceptedResultSchema]);

/** `{ type: 'average', value, count }`. */
export type AverageResult = z.infer<typeof averageResultSchema>;
/** `{ type: 'max' | 'min', participant }` (lowercase address, never the value). */
export type ExtremeResult = z.infer<typeof extremeResultSchema>;
/** `{ type: 'match', key, messages: [{ from, message }] }`. */
export type MatchResult = z.infer<typeof matchResultSchema>;
/** `{ type: 'accepted' }`. */
export type AcceptedResult = z.infer<typeof acceptedResultSchema>;
/** A result of a computation (what is stored when a computation locks is an AverageResult or ExtremeResult). */
export type Result = z.infer<typeof resultSchema>;

/** Successful output: `{ seq, op, computation, ok: true, result }`. */
export const okOutputSchema = z.object({
  seq: seqSchema,
  op: z.enum(OUTPUT_OPS),
  computation: z.string(),
  ok: z.literal(true),
  result: resultSchema,
});
/**
 * Refusal: `{ seq, op?, computation?, ok: false, error: { code, message } }`. The Geode runtime builds
 * this from the GeodeError a handler throws, so op/computation are usually absent; unknown extra
 * fields (e.g. error details) are ignored.
 */
export const errorOutputSchema = z.object({
  seq: seqSchema,
  op: z.enum(OUTPUT_OPS).optional(),
  computation: z.string().optional(),
  ok: z.literal(false),
  error: z.object({ code: z.string(), message: z.string() }),
});
/** Any output the enclave emits for this app. */
export const outputSchema = z.union([okOutputSchema, errorOutputSchema]);

/** A successful app output. */
export type OkOutput = z.infer<typeof okOutputSchema>;
/** A refusal (usually built by the runtime from a thrown GeodeError). */
export type ErrorOutput = z.infer<typeof errorOutputSchema>;
/** An output, as decrypted by its recipient. */
export type Output = z.infer<typeof outputSchema>;

/**
 * Encode a private request as UTF-8 canonical JSON (keys sorted; docs/apps.md#requests), ready for
 * HPKE encryption by @geode/client. Validates first: throws BadRequestError (APP_BAD_REQUEST) for an
 * unknown op or a bad computation name, InvalidValueError (APP_INVALID_VALUE) for a bad value/key/message.
 */
export function encodeRequest(req: Request): Uint8Array {
  const head = requestHeadSchema.safeParse(req);
  if (!head.success) throw new BadRequestError(`not a computations request: ${z.prettifyError(head.error)}`);
  const parsed = requestSchema.safeParse(req);
  if (!parsed.success) throw new InvalidValueError(`invalid ${head.data.op} request: ${z.prettifyError(parsed.error)}`);
  return utf8.encode(canonicalJson(parsed.data));
}

/**
 * Parse UTF-8 JSON bytes strictly (fatal on invalid UTF-8). Throws BadRequestError (APP_BAD_REQUEST).
 * Used by the enclave before {@link requestHeadSchema}.
 */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8Strict.decode(bytes));
  } catch (e) {
    throw new BadRequestError('the request is not UTF-8 JSON; encode it with encodeRequest() from @geode/app-computations', { cause: e });
  }
}

/**
 * Validate a decoded output value. Accepts both
 * - the runtime's output plaintext (@geode/protocol payloads.ts OutputMessage):
 *   `{ seq, ok: true, message: <app output> }` (the app output is unwrapped; its `seq` must match) or
 *   `{ seq, ok: false, error: { code, message } }` (a refusal), and
 * - a bare app output `{ seq, op, computation, ok, ... }` (what the handler passed to `ctx.emit`).
 * Throws BadOutputError (APP_BAD_OUTPUT) for anything else.
 */
export function toOutput(value: unknown): Output {
  let v = value;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && (v as { ok?: unknown }).ok === true && Object.hasOwn(v, 'message')) {
    const outer = v as { seq?: unknown; message: unknown };
    const inner = okOutputSchema.safeParse(outer.message);
    if (!inner.success) throw new BadOutputError(`not a computations output: ${z.prettifyError(inner.error)}`);
    if (inner.data.seq !== outer.seq) throw new BadOutputError(`output envelope seq ${String(outer.seq)} does not match the app output's seq ${inner.data.seq}`);
    return inner.data;
  }
  const r = outputSchema.safeParse(v);
  if (!r.success) throw new BadOutputError(`not a computations output: ${z.prettifyError(r.error)}`);
  return r.data;
}

/**
 * Decode a decrypted output (UTF-8 JSON bytes, normally the runtime's canonical-JSON OutputMessage
 * envelope) into an {@link Output}; see {@link toOutput} for the accepted forms.
 * Throws BadOutputError (APP_BAD_OUTPUT) if the bytes are not an output of this app.
 */
export function decodeOutput(bytes: Uint8Array): Output {
  let json: unknown;
  try {
    json = JSON.parse(utf8Strict.decode(bytes));
  } catch (e) {
    throw new BadOutputError('output is not UTF-8 JSON; check it was decrypted with the right key', { cause: e });
  }
  return toOutput(json);
}

// The name is read as `bytes` and decoded strictly (an ABI string and bytes encode alike): viem's `string`
// decoding drops a leading U+FEFF and turns ill-formed bytes into U+FFFD, so two on-chain names could meet here.
const CREATE_BODY_ABI = [
  { name: 'name', type: 'bytes' },
  { name: 'ctype', type: 'uint8' },
  { name: 'participants', type: 'address[]' },
  { name: 'quorum', type: 'uint256' },
] as const;

/** The creation request's body, decoded. Not validated beyond ABI types. */
export interface CreateBody {
  name: string;
  /** On-chain type number (see {@link COMPUTATION_TYPES}). */
  ctype: number;
  /** Participants, lowercased, in on-chain order. */
  participants: Address[];
  quorum: bigint;
}

/**
 * Decode `abi.encode(string name, uint8 ctype, address[] participants, uint256 quorum)` (Solidity ABI
 * spec, "Formal Specification of the Encoding"). The name is decoded with the protocol's strict UTF-8 decoder
 * (a leading U+FEFF is kept). Addresses are lowercased.
 * Throws BadRequestError (APP_BAD_REQUEST) when the bytes do not decode, InvalidUtf8Error (ENVELOPE_INVALID_UTF8)
 * when the name is not well-formed UTF-8.
 */
export function decodeCreateBody(body: Uint8Array): CreateBody {
  let decoded: readonly [`0x${string}`, number, readonly Address[], bigint];
  try {
    decoded = decodeAbiParameters(CREATE_BODY_ABI, bytesToHex(body));
  } catch (e) {
    throw new BadRequestError('the computations.create body does not ABI-decode as (string, uint8, address[], uint256); it must come from Computations.sol', { cause: e });
  }
  const [nameBytes, ctype, participants, quorum] = decoded;
  const name = decodeUtf8Strict(hexToBytes(nameBytes), 'The computation name');
  return { name, ctype, participants: participants.map((p) => p.toLowerCase() as Address), quorum };
}

/**
 * Inverse of {@link decodeCreateBody}: the ABI body (as bytes) Computations.sol emits. For tests and tools.
 * Throws InvalidUtf8Error (ENVELOPE_INVALID_UTF8) for a name with a lone surrogate.
 */
export function encodeCreateBody(b: CreateBody): Uint8Array {
  return hexToBytes(encodeAbiParameters(CREATE_BODY_ABI, [bytesToHex(encodeUtf8Strict(b.name, 'The computation name')), b.ctype, b.participants, b.quorum]));
}
