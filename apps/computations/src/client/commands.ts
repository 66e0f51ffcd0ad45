import type { Command } from 'commander';
import { hexToBytes, type Address, type Hex } from 'viem';
import { decodeUtf8Strict } from '@geode/protocol';
import { COMPUTATION_TYPES, ctypeToName, type Request } from '../index.ts';
import { ComputationsAbi } from '../../generated/artifacts.ts';
import type { Identity } from '@geode/client';
import { CliArgumentError, connect, fail, homeDir, identityStore, reporter, requireFunded, type Reporter } from '@geode/cli/app-kit';
import { createComputation, creationVerdict, decodeAppOutput, sendRequest, type AppOutput } from './api.ts';

/** computationNames(uint256,uint256) with its string[] result read as bytes[] (the two ABI-encode alike). */
const NAMES_AS_BYTES_ABI = [{
  type: 'function', name: 'computationNames', stateMutability: 'view',
  inputs: [{ name: 'offset', type: 'uint256' }, { name: 'limit', type: 'uint256' }], outputs: [{ name: 'out', type: 'bytes[]' }],
}] as const;

/**
 * A name as a person can tell it apart: unchanged if it is only letters, marks, digits, punctuation, symbols and
 * spaces; otherwise JSON-quoted with every other character (U+FEFF, controls, format characters) as \uXXXX.
 */
export function visibleName(name: string): string {
  if (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u.test(name)) return name;
  return `"${[...name].map((ch) => (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch) && ch !== '"' && ch !== '\\' ? ch : [...ch].map((_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''))).join('')}"`;
}

interface Common { home?: string; rpc?: string; json?: boolean; as?: string; timeout?: string }

const common = (c: Command) =>
  c.option('--home <dir>', 'CLI home (default ./.geode)').option('--rpc <url>', 'JSON-RPC URL (default: the running geode dev)').option('--json', 'one JSON line');

function timeoutOf(o: Common): number {
  const t = Number(o.timeout ?? '30');
  if (!Number.isFinite(t) || t <= 0) throw new CliArgumentError(`--timeout must be a positive number of seconds, got "${o.timeout}"`);
  return t;
}

/**
 * Wait until request `seq` is committed and return `client`'s first app output for it (the enclave's verdict), or
 * null when none reached it (e.g. it has no registered output key). Throws CLIENT_* / CLI_* on timeout.
 */
async function verdictOf(conn: Awaited<ReturnType<typeof connect>>, client: ReturnType<Awaited<ReturnType<typeof connect>>['client']>, seq: bigint, timeoutS: number): Promise<AppOutput | null> {
  await conn.waitCommitted(seq, timeoutS);
  const outs = (await client.readOutputs(BigInt(conn.info.fromBlock))).filter((x) => x.seq === seq).map(decodeAppOutput).filter((x): x is AppOutput => x !== null);
  return outs[0] ?? null;
}

/** The CLI command that sends each computations request op (the enclave's hints name ops, the API's words). */
function commandFor(op: string, name: string, as: string): string | undefined {
  const n = /^[A-Za-z0-9._-]+$/.test(name) ? name : JSON.stringify(name);
  if (op === 'result') return `geode computation result ${n} --as ${as}`;
  if (op === 'submit') return `geode computation submit ${n} <value> --as ${as}`;
  if (op === 'submitKey') return `geode computation submit ${n} --key <key> --message <text> --as ${as}`;
  if (op === 'create') return `geode computation create ${n} --type <type> --participants <names> --quorum <n> --as ${as}`;
  return undefined;
}

/**
 * The hints in the enclave's messages: a request in the app's API (`{ op: 'result' }`; group 1 is the op), or the
 * contract call that creates a computation ("through the Computations contract": a public request, `create`).
 */
const API_HINT = /\{ op: '(\w+)'[^}]*\}|through the Computations contract/g;

/**
 * An enclave message with its API hints (`{ op: 'result' }`, `{ op: 'submitKey', key, message }`, "through the
 * Computations contract") replaced by the command that sends that request, e.g. "request the result with
 * `geode computation result avg --as dave`".
 * The enclave's own message stays unchanged in --json (`error.message`); the command is added as `command`.
 */
export function commandsForApiHints(message: string, name: string, as: string): string {
  return message.replace(API_HINT, (hint, op: string | undefined) => {
    const cmd = commandFor(op ?? 'create', name, as);
    if (!cmd) return hint;
    return op === undefined ? `with \`${cmd}\`` : `\`${cmd}\``;
  });
}

/** The first command an enclave message hints at (see commandsForApiHints), or undefined. */
export function nextCommand(message: string, name: string, as: string): string | undefined {
  for (const m of message.matchAll(API_HINT)) {
    const cmd = commandFor(m[1] ?? 'create', name, as);
    if (cmd) return cmd;
  }
  return undefined;
}

