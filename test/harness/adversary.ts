// Test-only: an adversarial host built from the real pieces (EnclaveProcess, the devnet, viem, protocol helpers)
// instead of @geode/host's honest Host. Everything the threat model lets a host do is exposed as a method, so the
// tests in test/adversarial can drive one attack at a time and assert the exact outcome. See docs/security.md.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BaseError, ContractFunctionRevertedError, bytesToHex, fromRlp, getAbiItem, hexToBytes, keccak256, parseEther, parseEventLogs,
  serializeTransaction, toBytes, toRlp, type Abi, type Account, type Address, type Hex, type PublicClient, type Transaction,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import pino from 'pino';
import {
  HPKE_INFO, SLOT, batchProofKeys, blockSigningDigest, decodeOutputs, hpkeOpen, outputAad, sessionProofKeys, slotKey,
  type LogRequestJson, type Params, type Result, type SignedHeaderJson, type StorageProofJson,
} from '@geode/protocol';
import { devAccounts, devnetTransport, startDevnet, type Devnet } from '@geode/devnet';
import { chainAccessFromTransport, EnclaveProcess, Host, type ChainAccess } from '@geode/host';
import { createIdentity, GeodeClient, verifyActiveSession, type Identity, type TrustedSession } from '@geode/client';
import { GeodeCoreAbi } from '@geode/contracts';
import { ComputationsAbi } from '@geode/app-computations/artifacts';
import { startDevStack, type DevStack, type GeodeApp } from '@geode/cli';
import { createComputation, decodeAppOutput, sendRequest, type AppOutput } from '@geode/app-computations/client';
import type { Request } from '@geode/app-computations';

export const quiet = pino({ level: 'silent' });

/** Names of the test participants (deterministic identities, funded at genesis). */
export const NAMES = ['alice', 'bob', 'carol', 'dave', 'eve'] as const;
export type Name = (typeof NAMES)[number];

/** A participant: identity and a GeodeClient bound to the currently trusted session. */
export interface Party { name: Name; identity: Identity; client: GeodeClient; address: Address; session: TrustedSession }

/** Fund list exactly as startDevStack builds it (a forked devnet must reproduce the same genesis). */
function genesisFund(extra: Address[]): { address: Address; balance: bigint }[] {
  return [...devAccounts(8).map((a) => a.address), ...extra].map((address) => ({ address: address as Address, balance: parseEther('1000000') }));
}

/** An enclave refusal: rejects with EnclaveRefusedError whose `code` is `code`. */
export async function expectRefused(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.equal((e as { code?: string }).code, code, `expected enclave refusal ${code}, got ${(e as Error).message}`);
    return true;
  });
}

/** The custom error name viem decodes from a revert, or rethrow. */
export function revertName(e: unknown): string {
  if (e instanceof BaseError) {
    const rev = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (rev) return rev.data?.errorName ?? rev.reason ?? 'reverted';
  }
  throw e;
}

/** Chain-side state of the contract (proven layout slots). */
export interface ContractState { requestCount: bigint; committedSeq: bigint; stateRoot: Hex; activeSessionId: bigint }

/** Everything an attack must leave unchanged. */
export interface Snapshot { chain: ContractState; enclave: { lastSeq: string; stateRoot: Hex }; files: Record<string, string> }

/** sha256 of every file in the enclave data dir (sealed state, keys, platform secret). */
export function dirDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) out[f] = createHash('sha256').update(readFileSync(join(dir, f))).digest('hex');
  return out;
}

/** Copy a data dir aside (the host can always do this: sealed files are just files). Returns the copy's path. */
export function copyDir(src: string): string {
  const dst = mkdtempSync(join(tmpdir(), 'geode-adv-copy-'));
  cpSync(src, dst, { recursive: true, preserveTimestamps: true });
  return dst;
}

/** Replace `dst` with a copy of `src` (or an empty dir when src is null). */
export function restoreDir(dst: string, src: string | null): void {
  rmSync(dst, { recursive: true, force: true });
  mkdirSync(dst, { recursive: true });
  if (src) cpSync(src, dst, { recursive: true, preserveTimestamps: true });
}

