/**
 * The enclave-batch process of bench/state.ts: an EnclaveRuntime running the transfers app (apps/transfers) on a
 * fake chain (packages/enclave/test/helpers.ts: signed headers, real EIP-1186 proofs), in this one process, run as
 * an esbuild bundle built like the enclave's: `node state-enclave-child.mjs load <keys> <saveDir>` builds a state,
 * `node state-enclave-child.mjs run <keys> <savedDir> <dir>` measures batches on a copy of it.
 *
 * The state: `keys` balances (the app's collection `balance`, [address] -> decimal wei) written by the store's bulk
 * loader into the runtime's own state database (its lineage store, sealed under its keys), on top of the root of a
 * first, real batch that registered the output keys of the USERS senders. The chain's committed root is then set to
 * the loaded root, as a deployment restored from a state snapshot would have it, and a new runtime is opened on the
 * data directory (a restarted enclave: keys unsealed, store opened at its newest version, cold cache).
 *
 * A measured batch is one processBatch of USERS private requests, one per sender: {op: "transfer", to, amount: "1"}
 * to a recipient drawn from the loaded accounts by seed (the same seeds for every size). The runtime does everything
 * it does for a deployment's batch: light-client header and storage-proof checks, accumulator, HPKE open of each
 * request, the handler (two balance reads, two writes), output encryption (the sender's output is sealed to its
 * registered key; the recipient has none), the store commit (new trie root, one SQLite transaction), signing.
 * Encrypting the requests and mining the fake block are the clients' and the chain's work and are not timed.
 *
 * Protocol (one JSON object per stdout line), as bench/state-child.ts: `{"ready": true, ...}`, then one figures line
 * per `batch <i>` line on stdin, and on `end` the peak RSS.
 *
 * The saved state is the data directory (sealed keys, light-client state, state database) and the fake chain's
 * position (position.json): the runtime's key material is random, so a state is reused by copying it and rebuilding
 * the chain to the same position (session 1 active, the registration requests replayed, the same head, the loaded
 * root committed). bench/state.ts keeps it under BENCH_STATE_REUSE=<dir> as enclave-<keys>-<requests>/.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { hexToBytes, keccak256, toBytes, toHex, type Address, type Hex } from 'viem';
import { transfersApp } from '../apps/transfers/src/enclave/app.ts';
import { EnclaveRuntime, KEYS_FILE, SealedStore, SessionKeys, sealingKeyFor } from '../packages/enclave/src/index.ts';
import { deserializeKeyMaterial } from '../packages/enclave/src/keys.ts';
import { openLineageStore } from '../packages/enclave/src/lineage.ts';
import { PROGRESS_EVERY, progress } from './state-progress.ts';
import { FakeChain, User, batchParams, fakePlatform, setup, testConfig } from '../packages/enclave/test/helpers.ts';

/** Requests per batch = senders (one transfer each). */
const USERS = Number(process.env.BENCH_STATE_REQUESTS ?? 100);
/** A sender's balance: enough for every transfer of the run. */
const SENDER_BALANCE = 10n ** 30n;

/** Figures of one batch: processBatch wall and CPU ms (all threads of the process, HPKE workers included). */
export interface EnclaveBatchFigures { batch: number; wallMs: number; cpuMs: number }

/**
 * Address of loaded account i (not a sender): i as 4 big-endian bytes, then the last 16 bytes of keccak256("acct-<i>").
 * Addresses in the order of i are in key order, so the bulk loader's chunks (sorted within each chunk only) fill the
 * trie left to right; random addresses would make every chunk touch the whole trie (a million-key load of many
 * CPU-minutes more). The trie is as deep either way: its upper levels branch on i's nibbles instead of random ones.
 */
const account = (i: number): Address => `0x${i.toString(16).padStart(8, '0')}${keccak256(toHex(`acct-${i}`)).slice(34)}` as Address;

interface Position { number: string; head: Hex; root: Hex; loadMs: number; loadCpuMs: number }

const say = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

/**
 * The runtime's lineage store, opened the way the runtime opens it: its keys unsealed from `dataDir` under the
 * platform sealing key of `configHash` (0x bytes32, as the runtime's init returned it).
 */
async function lineageStore(dataDir: string, configHash: Hex) {
  const hash = hexToBytes(configHash);
  const raw = new SealedStore(dataDir, sealingKeyFor(fakePlatform, hash)).read(KEYS_FILE);
  if (!raw) throw new Error(`no ${KEYS_FILE} in ${dataDir}`);
  const keys = await SessionKeys.fromMaterial(deserializeKeyMaterial(raw));
  return openLineageStore(dataDir, keys, fakePlatform.measurement, hash);
}

/** Build the state in `dataDir`: handshake, the senders' key registrations (one real batch), then the bulk load. */
async function build(keys: number, dataDir: string, users: User[]): Promise<{ chain: FakeChain; root: Hex; loadMs: number; loadCpuMs: number }> {
  const { chain, rt } = await setup(transfersApp, dataDir);
  for (const u of users) chain.submit(u.address, u.registerPayload());
  const { params } = await batchParams(chain, 1, users.length);
  const r = (await rt.handle('processBatch', params)) as { newRoot: Hex };
  // init again with the same config only returns what the first one did: the runtime's own config hash.
  const { configHash } = (await rt.handle('init', { config: testConfig() })) as { configHash: Hex };
  rt.close();
  const store = await lineageStore(dataDir, configHash);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await store.checkout(r.newRoot);
  const others = keys - users.length;
  function* balances(): Generator<readonly [readonly string[], unknown]> {
    for (const u of users) yield [['transfers', 'balance', u.address], SENDER_BALANCE.toString()];
    // Distinct values: equal leaves would share trie nodes (content addressing) and make the stored trie tiny.
    for (let i = 0; i < others; i++) {
      if (i > 0 && i % PROGRESS_EVERY === 0) progress(i, others, t0);
      yield [['transfers', 'balance', account(i)], (1_000_000 + i).toString()];
    }
  }
  const root = await store.bulkLoad(balances(), 2000);
  const c = process.cpuUsage(c0);
  const loadMs = performance.now() - t0;
  store.close();
  return { chain, root, loadMs, loadCpuMs: (c.user + c.system) / 1000 };
}