/** Send one request as `as`, wait until the enclave's commitment lands, and print the sender's output for it. */
async function requestAndWait(rep: Reporter, o: Common, req: Request): Promise<void> {
  if (!o.as) throw new CliArgumentError('--as <identity> is required');
  const home = homeDir(o.home);
  const store = identityStore(home);
  const identity = store.get(o.as);
  const timeout = timeoutOf(o);
  const conn = await connect(home, { rpc: o.rpc });
  try {
    await requireFunded(conn.chain, identity);
    const client = conn.client(identity);
    rep.progress(`encrypting to session ${conn.session.sessionId} (mr_enclave ${conn.session.measurement.slice(2, 18)}…, ${conn.session.simulated ? 'SIMULATED TEE' : 'hardware TEE'})`);
    const { seq } = await sendRequest(client, req);
    // Every result says which enclave it trusted, and whether that was a simulation.
    const trusted = { mrEnclave: conn.session.measurement.slice(2), simulated: conn.session.simulated, trustedRpc: conn.session.trustedRpc };
    rep.progress(`request ${seq} on-chain; waiting for the enclave`);
    const out = await verdictOf(conn, client, seq, timeout);
    if (!out) {
      rep.say(`request ${seq} processed; no output for ${identity.name}`);
      rep.result({ ok: true, seq: seq.toString(), output: null, attestation: trusted });
      return;
    }
    if (!out.ok) {
      process.exitCode = 1;
      const command = nextCommand(out.error.message, req.computation, identity.name);
      rep.say(`refused by the enclave: ${out.error.code}: ${commandsForApiHints(out.error.message, req.computation, identity.name)}`);
      rep.result({ ok: false, seq: seq.toString(), error: out.error, ...(command ? { command } : {}), attestation: trusted });
      return;
    }
    const r = out.result;
    const show = r.type === 'max' || r.type === 'min' ? { ...r, participant: store.nameOf(r.participant) } : r;
    rep.say(`${req.op} ${req.computation}: ${JSON.stringify(show)}${trusted.simulated ? '  (from a SIMULATED TEE)' : ''}`);
    rep.result({ ok: true, seq: seq.toString(), output: show, attestation: trusted });
  } finally {
    await conn.close();
  }
}

/**
 * Which computations the enclave has told an identity in this home are locked: an ok `result` output (the first
 * result locks an average/max/min computation) or an APP_LOCKED refusal naming it. Returns computation name ->
 * the identity name that saw it. Only outputs addressed to these identities are readable; nothing else is known.
 */
async function lockSightings(conn: Awaited<ReturnType<typeof connect>>, identities: Identity[]): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  for (const identity of identities) {
    const outs = (await conn.client(identity).readOutputs(BigInt(conn.info.fromBlock))).map(decodeAppOutput);
    for (const o of outs) {
      const name = o?.ok ? (o.op === 'result' ? o.computation : undefined) : o?.error.code === 'APP_LOCKED' ? o.computation : undefined;
      if (name !== undefined && !seen.has(name)) seen.set(name, identity.name);
    }
  }
  return seen;
}

/**
 * A computation's lock state as far as this home can know it: `locked: false` only for key matchers (they never
 * lock); `true` with `lockedSeenBy` when an identity here received the result or an APP_LOCKED refusal; else `null`.
 */
export function lockState(type: string, seenBy: string | undefined): { locked: boolean | null; lockedSeenBy?: string } {
  if (type === 'keyMatcher') return { locked: false };
  return seenBy === undefined ? { locked: null } : { locked: true, lockedSeenBy: seenBy };
}

function lockText(l: { locked: boolean | null; lockedSeenBy?: string }): string {
  if (l.locked === false) return 'never locks';
  if (l.locked) return `locked (${l.lockedSeenBy} received its result)`;
  return 'lock state not known here';
}

