import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, hexToBytes, numberToHex, type Address, type Hex } from 'viem';
import {
  EPOCH, ETHEREUM_SYNC_COMMITTEE_SIGNER,
  ACC_ZERO, ROOT_ZERO, SESSION_STATUS, SLOT, accAtKey, accumulatorStep, batchProofKeys, commitmentDigest, configHash, epochCommitmentDigest, encodeOutputs,
  encodePublicOutputs, methods, outputsHash, publicOutputsHash, sessionCreateReportData, sessionKeysReportData, sessionProofKeys, slotKey,
  type ConfigJson, type GeodeConfig, type Method, type Result,
} from '@geode/protocol';
import type { EnclaveApp } from './app.ts';
import { executeBatch, type BatchRequest } from './batch.ts';
import { EnclaveError, LightClientError } from './errors.ts';
import { SessionKeys, deserializeKeyMaterial, generateKeyMaterial, serializeKeyMaterial, type KeyMaterial } from './keys.ts';
import { openLineageStore, otherLineages, stateDbName, versionsToDrop } from './lineage.ts';
import { verifyStorageProof, type TrustAnchor } from './lightclient/index.ts';
import { devnetGate, ethereumGate, type HeaderGate } from './lightclient/gate.ts';
import { KEYS_FILE, LIGHT_CLIENT_FILE, SealedStore } from './seal.ts';
import { chooseBatchBase, type PendingCommitment } from './pending.ts';
import { FRAMEWORK_NAMESPACE, readFramework, type FrameworkState } from './state.ts';
import type { StateStore } from './store/store.ts';
import { keccak256Hex, keccakReady } from './store/keccak.ts';
import { evidenceBytes, sealingKeyFor, type Platform } from './platform/platform.ts';
import { Handover, type HandoverHost } from './handover/handover.ts';
import { exportBackup } from './handover/backup.ts';
import { exportSnapshot, importSnapshot, type SnapshotHost } from './snapshot.ts';

/** Options of {@link EnclaveRuntime}. */
export interface RuntimeOptions {
  /** Data directory: sealed files, the state databases (and, for the simulator, its platform secret). */
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

const EMPTY_FRAMEWORK: FrameworkState = { lastSeq: 0n, lastAcc: ACC_ZERO, keyId: null };

/**
 * The trusted enclave runtime (docs/enclave.md): config, light-client trust anchor, keys and state, and the
 * transport methods of @geode/protocol `methods` (init, status, sessionCreate, sessionSetPubKey, processBatch).
 * The state is the authenticated store of the keys' lineage (lineage.ts, docs/enclave.md#store): the runtime holds
 * the checked-out root and the framework state at it, never the state itself.
 *
 * Every method either succeeds completely or throws a GeodeError (EnclaveError / LightClientError / protocol
 * errors) and leaves every field and the checked-out root exactly as before (processBatch may have written a
 * version the chain never sees, see there). Calls must not overlap (the transport server serialises them).
 */
export class EnclaveRuntime {
  private cfg: Configured | null = null;
  private gate: HeaderGate | null = null;
  private keys: SessionKeys | null = null;
  /** The state store of the keys' lineage (null until keys exist, or when it could not be opened: storeError). */
  private store: StateStore | null = null;
  private storeError: EnclaveError | null = null;
  private keysError: EnclaveError | null = null;
  private pendingNonce: Hex | null = null;
  /** Key handover, both roles (handover/handover.ts); created at the first handover method. */
  private handoverDriver: Handover | null = null;
  private handoverHost: HandoverHost | null = null;
  /** Framework state at `root`. */
  private fw: FrameworkState = EMPTY_FRAMEWORK;
  private root: Hex = ROOT_ZERO;
  /** This process's signed commitments not yet proven committed, oldest first (pending.ts, docs/protocol.md#pipelining). */
  private pending: readonly PendingCommitment[] = [];
  private readonly log: (line: string) => void;