/** Sign a header digest with an arbitrary key (65 bytes r||s||v, v 27/28). */
export function signDigest(digest: Hex, key: Hex): Hex {
  const sig = secp256k1.sign(hexToBytes(digest), hexToBytes(key), { prehash: false, format: 'recovered' });
  const out = new Uint8Array(65);
  out.set(sig.subarray(1, 65), 0);
  out[64] = 27 + sig[0]!;
  return bytesToHex(out);
}

/** The malleated twin of a valid signature: (r, n - s, v ^ 1). Recovers the same key; EIP-2 says refuse it. */
export function malleate(sig: Hex): Hex {
  const b = hexToBytes(sig);
  const n = secp256k1.Point.CURVE().n;
  const s = BigInt(bytesToHex(b.subarray(32, 64)));
  const out = new Uint8Array(b);
  out.set(hexToBytes(`0x${(n - s).toString(16).padStart(64, '0')}`), 32);
  out[64] = b[64] === 27 ? 28 : 27;
  return bytesToHex(out);
}

/** Replace field `index` of a header's RLP list (3 = stateRoot) and keep the original signature. */
export function tamperHeaderField(h: SignedHeaderJson, index: number, value: Hex): SignedHeaderJson {
  const f = fromRlp(h.rlp as Hex, 'hex') as Hex[];
  f[index] = value;
  return { rlp: toRlp(f), signature: h.signature };
}

/** Flip one byte in the middle of a trie node. */
export function flipNode(node: Hex): Hex {
  const b = hexToBytes(node);
  b[Math.floor(b.length / 2)]! ^= 0x01;
  return bytesToHex(b);
}

/**
 * The adversarial host. It holds the operator key (it sends handshake and commit transactions), reads the chain
 * through the devnet, and talks to any number of enclave processes.
 */
export class Adversary {
  readonly pub: PublicClient;
  readonly contract: Address;
  readonly sessionLogs: { created: Hex[]; keys: Hex[] } = { created: [], keys: [] };

  constructor(readonly stack: DevStack, readonly parties: Record<Name, Party>) {
    this.pub = stack.chain.publicClient;
    this.contract = stack.deployment.contract;
  }

  get operator() {
    return privateKeyToAccount(devAccounts(8)[1]!.privateKey);
  }

  // ---------------------------------------------------------------- chain reads

  async chainState(blockNumber?: bigint, pub: PublicClient = this.pub): Promise<ContractState> {
    const read = async (slot: bigint) => BigInt((await pub.getStorageAt({ address: this.contract, slot: slotKey(slot), ...(blockNumber !== undefined ? { blockNumber } : {}) })) ?? '0x0');
    const [requestCount, committedSeq, stateRoot, activeSessionId] = await Promise.all([SLOT.requestCount, SLOT.committedSeq, SLOT.stateRoot, SLOT.activeSessionId].map(read));
    return { requestCount: requestCount!, committedSeq: committedSeq!, stateRoot: `0x${stateRoot!.toString(16).padStart(64, '0')}`, activeSessionId: activeSessionId! };
  }

  async head(devnet: Devnet = this.stack.devnet!): Promise<bigint> {
    return (await devnet.getSignedHeader('latest')).number;
  }

  async header(n: bigint | 'latest', devnet: Devnet = this.stack.devnet!): Promise<SignedHeaderJson & { number: bigint }> {
    const h = await devnet.getSignedHeader(n);
    return { rlp: h.rlp, signature: h.signature, number: h.number };
  }

  async proof(keys: Hex[], blockNumber: bigint, pub: PublicClient = this.pub, address: Address = this.contract): Promise<StorageProofJson> {
    const p = await pub.getProof({ address, storageKeys: keys, blockNumber });
    return {
      address: p.address, balance: `0x${p.balance.toString(16)}`, nonce: `0x${p.nonce.toString(16)}`, codeHash: p.codeHash, storageHash: p.storageHash,
      accountProof: p.accountProof, storageProof: p.storageProof.map((s) => ({ key: s.key, value: `0x${s.value.toString(16)}`, proof: s.proof })),
    };
  }

  /** The on-chain request log (RequestSubmitted events), by seq. */
  async log(pub: PublicClient = this.pub): Promise<Map<bigint, LogRequestJson>> {
    const logs = await pub.getLogs({ address: this.contract, event: getAbiItem({ abi: GeodeCoreAbi, name: 'RequestSubmitted' }), fromBlock: 0n, toBlock: 'latest' });
    const m = new Map<bigint, LogRequestJson>();
    for (const l of logs) {
      const a = l.args as { seq: bigint; sender: Address; payload: Hex; sessionId: bigint };
      m.set(a.seq, { seq: a.seq.toString(), sender: a.sender, payload: a.payload, sessionId: a.sessionId.toString() });
    }
    return m;
  }