export function registerComputationCommands(program: Command): void {
  const c = program.command('computation').description('Create computations, submit private values, and get results');
  common(
    c.command('create')
      .argument('<name>', 'unique name, 1-64 bytes')
      .description('Create a computation on-chain (public: name, type, participants, quorum)')
      .requiredOption('--type <type>', `one of ${COMPUTATION_TYPES.join(', ')}`)
      .requiredOption('--participants <names>', 'comma-separated identity names or addresses')
      .requiredOption('--quorum <n>', 'how many participants must submit before a result')
      .requiredOption('--as <identity>', 'creator identity (need not be a participant)')
      .option('--timeout <seconds>', "how long to wait for the enclave's verdict", '30'),
  ).action(async (name: string, o: Common & { type: string; participants: string; quorum: string }) => {
    const rep = reporter(o);
    try {
      if (!(COMPUTATION_TYPES as readonly string[]).includes(o.type)) throw new CliArgumentError(`--type must be one of ${COMPUTATION_TYPES.join(', ')}, got "${o.type}"`);
      const quorum = Number(o.quorum);
      if (!Number.isInteger(quorum) || quorum < 1) throw new CliArgumentError(`--quorum must be a positive integer, got "${o.quorum}"`);
      const home = homeDir(o.home);
      const store = identityStore(home);
      const participants = o.participants.split(',').map((p) => p.trim()).filter(Boolean).map((p) => (/^0x[0-9a-fA-F]{40}$/.test(p) ? p : store.get(p).address) as Address);
      const creator = store.get(o.as!);
      const timeout = timeoutOf(o);
      const conn = await connect(home, { rpc: o.rpc });
      try {
        await requireFunded(conn.chain, creator);
        const client = conn.client(creator);
        const { seq } = await createComputation(client, { name, type: o.type, participants, quorum });
        // On-chain acceptance is not creation: only the enclave's verdict for this request says the computation
        // exists there with these participants (docs/apps.md#names).
        rep.progress(`creation request ${seq} on-chain; waiting for the enclave's verdict`);
        const out = await verdictOf(conn, client, seq, timeout);
        const shown = visibleName(name);
        const v = creationVerdict(name, out);
        if (!v.created) {
          process.exitCode = 1;
          rep.say(`NOT created: ${shown} (request ${seq}): ${v.error.code}: ${v.error.message}`);
          rep.result({ ok: false, name, seq: seq.toString(), error: v.error });
        } else {
          // The participants by the names this home knows them by (an address given as such stays an address).
          const names = participants.map((p) => store.nameOf(p));
          rep.say(`created ${o.type} ${shown} for ${names.join(', ')} (quorum ${quorum}; request ${seq}, accepted by the enclave)`);
          rep.result({ ok: true, name, type: o.type, participants, participantNames: names, quorum, seq: seq.toString() });
        }
      } finally {
        await conn.close();
      }
    } catch (e) {
      fail(rep, e);
    }
  });
  common(
    c.command('submit')
      .argument('<name>', 'computation name')
      .argument('[value]', 'number (average, max, min)')
      .description('Submit an encrypted value (or, for a key matcher, --key and --message)')
      .requiredOption('--as <identity>', 'submitting participant')
      .option('--key <key>', 'key matcher: the key (e.g. a VIN)')
      .option('--message <text>', 'key matcher: the message others with the same key receive')
      .option('--timeout <seconds>', 'how long to wait for the enclave', '30'),
  ).action(async (name: string, value: string | undefined, o: Common & { key?: string; message?: string }) => {
    const rep = reporter(o);
    try {
      let req: Request;
      if (o.key !== undefined) req = { op: 'submitKey', computation: name, key: o.key, message: o.message ?? '' };
      else {
        const v = Number(value);
        if (value === undefined || value.trim() === '' || !Number.isFinite(v)) throw new CliArgumentError(`value must be a finite number, got "${value ?? ''}"`);
        req = { op: 'submit', computation: name, value: v };
      }
      await requestAndWait(rep, o, req);
    } catch (e) {
      fail(rep, e);
    }
  });
  common(
    c.command('result')
      .argument('<name>', 'computation name')
      .description('Ask the enclave for the result (the first request after quorum locks the computation)')
      .requiredOption('--as <identity>', 'participant asking')
      .option('--timeout <seconds>', 'how long to wait for the enclave', '30'),
  ).action(async (name: string, o: Common) => {
    const rep = reporter(o);
    try {
      await requestAndWait(rep, o, { op: 'result', computation: name });
    } catch (e) {
      fail(rep, e);
    }
  });
  common(c.command('list').description('List computations (public, on-chain)')).action(async (o: Common) => {
    const rep = reporter(o);
    try {
      const home = homeDir(o.home);
      const store = identityStore(home);
      const conn = await connect(home, { rpc: o.rpc });
      try {
        const pub = conn.chain.publicClient;
        const n = (await pub.readContract({ address: conn.contract, abi: ComputationsAbi, functionName: 'computationCount' })) as bigint;
        // Names are bytes: read them as `bytes` (viem's `string` decoding would drop a leading U+FEFF) and decode strictly.
        const raw = (await pub.readContract({ address: conn.contract, abi: NAMES_AS_BYTES_ABI, functionName: 'computationNames', args: [0n, n] })) as Hex[];
        const list = [];
        for (const nameBytes of raw) {
          const name = decodeUtf8Strict(hexToBytes(nameBytes), 'A computation name on-chain');
          const x = (await pub.readContract({ address: conn.contract, abi: ComputationsAbi, functionName: 'computation', args: [name] })) as unknown as { ctype: number; participants: Address[]; quorum: bigint; creator: Address };
          list.push({ name, type: ctypeToName(Number(x.ctype)), participants: x.participants.map((p) => store.nameOf(p)), quorum: Number(x.quorum), creator: store.nameOf(x.creator) });
        }
        const seen = await lockSightings(conn, store.list().identities);
        const withLock = list.map((l) => ({ ...l, ...lockState(l.type, seen.get(l.name)) }));
        for (const l of withLock) rep.say(`${visibleName(l.name).padEnd(20)} ${l.type.padEnd(10)} quorum ${l.quorum} of ${l.participants.join(', ')} (by ${l.creator})  ${lockText(l)}`);
        if (list.length === 0) rep.say('No computations yet.');
        else if (withLock.some((l) => l.locked === null)) rep.say(`(lock state is private to the enclave; "not known here" means no identity in ${home} has received that computation's result)`);
        rep.result({ ok: true, computations: withLock });
      } finally {
        await conn.close();
      }
    } catch (e) {
      fail(rep, e);
    }
  });
}