  /** Throws ENCLAVE_BAD_APP when the app's name is the framework's namespace or empty. */
  constructor(private readonly app: EnclaveApp, private readonly opts: RuntimeOptions) {
    if (app.name === FRAMEWORK_NAMESPACE || app.name.length === 0) {
      throw new EnclaveError('ENCLAVE_BAD_APP', `An app may not be named ${JSON.stringify(app.name)}: its name is its store namespace, and "${FRAMEWORK_NAMESPACE}" is the framework's. Rename the app.`, { details: { name: app.name } });
    }
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

  /**
   * Release the state database (the enclave process is ending; a new runtime on the same data directory can then
   * open it: the database is held exclusively while open). Later processBatch calls fail with ENCLAVE_NO_SESSION.
   */
  close(): void {
    this.store?.close();
    this.store = null;
    this.storeError = null;
    this.keys = null;
  }

  /**
   * Every raw [key, value] pair of the state at the current root (framework and app namespaces), in ascending key
   * byte order: the pairs the state root commits to (docs/protocol.md#state-root). O(state): tests and diagnostics.
   */
  async *entries(): AsyncGenerator<[Uint8Array, Uint8Array]> {
    if (!this.store) return;
    yield* this.store.begin().scan(new Uint8Array(0));
  }

  /** Framework state at the current root (lastSeq, lastAcc, keyId), for tests and diagnostics. */
  get framework(): Readonly<FrameworkState> {
    return this.fw;
  }

  /**
   * The app's store at the current root, read-only (writes go nowhere), for tests and diagnostics. Throws
   * ENCLAVE_NO_SESSION before keys exist.
   */
  appView(): import('./store/kv.ts').KvStore {
    if (!this.store) throw new EnclaveError('ENCLAVE_NO_SESSION', 'The enclave has no state store yet; run the session handshake first.');
    return this.store.begin().namespace(this.app.name);
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
      case 'handoverRequest': return this.handover().request();
      case 'handoverSend': return this.handover().send(parsed.data as ParsedParams<'handoverSend'>);
      case 'handoverReceive': return this.handover().receive(parsed.data as ParsedParams<'handoverReceive'>);
      case 'handoverRestore': return this.handover().restore(parsed.data as ParsedParams<'handoverRestore'>);
      case 'backupExport': return exportBackup(this.lend(), parsed.data as ParsedParams<'backupExport'>);
      case 'stateExport': return exportSnapshot(await this.snapshotHost(), parsed.data as ParsedParams<'stateExport'>);
      case 'stateImport': return this.stateImport(parsed.data as ParsedParams<'stateImport'>);
    }
  }

  /**
   * Set the deployment config (once; the same config again is a no-op, another one is ENCLAVE_CONFIG_MISMATCH).
   * Derives the platform sealing key (bound to measurement and config hash), unseals keys.sealed if present (a bad
   * file is logged and reported at sessionSetPubKey), and, with keys, opens their lineage's state store and checks
   * out its newest version (a store that does not open or check out is logged, and the enclave starts at the empty
   * root: processBatch then refuses what the chain proves). States of other key material are never opened.
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
    if (keys) await this.useKeys(keys);
    return result;
  }

  /**
   * Adopt `keys`: open their lineage's store (unless it is the one already open) and check out its newest version
   * that reads back. A store that does not open is logged and kept as storeError; processBatch tries again (the
   * previous enclave process may still hold the database for a moment after its host died).
   */
  private async useKeys(keys: SessionKeys): Promise<void> {
    const same = this.keys?.keyId === keys.keyId && this.store !== null;
    this.keys = keys;
    if (!same) await this.openStore(keys);
  }

