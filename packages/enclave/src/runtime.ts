import { randomBytes } from 'node:crypto';
import { bytesToHex, hexToBytes, keccak256, numberToHex, type Address, type Hex } from 'viem';
import {
  ETHEREUM_SYNC_COMMITTEE_SIGNER,
  ROOT_ZERO, SESSION_STATUS, SLOT, accAtKey, accumulatorStep, batchProofKeys, commitmentDigest, configHash, encodeOutputs,
  encodePublicOutputs, methods, outputsHash, publicOutputsHash, sessionCreateReportData, sessionKeysReportData, sessionProofKeys, slotKey,
  type ConfigJson, type GeodeConfig, type Method, type Result,
} from '@geode/protocol';
import type { EnclaveApp } from './app.ts';
import { executeBatch, type BatchRequest } from './batch.ts';
import { EnclaveError, LightClientError } from './errors.ts';
import { SessionKeys, deserializeKeyMaterial, generateKeyMaterial, serializeKeyMaterial, type KeyMaterial } from './keys.ts';
import { verifyStorageProof, type TrustAnchor } from './lightclient/index.ts';
import { devnetGate, ethereumGate, type HeaderGate } from './lightclient/gate.ts';
import { KEYS_FILE, LIGHT_CLIENT_FILE, SealedStore, stateFileName } from './seal.ts';
import { deserializeState, emptyState, serializeState, stateRoot, type EnclaveState } from './state.ts';
import { evidenceBytes, sealingKeyFor, type Platform } from './platform/platform.ts';

/** Options of {@link EnclaveRuntime}. */
export interface RuntimeOptions {
  /** Data directory: sealed files (and, for the simulator, its platform secret). */
  dataDir: string;
  /** The TEE this process runs on: measurement, evidence, the sealing key that protects keys.sealed. */
  platform: Platform;
  /** Diagnostic log line sink (default: stderr). Never receives secrets. */
  log?: (line: string) => void;
}

interface Configured {
  json: ConfigJson;
  config: GeodeConfig;
  hash: Hex;
  anchor: TrustAnchor;
  /** Sealed under the platform (sim) sealing key: holds keys.sealed only. */
  keyStore: SealedStore;
}

type ParsedParams<M extends Method> = NonNullable<ReturnType<(typeof methods)[M]['params']['parse']>>;

const b32 = (v: bigint): Hex => numberToHex(v, { size: 32 });

/**
 * The trusted enclave runtime (docs/enclave.md): config, light-client trust anchor, keys and state, and the
 * transport methods of @geode/protocol `methods` (init, status, sessionCreate, sessionSetPubKey, processBatch).
 *
 * Every method either succeeds completely or throws a GeodeError (EnclaveError / LightClientError / protocol
 * errors) and leaves every field and every sealed file exactly as before. Calls must not overlap (the transport
 * server serialises them).
 */
export class EnclaveRuntime<S> {
  private cfg: Configured | null = null;
  private gate: HeaderGate | null = null;
  private keys: SessionKeys | null = null;
  /** States, sealed under the key material's own sealing key and tagged with its keyId (null until keys exist). */
  private states: SealedStore | null = null;
  private keysError: EnclaveError | null = null;
  private pendingNonce: Hex | null = null;
  private state: EnclaveState<S>;
  private root: Hex = ROOT_ZERO;
  private readonly log: (line: string) => void;

  constructor(private readonly app: EnclaveApp<S>, private readonly opts: RuntimeOptions) {
    this.state = emptyState(app.initialState());
    this.log = opts.log ?? ((l) => process.stderr.write(`enclave: ${l}\n`));
  }

  /** Measurement as 0x hex. */
  get measurement(): Hex {
    return bytesToHex(this.opts.platform.measurement);
  }

  /** Current state root (0x bytes32). */
  get stateRoot(): Hex {
    return this.root;
  }

  /** Current state (read-only view for tests and diagnostics; never mutate). */
  get currentState(): Readonly<EnclaveState<S>> {
    return this.state;
  }

