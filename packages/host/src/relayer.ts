import { EventEmitter } from 'node:events';
import { fromRlp, getAbiItem, parseEventLogs, type Account, type Address, type Hex, type Log } from 'viem';
import pino, { type Logger } from 'pino';
import { batchProofKeys, MAX_BATCH_REQUESTS, sessionProofKeys, slotKey, SLOT, TX_GAS_CAP, type ConfigJson, type StorageProofJson } from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts/generated/artifacts';
import type { ChainAccess } from './chain.ts';
import type { EnclaveProcess } from './enclave.ts';
import { ChainError, CommitTooLargeError, KeysLostError } from './errors.ts';

/** Options of the Host (the untrusted relayer between chain and enclave). */
export interface HostOptions {
  chain: ChainAccess;
  /** Account that pays for sessionCreate / sessionSetPubKey / commitBatch transactions. */
  operator: Account;
  /** The GeodeCore (or application) contract. */
  contract: Address;
  /** The deployment config the contract was instantiated with (the enclave attests to its hash). */
  config: ConfigJson;
  enclave: EnclaveProcess;
  /** Block where the contract was deployed: the log scan starts there. Default 0. */
  fromBlock?: bigint;
  /** Largest batch (<= 256). */
  maxBatch?: number;
  logger?: Logger;
}

/** Emitted after each commitment lands. */
export interface BatchEvent {
  from: bigint; to: bigint; newRoot: Hex; block: bigint;
  /** Milliseconds: whole step, fetching header + proof, the enclave's processing, submitting the commitment. */
  ms: number; proofMs: number; enclaveMs: number; commitMs: number;
}

const REQUEST_EVENT = getAbiItem({ abi: GeodeCoreAbi, name: 'RequestSubmitted' });

/**
 * The host: watches the contract, collects requests, fetches signed headers and storage proofs, drives the
 * enclave, and submits its signed commitments. It is untrusted: the enclave and the contract check
 * everything it brings. Events: 'batch' (BatchEvent), 'error' is never emitted (failures are logged and retried).
 */