  /** The honest inputs of batch [from, to] at block `at` (default latest): signed header, proof, requests from the log. */
  async batch(from: bigint, to: bigint, at?: bigint, devnet: Devnet = this.stack.devnet!, pub: PublicClient = this.pub): Promise<Params<'processBatch'> & { block: bigint }> {
    const h = await this.header(at ?? 'latest', devnet);
    const log = await this.log(pub);
    const requests: LogRequestJson[] = [];
    for (let s = from; s <= to; s++) {
      const r = log.get(s);
      assert.ok(r, `request ${s} not in the log`);
      requests.push(r);
    }
    return { header: { rlp: h.rlp, signature: h.signature }, proof: await this.proof(batchProofKeys(to), h.number, pub), requests, block: h.number };
  }

  /** The next honest batch: every pending request, at the latest block. */
  async pending(): Promise<Params<'processBatch'> & { block: bigint; from: bigint; to: bigint }> {
    const s = await this.chainState();
    assert.ok(s.requestCount > s.committedSeq, 'no pending request');
    const b = await this.batch(s.committedSeq + 1n, s.requestCount);
    return { ...b, from: s.committedSeq + 1n, to: s.requestCount };
  }

  process(enclave: EnclaveProcess, input: Params<'processBatch'>): Promise<Result<'processBatch'>> {
    return enclave.call('processBatch', { header: input.header, proof: input.proof, requests: input.requests });
  }

  // ---------------------------------------------------------------- transactions

  /**
   * Send a GeodeCore call as the operator (the deployment's admin), or as `from` (e.g. an outsider running the public
   * enclave bundle). Resolves { ok: true, block } or { ok: false, error: <custom error name> }.
   */
  async send(functionName: string, args: readonly unknown[], opts: { pub?: PublicClient; chain?: ChainAccess; from?: Account } = {}): Promise<{ ok: true; block: bigint; logs: unknown[] } | { ok: false; error: string }> {
    const pub = opts.pub ?? this.pub;
    const chain = opts.chain ?? this.stack.chain;
    const from = opts.from ?? this.operator;
    try {
      await pub.simulateContract({ account: from, address: this.contract, abi: GeodeCoreAbi as Abi, functionName, args } as never);
    } catch (e) {
      return { ok: false, error: revertName(e) };
    }
    const hash = await chain.wallet(from).writeContract({ address: this.contract, abi: GeodeCoreAbi as Abi, functionName, args, gas: 15_000_000n } as never);
    const r = await pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    assert.equal(r.status, 'success');
    return { ok: true, block: r.blockNumber, logs: r.logs };
  }

  commit(c: Result<'processBatch'>, opts: { pub?: PublicClient; chain?: ChainAccess } = {}) {
    return this.send('commitBatch', [BigInt(c.from), BigInt(c.to), c.accTo, c.prevRoot, c.newRoot, c.outputs, c.publicOutputs, c.signature], opts);
  }

  /** Run the handshake by hand; returns every artefact (quotes, nonce, keys) so they can be replayed. */
  async handshake(enclave: EnclaveProcess, from?: Account): Promise<{ sessionId: bigint; nonce: Hex; createQuote: Hex; keysQuote: Hex; encPubKey: Hex; signer: Address }> {
    const r = await this.tryHandshake(enclave, from);
    assert.ok(r.ok, `sessionSetPubKey refused: ${!r.ok && r.error}`);
    return r;
  }