  /**
   * Validate `params` with the protocol schema of `method` and run it. Unknown method or invalid params:
   * ENCLAVE_BAD_MESSAGE (nothing changes). Returns the JSON result.
   */
  async handle(method: string, params: unknown): Promise<unknown> {
    if (!Object.prototype.hasOwnProperty.call(methods, method)) {
      throw new EnclaveError('ENCLAVE_BAD_MESSAGE', `Unknown method ${JSON.stringify(method)}. Known: ${Object.keys(methods).join(', ')}.`);
    }
    const m = method as Method;
    const parsed = methods[m].params.safeParse(params);
    if (!parsed.success) {
      throw new EnclaveError('ENCLAVE_BAD_MESSAGE', `Invalid params for ${m}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`);
    }
    switch (m) {
      case 'init': return await this.init(parsed.data as ParsedParams<'init'>);
      case 'status': return this.status();
      case 'sessionCreate': return this.sessionCreate();
      case 'sessionSetPubKey': return this.sessionSetPubKey(parsed.data as ParsedParams<'sessionSetPubKey'>);
      case 'processBatch': return this.processBatch(parsed.data as ParsedParams<'processBatch'>);
    }
  }

  /**
   * Set the deployment config (once; the same config again is a no-op, another one is ENCLAVE_CONFIG_MISMATCH).
   * Derives the platform sealing key (bound to measurement and config hash), unseals keys.sealed if present (a bad
   * file is logged and reported at sessionSetPubKey), and, with keys, loads the sealed state with the highest lastSeq
   * among those sealed under these keys (states of other key material are ignored: they cannot be continued).
   */
  async init(p: ParsedParams<'init'>): Promise<Result<'init'>> {
    const c = p.config;
    const config: GeodeConfig = {
      chainId: BigInt(c.chainId),
      contract: c.contract.toLowerCase() as Address,
      measurements: c.measurements.map((m) => m.toLowerCase() as Hex),
      attestationVerifier: c.attestationVerifier.toLowerCase() as Address,
      lcSigner: c.lcSigner.toLowerCase() as Address,
      lcGenesisHash: c.lcGenesisHash.toLowerCase() as Hex,
      policyHash: c.policyHash.toLowerCase() as Hex,
      admin: c.admin.toLowerCase() as Address,
    };
    const hash = configHash(config);
    const result = { configHash: hash, measurement: this.measurement, teeType: this.opts.platform.teeType, simulated: this.opts.platform.simulated };
    if (this.cfg) {
      if (this.cfg.hash === hash) return result;
      throw new EnclaveError('ENCLAVE_CONFIG_MISMATCH', 'This enclave process is already configured for another deployment; start a new enclave process (with its own data directory) for it.', { details: { configured: this.cfg.hash, requested: hash } });
    }
    const anchor: TrustAnchor = { chainId: config.chainId, signer: config.lcSigner, genesisHash: config.lcGenesisHash };
    // The light-client kind is fixed by the attested config: Ethereum's sync committee or the devnet's signer.
    if (config.lcSigner !== ETHEREUM_SYNC_COMMITTEE_SIGNER && c.ethereumAnchor) throw new LightClientError('LC_ANCHOR_INVALID', 'The config carries an ethereumAnchor but its lcSigner is not the Ethereum sync-committee sentinel.');
    // Checked before any file is touched; built again below with the sealed store attached.
    if (config.lcSigner === ETHEREUM_SYNC_COMMITTEE_SIGNER) ethereumGate(c.ethereumAnchor, config.lcGenesisHash);
    if (!config.measurements.includes(this.measurement)) {
      this.log(`warning: config does not list this enclave's measurement ${this.measurement}; the contract will refuse its quotes`);
    }
    const keyStore = new SealedStore(this.opts.dataDir, sealingKeyFor(this.opts.platform, hexToBytes(hash)));
    // Keys.
    let keys: SessionKeys | null = null;
    try {
      const raw = keyStore.read(KEYS_FILE);
      if (raw) keys = await SessionKeys.fromMaterial(deserializeKeyMaterial(raw));
    } catch (e) {
      this.keysError = e instanceof EnclaveError ? e : new EnclaveError('ENCLAVE_SEAL_CORRUPT', `Sealed file ${KEYS_FILE} is malformed: ${(e as Error).message}.`, { cause: e });
      this.log(`refusing ${KEYS_FILE}: ${this.keysError.message}`);
    }
    this.cfg = { json: c, config, hash, anchor, keyStore };
    this.gate = config.lcSigner === ETHEREUM_SYNC_COMMITTEE_SIGNER
      ? ethereumGate(c.ethereumAnchor, config.lcGenesisHash, {
        load: () => { const raw = keyStore.read(LIGHT_CLIENT_FILE); return raw ? JSON.parse(Buffer.from(raw).toString('utf8')) : null; },
        save: (j) => keyStore.write(LIGHT_CLIENT_FILE, new TextEncoder().encode(JSON.stringify(j))),
        log: (l) => this.log(l),
      })
      : devnetGate(anchor);
    if (keys) this.useKeys(keys);
    // State: the readable sealed state of these keys with the highest lastSeq (processBatch switches to the proven root).
    let best: EnclaveState<S> | null = null;
    let bestRoot: Hex = ROOT_ZERO;
    for (const r of this.states?.stateRoots() ?? []) {
      try {
        const s = this.readState(r);
        if (!best || s.framework.lastSeq > best.framework.lastSeq) { best = s; bestRoot = r; }
      } catch (e) {
        this.log(`ignoring sealed state ${r}: ${(e as Error).message}`);
      }
    }
    if (best) { this.state = best; this.root = bestRoot; }
    return result;
  }