  /** Open the store of `keys` and check out its newest readable version (see useKeys). Never throws. */
  private async openStore(keys: SessionKeys): Promise<void> {
    const c = this.need();
    this.store?.close();
    this.store = null;
    this.storeError = null;
    this.fw = EMPTY_FRAMEWORK;
    this.root = ROOT_ZERO;
    this.pending = [];
    let store: StateStore;
    try {
      store = openLineageStore(this.opts.dataDir, keys, this.opts.platform.measurement, hexToBytes(c.hash));
    } catch (e) {
      this.storeError = e instanceof EnclaveError ? e : new EnclaveError('ENCLAVE_SEAL_CORRUPT', `The state database ${stateDbName(keys.keyId)} could not be opened: ${(e as Error).message}.`, { cause: e });
      this.log(`refusing state database ${stateDbName(keys.keyId)}: ${this.storeError.message}`);
      return;
    }
    this.store = store;
    let versions: { root: Hex }[] = [];
    try {
      versions = store.versions();
    } catch (e) {
      this.log(`ignoring the versions of ${stateDbName(keys.keyId)}: ${(e as Error).message}`);
    }
    for (const v of versions) {
      try {
        this.fw = await this.checkout(v.root);
        this.root = v.root;
        return;
      } catch (e) {
        this.log(`ignoring state version ${v.root}: ${(e as Error).message}`);
      }
    }
    await store.checkout(ROOT_ZERO);
  }

  /**
   * Check out `root` in the store and return its framework state, checked to be this enclave's (assertOwnState).
   * On any failure the store is back at the current root. Throws ENCLAVE_STALE_STATE (this store has no such
   * version), ENCLAVE_KEYS_MISMATCH (another key lineage's state: the data dir holds other lineages' databases and
   * ours lacks the root, or the state records another keyId), ENCLAVE_SEAL_CORRUPT (damaged).
   */
  private async checkout(root: Hex): Promise<FrameworkState> {
    const store = this.needStore();
    if (root === this.root && root === store.root()) return this.fw;
    try {
      await store.checkout(root);
    } catch (e) {
      if (!(e instanceof EnclaveError && e.code === 'ENCLAVE_STORE_MISSING_ROOT')) throw e;
      const others = otherLineages(this.opts.dataDir, this.keys!.keyId);
      if (others.length > 0) {
        throw new EnclaveError('ENCLAVE_KEYS_MISMATCH', `This enclave's key material ${this.keys!.keyId} has no state with root ${root}; the data directory holds states of other key material (${others.join(', ')}), which a state is never continued under. Restore the keys.sealed that produced it; without it that state is lost.`, { cause: e, details: { root, ours: this.keys!.keyId, others } });
      }
      throw new EnclaveError('ENCLAVE_STALE_STATE', `No state with root ${root} in this enclave's store: restore the data directory that produced it (the store keeps the last versions only).`, { cause: e, details: { root } });
    }
    try {
      const fw = await readFramework((k) => store.begin().read(k));
      this.assertOwnState(fw);
      return fw;
    } catch (e) {
      await store.checkout(this.root).catch(() => {});
      throw e;
    }
  }

  /** ENCLAVE_KEYS_MISMATCH unless `s` is the empty state or records this enclave's keyId. */
  private assertOwnState(s: FrameworkState): void {
    if (s.lastSeq === 0n) return;
    const ours = this.keys?.keyId ?? null;
    if (s.keyId !== ours) {
      throw new EnclaveError('ENCLAVE_KEYS_MISMATCH', `The state at seq ${s.lastSeq} was produced under key material ${s.keyId}, this enclave holds ${ours}: a state is continued only under the keys that produced it. Restore the keys.sealed that produced it; without it that state is lost.`, { details: { keyId: s.keyId, ours } });
    }
  }

  /** The handover driver (docs/protocol.md#handover, #backup). */
  private handover(): Handover {
    this.handoverDriver ??= new Handover(this.lend());
    return this.handoverDriver;
  }