  /**
   * The handshake up to the activating transaction, whose outcome is returned instead of asserted: { ok: true, ... }
   * or { ok: false, error: <custom error name>, sessionId } (the session stays pending; the enclave has sealed keys).
   */
  async tryHandshake(enclave: EnclaveProcess, from?: Account): Promise<({ ok: true } | { ok: false; error: string }) & { sessionId: bigint; nonce: Hex; createQuote: Hex; keysQuote: Hex; encPubKey: Hex; signer: Address }> {
    const created = await enclave.call('sessionCreate');
    const c = await this.send('sessionCreate', [created.quote, created.nonce], { from });
    assert.ok(c.ok, `sessionCreate refused: ${!c.ok && c.error}`);
    const ev = parseEventLogs({ abi: GeodeCoreAbi, logs: c.logs as never, eventName: 'SessionCreated' })[0]!;
    const sessionId = (ev.args as { sessionId: bigint }).sessionId;
    const h = await this.header(c.block);
    const keys = await enclave.call('sessionSetPubKey', { sessionId: sessionId.toString(), header: { rlp: h.rlp, signature: h.signature }, proof: await this.proof(sessionProofKeys(sessionId), c.block) });
    const a = await this.send('sessionSetPubKey', [sessionId, keys.quote, keys.encPubKey, keys.signer], { from });
    const outcome = a.ok ? { ok: true as const } : { ok: false as const, error: a.error };
    return { ...outcome, sessionId, nonce: created.nonce as Hex, createQuote: created.quote as Hex, keysQuote: keys.quote as Hex, encPubKey: keys.encPubKey as Hex, signer: keys.signer as Address };
  }

  // ---------------------------------------------------------------- enclaves

  /** A second enclave process on `dataDir` (same bundle, same sim PKI), configured for this deployment. */
  async spawnEnclave(dataDir: string): Promise<EnclaveProcess> {
    const e = new EnclaveProcess({ bundle: this.stack.app.bundle, dataDir, simPki: join(this.stack.dataDir, 'sim-pki.json') });
    e.start();
    await e.call('init', { config: this.stack.deployment.config });
    return e;
  }

  /** Restart an enclave process (SIGKILL, as a crash) and configure it again. */
  async restart(enclave: EnclaveProcess): Promise<void> {
    await enclave.kill();
    enclave.start();
    await enclave.call('init', { config: this.stack.deployment.config });
  }

  /**
   * Kill an enclave (SIGKILL, as a crash), optionally replace its data dir (`restore`: a copy made with copyDir, or
   * null for an empty dir; undefined keeps the latest sealed state), start it again and configure it.
   */
  async restartWith(enclave: EnclaveProcess, dir: string, restore?: string | null): Promise<void> {
    await enclave.kill();
    if (restore !== undefined) restoreDir(dir, restore);
    enclave.start();
    await enclave.call('init', { config: this.stack.deployment.config });
  }

  async snapshot(enclave: EnclaveProcess, dir: string): Promise<Snapshot> {
    const st = await enclave.call('status');
    return { chain: await this.chainState(), enclave: { lastSeq: st.lastSeq, stateRoot: st.stateRoot as Hex }, files: dirDigest(dir) };
  }

  /** Assert nothing changed: contract committedSeq/stateRoot, enclave lastSeq/stateRoot, every sealed file. */
  async assertUnchanged(before: Snapshot, enclave: EnclaveProcess, dir: string): Promise<void> {
    const now = await this.snapshot(enclave, dir);
    assert.equal(now.chain.committedSeq, before.chain.committedSeq, 'contract committedSeq changed');
    assert.equal(now.chain.stateRoot, before.chain.stateRoot, 'contract stateRoot changed');
    assert.deepEqual(now.enclave, before.enclave, 'enclave status changed');
    assert.deepEqual(now.files, before.files, 'sealed files changed');
  }

  // ---------------------------------------------------------------- honest path