  /** Adopt `keys`: the state store becomes the one sealed under their state sealing key and tagged with their keyId. */
  private useKeys(keys: SessionKeys): void {
    const c = this.need();
    this.keys = keys;
    this.states = new SealedStore(this.opts.dataDir, keys.stateSealingKey(this.opts.platform.measurement, hexToBytes(c.hash)), hexToBytes(keys.keyId));
  }

  /**
   * Unseal state file `root` (from the store of this enclave's keys) and check that its content hashes to `root` and
   * records this enclave's keyId. Throws ENCLAVE_STALE_STATE (absent), ENCLAVE_KEYS_MISMATCH (another key lineage's
   * state), ENCLAVE_SEAL_CORRUPT (damaged).
   */
  private readState(root: Hex): EnclaveState<S> {
    const name = stateFileName(root);
    const raw = this.states?.read(name) ?? null;
    if (!raw) throw new EnclaveError('ENCLAVE_STALE_STATE', `No sealed state for root ${root}.`, { details: { root } });
    let s: EnclaveState;
    try {
      s = deserializeState(raw);
    } catch (e) {
      throw new EnclaveError('ENCLAVE_SEAL_CORRUPT', `Sealed file ${name} is malformed: ${(e as Error).message}.`, { cause: e, details: { file: name } });
    }
    const actual = stateRoot(s);
    if (actual !== root) throw new EnclaveError('ENCLAVE_SEAL_CORRUPT', `Sealed file ${name} holds a state whose root is ${actual}.`, { details: { file: name, actual } });
    this.assertOwnState(s);
    return s as EnclaveState<S>;
  }

  /** ENCLAVE_KEYS_MISMATCH unless `s` is the empty state or records this enclave's keyId. */
  private assertOwnState(s: EnclaveState): void {
    if (s.framework.lastSeq === 0n) return;
    const ours = this.keys?.keyId ?? null;
    if (s.framework.keyId !== ours) {
      throw new EnclaveError('ENCLAVE_KEYS_MISMATCH', `The state at seq ${s.framework.lastSeq} was produced under key material ${s.framework.keyId}, this enclave holds ${ours}: a state is continued only under the keys that produced it. Restore the keys.sealed that produced it; without it that state is lost.`, { details: { keyId: s.framework.keyId, ours } });
    }
  }

  private need(): Configured {
    if (!this.cfg) throw new EnclaveError('ENCLAVE_NOT_CONFIGURED', 'The enclave has no config yet; send `init` first.');
    return this.cfg;
  }

  /** What the enclave holds. */
  async status(): Promise<Result<'status'>> {
    const keys = this.keys;
    const sid = keys?.material.sessionId ?? null;
    return {
      measurement: this.measurement,
      teeType: this.opts.platform.teeType,
      simulated: this.opts.platform.simulated,
      configured: this.cfg !== null,
      sessionId: sid === null ? null : sid.toString(),
      encPubKey: keys && sid !== null ? keys.encPubKey : null,
      signer: keys && sid !== null ? keys.signer : null,
      lastSeq: this.state.framework.lastSeq.toString(),
      stateRoot: this.root,
      trustedBlock: (this.gate?.trustedNumber() ?? 0n).toString(),
    };
  }

  /**
   * SessionCreate: draw a random 32-byte nonce and quote report_data = sessionCreateReportData(chainId, contract,
   * configHash, nonce) || 32 zero bytes. The nonce replaces any earlier pending one.
   */
  sessionCreate(): Result<'sessionCreate'> {
    const c = this.need();
    const nonce = bytesToHex(randomBytes(32));
    const rd = new Uint8Array(64);
    rd.set(hexToBytes(sessionCreateReportData(c.config.chainId, c.config.contract, c.hash, nonce)), 0);
    const quote = evidenceBytes(this.opts.platform.evidence(rd));
    this.pendingNonce = nonce;
    return { nonce, quote: bytesToHex(quote) };
  }