export class Host extends EventEmitter {
  readonly log: Logger;
  private requests = new Map<bigint, { sender: Address; payload: Hex; sessionId: bigint }>();
  private scannedTo: bigint;
  private running = false;
  private wake: (() => void) | undefined;
  private unwatch: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  private committed = 0n;
  private waiters: { seq: bigint; resolve: () => void }[] = [];
  /** Set when the enclave needs a new handshake (first start, keys lost). */
  private sessionReady = false;
  /** Operator nonce tracked locally (undefined: read it from the chain) and cached fee estimate. */
  private nonce: number | undefined;
  private fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; at: number } | undefined;
  /**
   * Current batch limit. After the enclave dies mid-batch the host retries with a quarter of it (at least 16), after a
   * commitment that failed or would not fit a transaction with half of it (at least 1), and doubles it back after
   * each commitment, so a frequently crashing enclave or an oversized batch still makes progress.
   */
  private batchLimit = MAX_BATCH_REQUESTS;
  /** A head arrived while a step ran: run another step instead of sleeping. */
  private dirty = false;
  /**
   * Consecutive commitBatch failures (revert, or estimated over the gas limit). Each one halves the batch, so the
   * same failing transaction is never sent again; at one request the wait between attempts grows to a minute.
   */
  private commitFailures = 0;

  constructor(private readonly o: HostOptions) {
    super();
    this.log = o.logger ?? pino({ level: 'warn' });
    this.scannedTo = (o.fromBlock ?? 0n) - 1n;
    o.enclave.on('exit', () => {
      this.sessionReady = false;
      this.kick();
    });
  }

  private get pub() {
    return this.o.chain.publicClient;
  }

  /** Start relaying: init the enclave, run the handshake if needed, then process batches as blocks arrive. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unwatch = this.o.chain.onNewHead(() => this.kick());
    this.loopDone = this.loop();
  }

  /** Stop relaying (the enclave process is left to its owner). */
  async stop(): Promise<void> {
    this.running = false;
    this.unwatch?.();
    this.kick();
    await this.loopDone;
  }

  /** Resolve once the contract's committedSeq >= seq. */
  waitCommitted(seq: bigint): Promise<void> {
    if (this.committed >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Last committed sequence number seen on-chain. */
  get committedSeq(): bigint {
    return this.committed;
  }

  private kick(): void {
    this.dirty = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.dirty) {
      this.dirty = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = undefined; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); resolve(); };
    });
  }

  private async loop(): Promise<void> {
    let backoff = 50;
    while (this.running) {
      try {
        this.dirty = false;
        if (!this.sessionReady) await this.ensureSession();
        const did = await this.step();
        backoff = 50;
        if (!did) await this.sleep(1000);
      } catch (e) {
        const code = (e as { code?: string }).code;
        this.log.warn({ code, err: e instanceof Error ? e.message : String(e) }, 'host step failed; retrying');
        if (code === 'HOST_ENCLAVE_UNAVAILABLE') {
          this.sessionReady = false;
          this.batchLimit = Math.max(16, Math.floor(this.batchLimit / 4));
        }
        if (code === 'HOST_COMMIT_TOO_LARGE' && this.batchLimit > 1) continue; // retry at once with the halved batch
        await this.sleep(this.commitFailures > 0 ? Math.min(250 * 2 ** this.commitFailures, 60_000) : backoff);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }

  private async readSlot(slot: bigint, blockNumber: bigint): Promise<bigint> {
    const v = await this.pub.getStorageAt({ address: this.o.contract, slot: slotKey(slot), blockNumber });
    return BigInt(v ?? '0x0');
  }

  private async proof(keys: Hex[], blockNumber: bigint): Promise<StorageProofJson> {
    const p = await this.pub.getProof({ address: this.o.contract, storageKeys: keys, blockNumber });
    return {
      address: p.address,
      balance: `0x${p.balance.toString(16)}`,
      nonce: `0x${p.nonce.toString(16)}`,
      codeHash: p.codeHash,
      storageHash: p.storageHash,
      accountProof: p.accountProof,
      storageProof: p.storageProof.map((s) => ({ key: s.key, value: `0x${s.value.toString(16)}`, proof: s.proof })),
    };
  }

  /**
   * Send a transaction from the operator. The nonce is tracked locally and fees are refreshed at most every
   * 10 s, so a commitment costs one signature and one eth_sendRawTransaction instead of viem's lookups; the
   * receipt is read at once (automining chains have it) and polled only if absent. Any failure resets the nonce.
   */
  private async send(functionName: 'sessionCreate' | 'sessionSetPubKey' | 'commitBatch', args: readonly unknown[], gas = 15_000_000n): Promise<{ block: bigint; logs: Log[] }> {
    const wallet = this.o.chain.wallet(this.o.operator);
    try {
      if (this.nonce === undefined) this.nonce = await this.pub.getTransactionCount({ address: this.o.operator.address, blockTag: 'pending' });
      if (!this.fees || performance.now() - this.fees.at > 10_000) this.fees = { ...(await this.pub.estimateFeesPerGas()), at: performance.now() };
      const hash = await wallet.writeContract({
        address: this.o.contract, abi: GeodeCoreAbi, functionName, args: args as never, gas, nonce: this.nonce,
        maxFeePerGas: this.fees.maxFeePerGas * 2n, maxPriorityFeePerGas: this.fees.maxPriorityFeePerGas,
      } as never);
      this.nonce++;
      const r = (await this.pub.getTransactionReceipt({ hash }).catch(() => null)) ?? (await this.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 }));
      if (r.status !== 'success') throw new ChainError(`${functionName} transaction reverted`, { details: { hash } });
      return { block: r.blockNumber, logs: r.logs };
    } catch (e) {
      this.nonce = undefined;
      throw e;
    }
  }

  /** Init the enclave and make sure it holds the active session's keys; run the handshake otherwise. */
  async ensureSession(): Promise<void> {
    const e = this.o.enclave;
    const st0 = await e.call('status');
    if (!st0.configured) await e.call('init', { config: this.o.config });
    const st = await e.call('status');
    const [activeId, active] = (await this.pub.readContract({ address: this.o.contract, abi: GeodeCoreAbi, functionName: 'activeSession' })) as unknown as [bigint, { signer: Address; encPubKey: Hex }];
    const sameKeys = activeId > 0n && !!st.signer && active.signer.toLowerCase() === st.signer.toLowerCase() && active.encPubKey.toLowerCase() === st.encPubKey?.toLowerCase();
    if (sameKeys && st.sessionId === activeId.toString()) {
      this.sessionReady = true;
      return;
    }
    if (activeId > 0n && !sameKeys) {
      // A handshake would activate other keys: only the admin may, only with nothing pending (GeodeCore
      // sessionSetPubKey), and those keys could never continue a committed state (bound to its keys). Do not strand
      // the deployment by re-keying on our own: a backup of the data dir still restores service.
      const head = await this.pub.getBlockNumber();
      const [root, count, committed] = await Promise.all([SLOT.stateRoot, SLOT.requestCount, SLOT.committedSeq].map((s) => this.readSlot(s, head)));
      if (root !== 0n) throw new KeysLostError(`The enclave does not hold the keys of active session ${activeId}, and the committed state (seq ${committed}) can be continued only under them.`, { activeSessionId: activeId.toString(), committedSeq: committed!.toString() });
      if (count !== committed) throw new KeysLostError(`The enclave does not hold the keys of active session ${activeId}, and ${count! - committed!} request(s) are pending: new keys may take over only once every request is committed.`, { activeSessionId: activeId.toString(), pending: (count! - committed!).toString() });
    }
    this.log.info({ activeId: activeId.toString() }, 'running the handshake');
    const created = await e.call('sessionCreate');
    const c = await this.send('sessionCreate', [created.quote, created.nonce]);
    const ev = parseEventLogs({ abi: GeodeCoreAbi, logs: c.logs, eventName: 'SessionCreated' })[0];
    if (!ev) throw new ChainError('sessionCreate emitted no SessionCreated event');
    const id = (ev.args as { sessionId: bigint }).sessionId;
    const header = await this.o.chain.getSignedHeader(c.block);
    // The proof is read at the header's block: c.block on the devnet, the finalized block (>= c.block) on Ethereum.
    const proof = await this.proof(sessionProofKeys(id), header.number);
    const keys = await e.call('sessionSetPubKey', { sessionId: id.toString(), header: { rlp: header.rlp, signature: header.signature }, proof, ...(header.beacon ? { beacon: header.beacon } : {}) })
      .catch((err: unknown) => { header.nack?.(); throw err; });
    header.ack?.();
    await this.send('sessionSetPubKey', [id, keys.quote, keys.encPubKey, keys.signer]);
    this.sessionReady = true;
    this.log.info({ sessionId: id.toString(), signer: keys.signer }, 'session active');
  }

  private async scanLogs(toBlock: bigint): Promise<void> {
    if (toBlock <= this.scannedTo) return;
    const logs = await this.pub.getLogs({ address: this.o.contract, event: REQUEST_EVENT, fromBlock: this.scannedTo + 1n, toBlock });
    for (const l of logs) {
      const a = l.args as { seq: bigint; sender: Address; payload: Hex; sessionId: bigint };
      this.requests.set(a.seq, { sender: a.sender, payload: a.payload, sessionId: a.sessionId });
    }
    this.scannedTo = toBlock;
  }

  /** One batch if any request is pending. Returns true if it committed one. */
  private async step(): Promise<boolean> {
    const t0 = performance.now();
    const head = await this.o.chain.getSignedHeader('latest');
    const B = head.number;
    const [count, committed] = await Promise.all([this.readSlot(SLOT.requestCount, B), this.readSlot(SLOT.committedSeq, B)]);
    this.noteCommitted(committed);
    // Behind a finalized header (Ethereum) our last commitment may not be visible at B yet: the enclave needs it proven
    // (committedSeq == its lastSeq), so wait for B to reach it rather than re-send committed requests.
    if (count <= committed || committed < this.committed) return false;
    const from = committed + 1n;
    const max = BigInt(Math.min(this.o.maxBatch ?? MAX_BATCH_REQUESTS, MAX_BATCH_REQUESTS, this.batchLimit));
    const to = count - committed > max ? committed + max : count;
    // Logs and the proof are independent reads at the same block: fetch them together.
    const proofP = this.proof(batchProofKeys(to), B);
    proofP.catch(() => undefined);
    await this.scanLogs(B);
    const requests = [];
    for (let s = from; s <= to; s++) {
      const r = this.requests.get(s);
      if (!r) throw new ChainError(`request ${s} missing from the logs up to block ${B}`);
      requests.push({ seq: s.toString(), sender: r.sender, payload: r.payload, sessionId: r.sessionId.toString() });
    }
    const proof = await proofP;
    const t1 = performance.now();
    const res = await this.o.enclave.call('processBatch', { header: { rlp: head.rlp, signature: head.signature }, proof, requests, ...(head.beacon ? { beacon: head.beacon } : {}) })
      .catch((err: unknown) => { head.nack?.(); throw err; });
    head.ack?.();
    const t2 = performance.now();
    // The enclave may end the batch early at its per-batch output cap (docs/protocol.md#caps): commit what it signed.
    const end = BigInt(res.to);
    const args = [BigInt(res.from), end, res.accTo, res.prevRoot, res.newRoot, res.outputs, res.publicOutputs, res.signature] as const;
    const gas = await this.commitGas(args, head.rlp as Hex, Number(end - from) + 1);
    let sent: { block: bigint };
    try {
      sent = await this.send('commitBatch', args, gas);
    } catch (e) {
      this.commitFailed(Number(end - from) + 1);
      throw e;
    }
    const t3 = performance.now();
    this.commitFailures = 0;
    for (let s = from; s <= end; s++) this.requests.delete(s);
    this.batchLimit = Math.min(MAX_BATCH_REQUESTS, this.batchLimit * 2);
    this.noteCommitted(end);
    const ev: BatchEvent = { from, to: end, newRoot: res.newRoot as Hex, block: sent.block, ms: t3 - t0, proofMs: t1 - t0, enclaveMs: t2 - t1, commitMs: t3 - t2 };
    this.log.info({ from: from.toString(), to: end.toString(), ms: Math.round(ev.ms) }, 'batch committed');
    this.emit('batch', ev);
    return true;
  }

  /**
   * Gas limit for a commitment: eth_estimateGas plus a margin, checked against min(EIP-7825 cap 2^24, the block gas
   * limit of `headRlp`). Over the limit (or the estimate reverting), the batch is halved for the next attempt and
   * CommitTooLargeError / the estimate's error is thrown; nothing is sent.
   */
  private async commitGas(args: readonly unknown[], headRlp: Hex, size: number): Promise<bigint> {
    const fields = fromRlp(headRlp, 'hex') as Hex[];
    const blockGasLimit = BigInt(fields[9] === '0x' ? 0 : fields[9]!);
    const limit = blockGasLimit > 0n && blockGasLimit < TX_GAS_CAP ? blockGasLimit : TX_GAS_CAP;
    let estimate: bigint;
    try {
      estimate = await this.pub.estimateContractGas({ account: this.o.operator, address: this.o.contract, abi: GeodeCoreAbi, functionName: 'commitBatch', args: args as never });
    } catch (e) {
      this.commitFailed(size);
      throw e;
    }
    if (estimate > limit) {
      this.commitFailed(size);
      throw new CommitTooLargeError(size, estimate, limit);
    }
    const withMargin = estimate + estimate / 4n + 50_000n;
    return withMargin < limit ? withMargin : limit;
  }

  /** A commitment of `size` requests failed: the next one is at most half as large (at least one request). */
  private commitFailed(size: number): void {
    this.commitFailures++;
    this.batchLimit = Math.max(1, Math.floor(size / 2));
  }

  private noteCommitted(seq: bigint): void {
    if (seq <= this.committed) return;
    this.committed = seq;
    const ready = this.waiters.filter((w) => w.seq <= seq);
    this.waiters = this.waiters.filter((w) => w.seq > seq);
    for (const w of ready) w.resolve();
  }
}