  /** Hand control back to an honest Host (a new one over `enclave`) and wait until every request is committed. */
  async honest(enclave: EnclaveProcess = this.stack.enclave): Promise<Host> {
    const host = new Host({ chain: this.stack.chain, operator: this.operator, contract: this.contract, config: this.stack.deployment.config, enclave, fromBlock: this.stack.deployment.fromBlock, logger: quiet });
    await host.start();
    const { requestCount } = await this.chainState();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        host.waitCommitted(requestCount),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`honest host did not commit up to ${requestCount} within 60 s`)), 60_000); }),
      ]);
    } finally {
      clearTimeout(timer);
      await host.stop();
    }
    return host;
  }

  /**
   * The committed history is honest: batches contiguous from 1 to requestCount, each prevRoot the previous
   * newRoot (the first 0), the last newRoot the contract's stateRoot, and every request seq has outputs in
   * exactly one batch (and only inside that batch's range).
   */
  async assertHonestHistory(): Promise<{ from: bigint; to: bigint; newRoot: Hex; outputs: Hex }[]> {
    const logs = await this.pub.getLogs({ address: this.contract, event: getAbiItem({ abi: GeodeCoreAbi, name: 'BatchCommitted' }), fromBlock: 0n, toBlock: 'latest' });
    const batches = logs.map((l) => l.args as { from: bigint; to: bigint; prevRoot: Hex; newRoot: Hex; outputs: Hex });
    const st = await this.chainState();
    let next = 1n;
    let root: Hex = `0x${'00'.repeat(32)}`;
    const seen = new Map<bigint, number>();
    batches.forEach((b, i) => {
      assert.equal(b.from, next, `batch ${i} starts at ${b.from}, expected ${next}`);
      assert.equal(b.prevRoot, root, `batch ${i} prevRoot breaks the root chain`);
      const seqs = new Set(decodeOutputs(b.outputs).map((o) => o.seq));
      for (const s of seqs) {
        assert.ok(s >= b.from && s <= b.to, `output for seq ${s} outside batch [${b.from}, ${b.to}]`);
        seen.set(s, (seen.get(s) ?? 0) + 1);
      }
      next = b.to + 1n;
      root = b.newRoot;
    });
    assert.equal(next - 1n, st.requestCount, 'not every request is committed');
    assert.equal(st.committedSeq, st.requestCount);
    assert.equal(root, st.stateRoot, 'last newRoot differs from the contract stateRoot');
    for (let s = 1n; s <= st.requestCount; s++) assert.equal(seen.get(s), 1, `request ${s} has outputs in ${seen.get(s) ?? 0} batches`);
    return batches;
  }

  // ---------------------------------------------------------------- participants

  /**
   * The outcome of a processed batch as its users see it: newRoot and every output's plaintext (hex), decrypted with
   * the recipient party's output key and the batch's session (protocol outputAad); 'undeliverable' for an empty
   * ciphertext. Two results with equal outcomes differ at most in ciphertext randomness and signature.
   */
  async outcome(r: Result<'processBatch'>): Promise<{ newRoot: Hex; outputs: { recipient: Address; seq: bigint; plaintext: Hex | 'undeliverable' }[] }> {
    const byAddress = new Map(NAMES.map((n) => [this.parties[n].address.toLowerCase(), this.parties[n].identity] as const));
    const outputs = [];
    for (const o of decodeOutputs(r.outputs as Hex)) {
      const id = byAddress.get(o.recipient.toLowerCase());
      assert.ok(id, `output for ${o.recipient}, not a party`);
      if (o.ciphertext === '0x') { outputs.push({ recipient: o.recipient, seq: o.seq, plaintext: 'undeliverable' as const }); continue; }
      const ct = hexToBytes(o.ciphertext);
      const aad = hexToBytes(outputAad(this.stack.chain.chainId, this.contract, BigInt(r.sessionId), o.recipient, o.seq));
      const pt = await hpkeOpen(hexToBytes(id.outputKey.privateKey), ct.subarray(0, 32), HPKE_INFO.output, aad, ct.subarray(32));
      outputs.push({ recipient: o.recipient, seq: o.seq, plaintext: bytesToHex(pt) });
    }
    return { newRoot: r.newRoot as Hex, outputs };
  }

  /** Decrypted app outputs of `who` from committed batches (framework acks dropped), in seq order. */
  async outputs(who: Name, pub?: PublicClient): Promise<AppOutput[]> {
    const p = this.parties[who];
    const client = pub ? new GeodeClient({ ...clientOpts(this.stack, p.identity, p.session), publicClient: pub }) : p.client;
    return (await client.readOutputs(0n)).map(decodeAppOutput).filter((x): x is AppOutput => x !== null);
  }

  /** Re-verify the active session and rebind every party's client to it (after a handshake). */
  async rebindClients(): Promise<void> {
    const session = await trustedSession(this.stack);
    for (const n of NAMES) Object.assign(this.parties[n], { session, client: new GeodeClient(clientOpts(this.stack, this.parties[n].identity, session)) });
  }

  // ---------------------------------------------------------------- forks

  /**
   * A second devnet from the same genesis (same chain id, genesis time and funded accounts, hence the same genesis
   * hash), signed by `blockSignerKey`, on which every transaction of blocks 1..upTo of the real chain is replayed
   * (same senders and nonces, so the same contract addresses and the same request log up to there).
   */
  async fork(opts: { blockSignerKey?: Hex; upTo: bigint }): Promise<{ devnet: Devnet; chain: ChainAccess }> {
    const devnet = await startDevnet({ fund: genesisFund(NAMES.map((n) => this.parties[n].address)), ...(opts.blockSignerKey ? { blockSignerKey: opts.blockSignerKey } : {}) });
    assert.equal(devnet.genesisHash, this.stack.devnet!.genesisHash, 'fork does not share the genesis');
    const chain = chainAccessFromTransport({ chainId: devnet.chainId, transport: devnetTransport(devnet), onNewHead: (cb) => devnet.onNewHead(cb) });
    for (let n = 1n; n <= opts.upTo; n++) {
      const b = await this.pub.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of b.transactions as Transaction[]) await replayTx(devnet, tx);
    }
    return { devnet, chain };
  }
}