  /**
   * SessionSetPubKey: verify the header and the proof that sessions[sessionId] holds our pending nonce with status
   * pending; create keys (or reuse the sealed ones), seal them with the session id, and quote
   * sessionKeysReportData(chainId, contract, nonce, encPubKey, signer) || 32 zero bytes.
   */
  async sessionSetPubKey(p: ParsedParams<'sessionSetPubKey'>): Promise<Result<'sessionSetPubKey'>> {
    const c = this.need();
    const nonce = this.pendingNonce;
    if (!nonce) throw new EnclaveError('ENCLAVE_NO_PENDING_SESSION', 'No pending session nonce in this enclave process; call sessionCreate (and register it on-chain) first.');
    const sessionId = BigInt(p.sessionId);
    const gated = this.gate!.verify(p.header, p.beacon);
    const h = gated.header;
    const [nonceKey, statusKey] = sessionProofKeys(sessionId) as [Hex, Hex];
    const vals = await verifyStorageProof(h.stateRoot, p.proof, c.config.contract, [nonceKey, statusKey]);
    if (vals.get(nonceKey.toLowerCase() as Hex) !== BigInt(nonce)) {
      throw new EnclaveError('ENCLAVE_SESSION_MISMATCH', `Session ${sessionId} on-chain does not hold this enclave's pending nonce.`, { details: { sessionId: p.sessionId, block: h.number.toString() } });
    }
    if (vals.get(statusKey.toLowerCase() as Hex) !== SESSION_STATUS.pending) {
      throw new EnclaveError('ENCLAVE_SESSION_MISMATCH', `Session ${sessionId} is not pending on-chain.`, { details: { status: String(vals.get(statusKey.toLowerCase() as Hex)) } });
    }
    const existing = this.keys;
    if (!existing && this.keysError) throw this.keysError;
    const material: KeyMaterial = { ...(existing?.material ?? generateKeyMaterial()), sessionId };
    const keys = await SessionKeys.fromMaterial(material);
    const rd = new Uint8Array(64);
    rd.set(hexToBytes(sessionKeysReportData(c.config.chainId, c.config.contract, nonce, keys.encPubKey, keys.signer)), 0);
    const quote = evidenceBytes(this.opts.platform.evidence(rd));
    c.keyStore.write(KEYS_FILE, serializeKeyMaterial(material));
    this.useKeys(keys);
    this.keysError = null;
    this.pendingNonce = null;
    gated.commit();
    return { encPubKey: keys.encPubKey, signer: keys.signer, quote: bytesToHex(quote) };
  }