  /** What the handover and the backup are lent: this runtime's config, gate, platform, keys and data directory. */
  private lend(): HandoverHost {
    const c = this.need();
    this.handoverHost ??= {
      config: c.config, configHash: c.hash, platform: this.opts.platform, gate: this.gate!,
      keys: () => this.keys,
      adopt: async (keys) => {
        c.keyStore.write(KEYS_FILE, serializeKeyMaterial(keys.material));
        await this.useKeys(keys);
        this.keysError = null;
      },
      hasState: (keys) => {
        // A state copy is a store holding at least one version: an empty file, or a store with no version, is no
        // state (restoring onto it would replay the history from nothing, docs/protocol.md#backup).
        const file = join(this.opts.dataDir, stateDbName(keys.keyId));
        if (!existsSync(file) || statSync(file).size === 0) return false;
        const store = openLineageStore(this.opts.dataDir, keys, this.opts.platform.measurement, hexToBytes(c.hash));
        try {
          return store.versions().length > 0;
        } finally {
          store.close();
        }
      },
    };
    return this.handoverHost;
  }

  /** What a state snapshot export or import is lent (snapshot.ts). Throws ENCLAVE_NO_SESSION without session keys or a store. */
  private async snapshotHost(): Promise<SnapshotHost> {
    const c = this.need();
    const keys = this.keys;
    const sessionId = keys?.material.sessionId ?? null;
    if (!keys || sessionId === null) throw new EnclaveError('ENCLAVE_NO_SESSION', 'The enclave has no active session keys; get them by handover (or the session handshake) first.');
    if (!this.store) await this.openStore(keys);
    return { config: c.config, configHash: c.hash, measurement: this.opts.platform.measurement, gate: this.gate!, dataDir: this.opts.dataDir, keys, sessionId, store: this.needStore(), root: this.root, framework: this.fw };
  }

  /** stateImport (docs/protocol.md#snapshot): adopt a committed state snapshot; its root becomes this instance's. */
  private async stateImport(p: ParsedParams<'stateImport'>): Promise<Result<'stateImport'>> {
    const r = await importSnapshot(await this.snapshotHost(), p);
    this.root = r.root;
    this.fw = r.framework;
    this.pending = [];
    this.log(`adopted the state snapshot at ${r.root} (seq ${r.framework.lastSeq})`);
    return { root: r.root, lastSeq: r.framework.lastSeq.toString() };
  }