/** Re-send a mined transaction's exact signed bytes to another chain. */
async function replayTx(devnet: Devnet, tx: Transaction): Promise<void> {
  const t = tx as Transaction & { type: 'eip1559' };
  const raw = serializeTransaction(
    { type: 'eip1559', chainId: t.chainId!, nonce: t.nonce, to: t.to ?? undefined, value: t.value, data: t.input, gas: t.gas, maxFeePerGas: t.maxFeePerGas, maxPriorityFeePerGas: t.maxPriorityFeePerGas, accessList: t.accessList },
    { r: t.r, s: t.s, yParity: t.yParity },
  );
  await devnet.request({ method: 'eth_sendRawTransaction', params: [raw] });
}

function clientOpts(stack: DevStack, identity: Identity, session: TrustedSession) {
  return { publicClient: stack.chain.publicClient, wallet: stack.chain.wallet, chainId: stack.chain.chainId, contract: stack.deployment.contract, identity, session };
}

async function trustedSession(stack: DevStack) {
  return verifyActiveSession({
    publicClient: stack.chain.publicClient, chainId: stack.chain.chainId, contract: stack.deployment.contract,
    collateral: stack.pki.collateral() as never, rootCaDer: stack.pki.rootCaDer, policy: stack.policy, now: Math.floor(Date.now() / 1000),
  });
}

/**
 * Start a dev stack (devnet, contracts, enclave, honest host, handshake done), register every party's output key,
 * then stop the honest host: from here on the test is the host. Returns the adversary.
 */
export async function startAdversary(opts: { app?: GeodeApp; recoveryKey?: Hex } = {}): Promise<Adversary> {
  const ids = {} as Record<Name, Identity>;
  for (const n of NAMES) ids[n] = await createIdentity(n, toBytes(keccak256(toBytes(`geode-adversarial:${n}`))));
  const stack = await startDevStack({ logger: quiet, fund: NAMES.map((n) => ids[n].address), app: opts.app, recoveryKey: opts.recoveryKey });
  const session = await trustedSession(stack);
  const parties = {} as Record<Name, Party>;
  for (const n of NAMES) parties[n] = { name: n, identity: ids[n], address: ids[n].address, session, client: new GeodeClient(clientOpts(stack, ids[n], session)) };
  const adv = new Adversary(stack, parties);
  for (const n of NAMES) await parties[n].client.registerOutputKey();
  await stack.host.waitCommitted(BigInt(NAMES.length));
  await stack.host.stop();
  return adv;
}

/** Create an average computation (public request, from alice). */
export async function createAverage(adv: Adversary, name: string, participants: Name[], quorum: number): Promise<bigint> {
  const r = await createComputation(adv.parties.alice.client, { name, type: 'average', participants: participants.map((p) => adv.parties[p].address), quorum });
  return r.seq;
}

/** Encrypt and submit a private request from `who`; returns its seq. */
export async function submit(adv: Adversary, who: Name, req: Request): Promise<bigint> {
  return (await sendRequest(adv.parties[who].client, req)).seq;
}

/** The enclave data dir of the stack's own enclave. */
export const enclaveDir = (adv: Adversary): string => join(adv.stack.dataDir, 'enclave');

/** A devnet-style signature of `h` by `key` (for forged or replayed header signatures). */
export function signHeaderWith(h: SignedHeaderJson & { number: bigint }, key: Hex, chainId = 31337n): Hex {
  return signDigest(blockSigningDigest(chainId, h.number, keccak256(h.rlp as Hex)), key);
}

export { ComputationsAbi };