  /**
   * Verify and process requests [from, to] (docs/enclave.md#batches). Order of checks: session keys present;
   * consecutive seqs; header (light client); storage proof of batchProofKeys(to); proven activeSessionId == ours
   * (ENCLAVE_SESSION_MISMATCH); proven stateRoot == our root, else the sealed state for the proven root if we have
   * it (ENCLAVE_STALE_STATE); proven committedSeq == lastSeq, from == lastSeq + 1, to <= requestCount
   * (ENCLAVE_SEQ_MISMATCH); accumulator recomputed from lastAcc == proven accAt[to] (ENCLAVE_ACCUMULATOR_MISMATCH).
   * Then executes, signs the commitment, seals the new state atomically, and only then updates memory and replies.
   * The reply's `to` may be below the last request sent: the per-batch output cap ended the batch early
   * (docs/protocol.md#caps); the host commits [from, to] and sends the rest again.
   */
  async processBatch(p: ParsedParams<'processBatch'>): Promise<Result<'processBatch'>> {
    const c = this.need();
    const keys = this.keys;
    const sessionId = keys?.material.sessionId ?? null;
    if (!keys || sessionId === null) throw new EnclaveError('ENCLAVE_NO_SESSION', 'The enclave has no active session keys; run the session handshake first.');
    const requests: Omit<BatchRequest, 'accAfter' | 'payloadBytes'>[] = p.requests.map((r) => ({ seq: BigInt(r.seq), sender: r.sender.toLowerCase() as Address, payload: r.payload.toLowerCase() as Hex, sessionId: BigInt(r.sessionId) }));
    const from = requests[0]!.seq;
    const to = requests[requests.length - 1]!.seq;
    requests.forEach((r, i) => {
      if (r.seq !== from + BigInt(i)) throw new EnclaveError('ENCLAVE_SEQ_MISMATCH', `Batch sequence numbers must be consecutive: position ${i} has ${r.seq}, expected ${from + BigInt(i)}.`, { details: { position: i, seq: r.seq.toString() } });
    });

    const gated = this.gate!.verify(p.header, p.beacon);
    const h = gated.header;
    const keyList = batchProofKeys(to);
    const vals = await verifyStorageProof(h.stateRoot, p.proof, c.config.contract, keyList);
    const get = (k: Hex): bigint => vals.get(k.toLowerCase() as Hex)!;
    const requestCount = get(slotKey(SLOT.requestCount));
    const committedSeq = get(slotKey(SLOT.committedSeq));
    const provenRoot = b32(get(slotKey(SLOT.stateRoot)));
    const activeSessionId = get(slotKey(SLOT.activeSessionId));
    const provenAcc = b32(get(accAtKey(to)));

    if (activeSessionId !== sessionId) {
      throw new EnclaveError('ENCLAVE_SESSION_MISMATCH', `The contract's active session is ${activeSessionId}, this enclave holds session ${sessionId}; run a new session handshake.`, { details: { active: activeSessionId.toString(), ours: sessionId.toString() } });
    }
    let base: EnclaveState<S> = this.state;
    if (provenRoot !== this.root) {
      if (provenRoot === ROOT_ZERO) base = emptyState(this.app.initialState());
      else base = this.readState(provenRoot); // ENCLAVE_STALE_STATE absent, ENCLAVE_KEYS_MISMATCH other keys, ENCLAVE_SEAL_CORRUPT bad
      this.log(`switching to sealed state ${provenRoot} (seq ${base.framework.lastSeq}) proven on-chain`);
    }
    this.assertOwnState(base);
    const lastSeq = base.framework.lastSeq;
    if (committedSeq !== lastSeq) {
      throw new EnclaveError('ENCLAVE_SEQ_MISMATCH', `The contract's committedSeq ${committedSeq} differs from the state's lastSeq ${lastSeq}.`, { details: { committedSeq: committedSeq.toString(), lastSeq: lastSeq.toString() } });
    }
    if (from !== lastSeq + 1n) {
      throw new EnclaveError('ENCLAVE_SEQ_MISMATCH', `Batch starts at ${from}; the next request to process is ${lastSeq + 1n}.`, { details: { from: from.toString(), expected: (lastSeq + 1n).toString() } });
    }
    if (to > requestCount) {
      throw new EnclaveError('ENCLAVE_SEQ_MISMATCH', `Batch ends at ${to} but the contract holds only ${requestCount} requests at block ${h.number}; use a later block.`, { details: { to: to.toString(), requestCount: requestCount.toString() } });
    }
    let acc = base.framework.lastAcc;
    const verified: BatchRequest[] = [];
    for (const r of requests) {
      const payloadBytes = hexToBytes(r.payload); // once: hashed here, decoded by executeBatch
      acc = accumulatorStep(acc, r.seq, r.sender, r.sessionId, keccak256(payloadBytes));
      verified.push({ ...r, payloadBytes, accAfter: acc }); // executeBatch reuses these steps (checked just below) instead of hashing again
    }
    if (acc !== provenAcc) {
      throw new EnclaveError('ENCLAVE_ACCUMULATOR_MISMATCH', `Requests ${from}..${to} do not match the on-chain accumulator; fetch them again from the contract's request log.`, { details: { computed: acc, proven: provenAcc } });
    }

    const exec = await executeBatch(this.app, base, verified, keys, { chainId: c.config.chainId, contract: c.config.contract, sessionId, block: { number: h.number, timestamp: h.timestamp } });
    // The per-batch output cap may end the batch early (docs/protocol.md#caps): commit [from, end]. acc(end) is the
    // proven chain's value too: acc(to) was proven and each step is a hash of the previous one.
    const end = exec.state.framework.lastSeq;
    const accEnd = exec.state.framework.lastAcc;
    const newRoot = stateRoot(exec.state);
    const outputs = encodeOutputs(exec.outputs);
    const oh = outputsHash(outputs);
    const publicOutputs = encodePublicOutputs(exec.publicOutputs);
    const poh = publicOutputsHash(publicOutputs);
    const digest = commitmentDigest({ chainId: c.config.chainId, contract: c.config.contract, sessionId, from, to: end, accTo: accEnd, prevRoot: provenRoot, newRoot, outputsHash: oh, publicOutputsHash: poh });
    const signature = keys.sign(digest);
    this.states!.write(stateFileName(newRoot), serializeState(exec.state));
    this.states!.prune([newRoot, provenRoot]);
    this.state = exec.state;
    this.root = newRoot;
    gated.commit();
    return { sessionId: sessionId.toString(), from: from.toString(), to: end.toString(), accTo: accEnd, prevRoot: provenRoot, newRoot, outputs, outputsHash: oh, publicOutputs, publicOutputsHash: poh, signature };
  }
}