  private needStore(): StateStore {
    if (this.store) return this.store;
    throw this.storeError ?? new EnclaveError('ENCLAVE_NO_SESSION', 'The enclave has no active session keys; run the session handshake first.');
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
      lastSeq: this.fw.lastSeq.toString(),
      stateRoot: this.root,
      trustedBlock: (this.gate?.trustedNumber() ?? 0n).toString(),
      epoch: String(this.fw.epoch ?? 0),
      ...(keys ? { epochBase: String(keys.material.epochBase) } : {}),
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
    c.keyStore.write(KEYS_FILE, serializeKeyMaterial(keys.material));
    await this.useKeys(keys);
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
   * Working ahead (pending.ts, docs/protocol.md#pipelining): when the proven (committedSeq, stateRoot) is where one of
   * this process's own pending commitments starts and the batch continues its latest state, it runs on that state and
   * its commitment's prevRoot is that state's root (the contract takes it only after the pending ones have landed).
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
    if (!this.store) await this.openStore(keys); // it could not be opened before: try again
    const store = this.needStore();
    const prevRoot = this.root;
    const prevFw = this.fw;
    let base = this.fw;
    // Working ahead (pending.ts): the proven position may be where one of this enclave's own pending commitments starts.
    const ahead = chooseBatchBase(this.pending, { committedSeq, stateRoot: provenRoot }, { lastSeq: this.fw.lastSeq, root: this.root }, from);
    const baseRoot = ahead.kind === 'head' ? this.root : provenRoot;
    const stillPending = ahead.kind === 'head' ? ahead.pending : [];
    if (ahead.kind === 'proven' && provenRoot !== this.root) {
      base = await this.checkout(provenRoot); // ENCLAVE_STALE_STATE absent, ENCLAVE_KEYS_MISMATCH other keys, ENCLAVE_SEAL_CORRUPT bad
      this.log(`switching to state ${provenRoot} (seq ${base.lastSeq}) proven on-chain`);
    }
    // From here on the store may be at another root or hold new nodes: every failure puts it back at prevRoot.
    let newRoot: Hex;
    let exec: Awaited<ReturnType<typeof executeBatch>>;
    let outputs: Hex;
    let oh: Hex;
    let publicOutputs: Hex;
    let poh: Hex;
    let signature: Hex;
    try {
      // The store must be at the root the commitment will name as prevRoot. A rollback that failed earlier (a read
      // the host made fail, below and in checkout or a snapshot import) can have left it elsewhere, and a batch begun
      // there would run on another state than the one it signs as its base: check that root out again, or refuse.
      if (store.root() !== baseRoot) await store.checkout(baseRoot);
      this.assertOwnState(base);
      const lastSeq = base.lastSeq;
      if (ahead.kind === 'proven' && committedSeq !== lastSeq) {
        throw new EnclaveError('ENCLAVE_SEQ_MISMATCH', `The contract's committedSeq ${committedSeq} differs from the state's lastSeq ${lastSeq}.`, { details: { committedSeq: committedSeq.toString(), lastSeq: lastSeq.toString() } });
      }
      if (from !== lastSeq + 1n) {
        throw new EnclaveError('ENCLAVE_SEQ_MISMATCH', `Batch starts at ${from}; the next request to process is ${lastSeq + 1n}.`, { details: { from: from.toString(), expected: (lastSeq + 1n).toString() } });
      }
      if (to > requestCount) {
        throw new EnclaveError('ENCLAVE_SEQ_MISMATCH', `Batch ends at ${to} but the contract holds only ${requestCount} requests at block ${h.number}; use a later block.`, { details: { to: to.toString(), requestCount: requestCount.toString() } });
      }
      let acc = base.lastAcc;
      const verified: BatchRequest[] = [];
      await keccakReady; // speed only: the WebAssembly Keccak (store/keccak.ts), the same digests as viem's
      for (const r of requests) {
        const payloadBytes = hexToBytes(r.payload); // once: hashed here, decoded by executeBatch
        acc = accumulatorStep(acc, r.seq, r.sender, r.sessionId, keccak256Hex(payloadBytes), keccak256Hex);
        verified.push({ ...r, payloadBytes, accAfter: acc }); // executeBatch reuses these steps (checked just below) instead of hashing again
      }
      if (acc !== provenAcc) {
        throw new EnclaveError('ENCLAVE_ACCUMULATOR_MISMATCH', `Requests ${from}..${to} do not match the on-chain accumulator; fetch them again from the contract's request log.`, { details: { computed: acc, proven: provenAcc } });
      }

      const batch = store.begin();
      let committed: Hex | undefined;
      const commit = async () => {
        // The batch's writes, its new trie nodes and its version record in ONE transaction, before anything is
        // replied (docs/enclave.md#store-versions). Versions beyond the kept ones are dropped in the same transaction.
        // Never the root to fall back to, nor the proven one, nor a pending commitment's result.
        // Every pending commitment's roots are kept, not only those this batch builds on: a batch from the proven
        // position (a follow-mode check, a re-run) can be refused after this write, and the pending ones stay pending.
        const pendingRoots = new Set(this.pending.flatMap((c) => [c.prevRoot, c.newRoot]));
        const drop = versionsToDrop(store.versions(), prevRoot, provenRoot).filter((r) => !pendingRoots.has(r));
        committed = await store.commit(batch, drop);
      };
      // The commit runs while the HPKE pool seals the outputs (executeBatch's whileSealing), after the last request.
      exec = await executeBatch(this.app, batch, base, verified, keys, { chainId: c.config.chainId, contract: c.config.contract, sessionId, block: { number: h.number, timestamp: h.timestamp }, admin: c.config.admin }, commit);
      newRoot = committed!;
      if (p.expectNewRoot !== undefined && newRoot !== p.expectNewRoot.toLowerCase()) {
        // Follow mode (docs/protocol.md#takeover): not the committed batch; refused like any failed batch (below).
        throw new EnclaveError('ENCLAVE_FOLLOW_MISMATCH', `Processing ${from}..${exec.to} at block ${h.number} gives root ${newRoot}, not the committed ${p.expectNewRoot}; follow it at the block the committing instance used.`, { details: { newRoot, expected: p.expectNewRoot, block: h.number.toString(), to: exec.to.toString() } });
      }
      outputs = encodeOutputs(exec.outputs);
      oh = outputsHash(outputs, keccak256Hex);
      publicOutputs = encodePublicOutputs(exec.publicOutputs);
      poh = publicOutputsHash(publicOutputs);
      // The per-batch output cap may end the batch early (docs/protocol.md#caps): commit [from, to]. acc(to) is the
      // proven chain's value too: acc(to) was proven and each step is a hash of the previous one.
      const commitment = { chainId: c.config.chainId, contract: c.config.contract, sessionId, from, to: exec.to, accTo: exec.accTo, prevRoot: baseRoot, newRoot, outputsHash: oh, publicOutputsHash: poh };
      // A batch that ends with a rotation signs the new epoch's key with it (docs/protocol.md#rotation).
      const digest = exec.epoch ? epochCommitmentDigest(commitmentDigest(commitment), BigInt(exec.epoch.epoch), exec.epoch.encPubKey) : commitmentDigest(commitment);
      signature = keys.sign(digest);
    } catch (e) {
      // A version written for a batch that then failed is harmless: nothing was replied, the chain never proves it.
      // If this checkout fails too, the next batch's first step checks the store out at its base again (above).
      await store.checkout(prevRoot).catch(() => {});
      this.root = prevRoot;
      this.fw = prevFw;
      throw e;
    }
    this.fw = { lastSeq: exec.to, lastAcc: exec.accTo, keyId: keys.keyId, ...(exec.epoch ? { epoch: exec.epoch.epoch, epochSeq: exec.to } : { epoch: base.epoch ?? 0, epochSeq: base.epochSeq ?? 0n }) };
    this.root = newRoot;
    this.pending = [...stillPending, { from, to: exec.to, prevRoot: baseRoot, newRoot }];
    gated.commit();
    this.retireEpochs(base, committedSeq);
    const end = exec.to;
    const accEnd = exec.accTo;
    return { sessionId: sessionId.toString(), from: from.toString(), to: end.toString(), accTo: accEnd, prevRoot: baseRoot, newRoot, outputs, outputsHash: oh, publicOutputs, publicOutputsHash: poh, signature, ...(exec.epoch ? { epoch: { epoch: String(exec.epoch.epoch), encPubKey: exec.epoch.encPubKey } } : {}) };
  }

  /**
   * Delete the seeds of retired epochs (docs/protocol.md#rotation, docs/security.md#rotation-epochs). `base` is the state
   * the batch ran on, `committedSeq` the proven one. Once the rotation that started base's epoch E is committed
   * (committedSeq >= its seq), no batch can ever again run on a state before epoch E, and from E on epochs below
   * E - graceEpochs are retired for every request: their seeds go. The material then holds seed(E - graceEpochs) only,
   * sealed over keys.sealed. A failed write keeps the old material (logged; the next batch tries again).
   */
  private retireEpochs(base: FrameworkState, committedSeq: bigint): void {
    const keys = this.keys;
    const epoch = base.epoch ?? 0;
    const keep = epoch - EPOCH.graceEpochs;
    if (!keys || keep <= keys.material.epochBase || committedSeq < (base.epochSeq ?? 0n)) return;
    const next = keys.retireBefore(keep);
    try {
      this.need().keyStore.write(KEYS_FILE, serializeKeyMaterial(next.material));
    } catch (e) {
      this.log(`could not seal ${KEYS_FILE} without the retired epochs below ${keep}: ${(e as Error).message}`);
      return;
    }
    this.keys = next;
    this.log(`deleted the request keys of epochs ${keys.material.epochBase}..${keep - 1} (retired)`);
  }
}