/** The fake chain at the position a reused data directory was saved at. */
function rebuildChain(pos: Position, users: User[]): FakeChain {
  const chain = new FakeChain();
  chain.openSession(1n, keccak256(toHex('reused session')));
  chain.activate(1n);
  for (const u of users) chain.submit(u.address, u.registerPayload()); // the same payloads: the same accumulator
  chain.number = BigInt(pos.number);
  chain.head = pos.head;
  return chain;
}

/**
 * `load <keys> <saveDir>`: build the state (build()) and save the data directory and the chain's position in
 * `saveDir` (data/, position.json), then exit. A process of its own, so that the measuring process's peak RSS is that
 * of a runtime processing batches, not of the loader.
 */
async function load(keys: number, saveDir: string): Promise<void> {
  if (!(keys > USERS)) throw new Error(`a state needs more than the ${USERS} senders' keys, not ${keys}`);
  const users = await senders();
  const dataDir = join(saveDir, 'data');
  const { chain, root, loadMs, loadCpuMs } = await build(keys, dataDir, users);
  writeFileSync(join(saveDir, 'position.json'), JSON.stringify({ number: chain.number.toString(), head: chain.head, root, loadMs, loadCpuMs } satisfies Position));
  say({ loaded: true, keys, root, loadMs, loadCpuMs, peakRssMiB: process.resourceUsage().maxRSS / 1024 });
}

const senders = (): Promise<User[]> => Promise.all(Array.from({ length: USERS }, (_, i) => User.make(`bench-state-${i}`)));

/**
 * `run <keys> <savedDir> <dir>`: copy the saved data directory into `dir`, rebuild the chain at the saved position,
 * open a runtime on the copy and run one batch per `batch <i>` line (the protocol in the header).
 */
async function run(keys: number, savedDir: string, dir: string, reused: boolean): Promise<void> {
  const users = await senders();
  const dataDir = join(dir, 'enclave');
  cpSync(join(savedDir, 'data'), dataDir, { recursive: true });
  const pos = JSON.parse(readFileSync(join(savedDir, 'position.json'), 'utf8')) as Position;
  const chain = rebuildChain(pos, users);
  // The loaded root is the committed state (as after a restore from a snapshot of it).
  chain.commit(BigInt(USERS), pos.root);
  const rt = new EnclaveRuntime(transfersApp, { dataDir, platform: fakePlatform, log: () => {} });
  await rt.handle('init', { config: testConfig() });
  if (rt.stateRoot !== pos.root) throw new Error(`the reopened runtime is at ${rt.stateRoot}, not the loaded root ${pos.root}`);
  const { encPubKey } = (await rt.handle('status', {})) as { encPubKey: Hex | null };
  if (!encPubKey) throw new Error('the reopened runtime has no session key');
  say({ ready: true, keys, root: pos.root, loadMs: reused ? null : pos.loadMs, loadCpuMs: reused ? null : pos.loadCpuMs, reused, rssAfterLoadMiB: process.memoryUsage.rss() / 2 ** 20 });

  let next = USERS + 1;
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.trim().split(' ');
    if (cmd === 'end') break;
    if (cmd !== 'batch') continue;
    const b = Number(arg);
    for (let i = 0; i < USERS; i++) {
      const h = toBytes(keccak256(toBytes(`seed-${b}-${i}`)));
      const to = account(Number(Buffer.from(h.subarray(0, 6)).readUIntBE(0, 6) % (keys - USERS)));
      chain.submit(users[i]!.address, await users[i]!.privatePayload(encPubKey, 1n, { op: 'transfer', to, amount: '1' }));
    }
    const { params } = await batchParams(chain, next, next + USERS - 1);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = (await rt.handle('processBatch', params)) as { newRoot: Hex; to: string };
    const c = process.cpuUsage(c0);
    const wallMs = performance.now() - t0;
    if (BigInt(r.to) !== BigInt(next + USERS - 1)) throw new Error(`batch ${b} covered up to ${r.to}, not all ${USERS} requests`);
    chain.commit(BigInt(r.to), r.newRoot);
    next += USERS;
    say({ batch: b, wallMs, cpuMs: (c.user + c.system) / 1000 } satisfies EnclaveBatchFigures);
  }
  rt.close();
  say({ end: true, peakRssMiB: process.resourceUsage().maxRSS / 1024, rssEndMiB: process.memoryUsage.rss() / 2 ** 20 });
}

const [mode, keysArg, a1, a2] = process.argv.slice(2);
if (mode === 'load') await load(Number(keysArg), a1!);
else if (mode === 'run') await run(Number(keysArg), a1!, a2!, process.env.BENCH_STATE_REUSED === '1');
else throw new Error('usage: state-enclave-child.mjs load <keys> <saveDir> | run <keys> <savedDir> <dir>');
