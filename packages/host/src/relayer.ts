import { EventEmitter } from 'node:events';
import { encodeFunctionData, fromRlp, getAbiItem, isHex, parseEventLogs, type Abi, type Account, type ContractFunctionArgs, type Address, type Hex, type Log } from 'viem';
import pino, { type Logger } from 'pino';
import { batchProofKeys, decodePublicOutputs, MAX_BATCH_REQUESTS, sessionProofKeys, slotKey, SLOT, TX_GAS_CAP, type ConfigJson, type StorageProofJson } from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts';
import type { ChainAccess } from './chain.ts';
import type { EnclaveProcess } from './enclave.ts';
import { ChainError, CommitTooLargeError, EnclaveProtocolError, KeysLostError } from './errors.ts';
import { Follower } from './follow.ts';
import { commitGasBound } from './commit-gas.ts';
import { withWasmKeccak } from './sign-tx.ts';

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
  /** Largest batch (<= MAX_BATCH_REQUESTS). */
  maxBatch?: number;
  /**
   * Overlap the stages (default true, docs/protocol.md#pipelining): while a commitment is in flight, fetch the next
   * batch's header, logs and proof and have the enclave process it (chained on the commitment in flight); the next
   * commitment is sent only once the previous one has landed. false: one batch at a time.
   */
  pipelined?: boolean;
  /**
   * Gas limit of commitBatch transactions: false (default) the bound computed from the calldata (commit-gas.ts,
   * docs/protocol.md#commit-gas), with eth_estimateGas only after a failed commitment, in takeover mode or when the
   * bound is over the transaction limit; true: eth_estimateGas for every commitment (one more round trip each).
   */
  estimateCommitGas?: boolean;
  /**
   * How long to wait for a transaction's receipt before treating it as dropped (default 180,000 ms, viem's): the nonce
   * is read from the chain again and a dropped commitment is re-run from the chain's committed position.
   */
  receiptTimeoutMs?: number;
  /**
   * Takeover (docs/protocol.md#takeover): follow batches other keyed instances commit (re-execute them into this
   * enclave's own store, follow.ts), and commit only once no commitment has landed for `standbyMs` while requests
   * are pending (0: commit at once, racing the others; the contract takes the first). Unset: the single-instance
   * relayer of before (no following).
   */
  takeover?: { standbyMs: number };
  logger?: Logger;
}

/** Emitted after each commitment lands. */
export interface BatchEvent {
  from: bigint; to: bigint; newRoot: Hex; block: bigint;
  /**
   * Milliseconds: from the start of the batch's step (reading the head; for a prefetched batch, taking the prefetch)
   * to the commitment's receipt; fetching header + logs + proof (prefetched: waiting for the prefetch to finish); the
   * enclave's processing; submitting the commitment (waiting for the previous one to land, gas limit, transaction,
   * receipt).
   */
  ms: number; proofMs: number; enclaveMs: number; commitMs: number;
  /** True when the enclave processed this batch while the previous commitment was still in flight. */
  overlapped: boolean;
  /**
   * True when the batch's head, logs and proof were read while the enclave was still processing the previous batch
   * (its `stages.head/logScan/proof` then lie off the critical path).
   */
  prefetched: boolean;
  /** Where the time went, milliseconds per stage (stages overlap between consecutive batches when pipelined). */
  stages: BatchStages;
}

/** Per-stage times of one batch, milliseconds. */
export interface BatchStages {
  /** Signed latest header and the requestCount / committedSeq reads at it. */
  head: number;
  /** eth_getLogs of RequestSubmitted up to the head (concurrent with `proof`). */
  logScan: number;
  /** eth_getProof of batchProofKeys(to) at the head (concurrent with `logScan`). */
  proof: number;
  /** processBatch in the enclave, transport included. */
  enclave: number;
  /** Waiting for the previous commitment to land after the enclave finished (0 when it had already landed). */
  waitPrevious: number;
  /** The commitment's gas limit: its calldata bound (no round trip), or eth_estimateGas after a failed commitment. */
  gas: number;
  /** Signing and eth_sendRawTransaction. */
  tx: number;
  /** The receipt. */
  receipt: number;
}

/** A signed commitment sent (or about to be) while the host prepares the next batch. */
interface InFlight {
  from: bigint;
  to: bigint;
  /**
   * Resolves with the event once it has landed, or null when another keyed instance committed that range first
   * (takeover mode); rejects when it failed (nothing of it landed).
   */
  landed: Promise<BatchEvent | null>;
  /** Set once `landed` has settled. */
  done: boolean;
}

/** What processBatch needs for one batch, read at one head (Host.prepare). */
interface Prepared {
  head: Awaited<ReturnType<ChainAccess['getSignedHeader']>>;
  from: bigint;
  to: bigint;
  /** Requests pending after `to` at the head (requestCount - to). */
  backlog: bigint;
  requests: { seq: string; sender: Address; payload: Hex; sessionId: string }[];
  proof: StorageProofJson;
  stages: Pick<BatchStages, 'head' | 'logScan' | 'proof'>;
}

/** The next batch's inputs, read while the enclave processes the current one (Host.schedulePrefetch). */
interface Prefetch {
  /** The seq the prefetched batch starts at: right after the batch in the enclave. */
  from: bigint;
  /** The latest completed read that found requests. */
  ready: Prepared | undefined;
  /** The reads in progress (undefined before the timer fires and after the last read). */
  running: Promise<void> | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the slot is taken or dropped: no further reads, and a read finishing later is ignored. */
  cancelled: boolean;
}

/** Reads of a prefetched batch after the first one, while the enclave is predicted to run long enough (schedulePrefetch). */
const PREFETCH_REFRESHES = 2;
/** No prefetch when the enclave is predicted to be done in fewer than this many reads (and no full batch is waiting). */
const PREFETCH_MIN_READS = 3;

const REQUEST_EVENT = getAbiItem({ abi: GeodeCoreAbi, name: 'RequestSubmitted' });

/**
 * The host: watches the contract, collects requests, fetches signed headers and storage proofs, drives the
 * enclave, and submits its signed commitments. It is untrusted: the enclave and the contract check
 * everything it brings. Events: 'batch' (BatchEvent), 'error' is never emitted (failures are logged and retried).
 */
/**
 * `v` typed as viem's Hex for a typed contract call: an enclave result field (`field` names it). The transport
 * schema has already required 0x-prefixed hex; this re-checks it where the type is needed instead of casting.
 * Throws EnclaveProtocolError (HOST_ENCLAVE_PROTOCOL) otherwise.
 */
function hexOf(v: string, field: string): Hex {
  if (!isHex(v, { strict: true })) throw new EnclaveProtocolError(`${field} is not 0x-prefixed hex`, { field });
  return v;
}

/** The commitment transaction of a batch: commitBatch, or commitBatchWithEpoch when it ends with a rotation. */
type CommitCall =
  | { functionName: 'commitBatch'; args: ContractFunctionArgs<typeof GeodeCoreAbi, 'nonpayable', 'commitBatch'> }
  | { functionName: 'commitBatchWithEpoch'; args: ContractFunctionArgs<typeof GeodeCoreAbi, 'nonpayable', 'commitBatchWithEpoch'> };

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
  /** Batch limit learnt from the enclave's per-batch output cap (noteBatchEnd). */
  private outputCapLimit = MAX_BATCH_REQUESTS;
  /** A head arrived while a step ran: run another step instead of sleeping. */
  private dirty = false;
  /**
   * Consecutive commitBatch failures (revert, or estimated over the gas limit). Each one halves the batch, so the
   * same failing transaction is never sent again; at one request the wait between attempts grows to a minute.
   */
  private commitFailures = 0;
  /** The commitment in flight (pipelined mode): the next batch starts after it and its commitment waits for it. */
  private inflight: InFlight | undefined;
  /** Takeover mode: the follower, the root the enclave last processed from, and when the committed seq last moved. */
  private follower: Follower | undefined;
  private basis: Hex | undefined;
  private progressAt = performance.now();
  private lastCommittedSeen = -1n;
  /** Takeover mode: this host has committed itself since it started (it then keeps committing without waiting). */
  private committing = false;
  /** Pipelined mode: the next batch's inputs, read while the enclave runs (schedulePrefetch). */
  private prefetch: Prefetch | undefined;
  /** Recent enclave cost and ms of a prepare() that found a batch (exponential averages): when a prefetch starts. */
  private enclaveCost = { fixedMs: 20, perRequestMs: 1 };
  private prepareMs = 50;
  /** The operator account as the wallet signs with it: a local key hashes its transactions with WebAssembly (sign-tx.ts). */
  private readonly signer: Account;
  private walletClient: ReturnType<ChainAccess['wallet']> | undefined;

  constructor(private readonly o: HostOptions) {
    super();
    this.log = o.logger ?? pino({ level: 'warn' });
    this.signer = withWasmKeccak(o.operator);
    this.scannedTo = (o.fromBlock ?? 0n) - 1n;
    if (o.takeover) {
      this.follower = new Follower({
        chain: o.chain, contract: o.contract, enclave: o.enclave, fromBlock: o.fromBlock ?? 0n, logger: this.log,
        basis: () => this.basis,
        followed: (from, to) => { for (let s = from; s <= to; s++) this.requests.delete(s); },
        requests: async (from, to, atBlock) => {
          await this.scanLogs(atBlock);
          return this.logRequests(from, to, atBlock);
        },
      });
    }
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
    this.dropPrefetch();
    this.unwatch?.();
    this.kick();
    await this.loopDone;
    await this.settle().catch(() => undefined);
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

  /** Resolve when `p` settles, a head arrives (kick) or `ms` pass, whichever is first; at once if a head arrived already. */
  private until(p: Promise<unknown>, ms: number): Promise<void> {
    if (this.dirty) {
      this.dirty = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
      p.then(done, done);
    });
  }

  private async loop(): Promise<void> {
    let backoff = 50;
    while (this.running) {
      try {
        this.dirty = false;
        if (!this.sessionReady) {
          this.dropPrefetch(); // a restarted enclave has no pending commitments to continue
          await this.settle(); // the handshake's transactions use the operator's next nonces
          await this.ensureSession();
        }
        const did = await this.step();
        backoff = 50;
        // A commitment in flight and no new head yet: wait for either instead of polling the chain meanwhile.
        if (did && this.inflight) await this.until(this.inflight.landed, 1000);
        else if (!did) {
          await this.settle();
          await this.sleep(1000);
        }
      } catch (e) {
        // A prefetched batch was read for a position the failure may have changed: the next step reads afresh.
        this.dropPrefetch();
        // A failed step may leave a commitment in flight: learn its outcome before the next step picks its batch.
        await this.settle().catch((err: unknown) => this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'commitment in flight failed'));
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
  private async send<const F extends 'sessionCreate' | 'sessionSetPubKey' | 'commitBatch' | 'commitBatchWithEpoch'>(functionName: F, args: ContractFunctionArgs<typeof GeodeCoreAbi, 'nonpayable', F>, gas = 15_000_000n, timing?: { tx: number; receipt: number }): Promise<{ block: bigint; logs: Log[] }> {
    // One wallet client for the host's life: viem first tries eth_fillTransaction for each transaction and remembers,
    // per client, a node that does not serve it (the devnet): a client per transaction paid that round trip every time.
    const wallet = (this.walletClient ??= this.o.chain.wallet(this.signer));
    const t0 = performance.now();
    try {
      if (this.nonce === undefined) this.nonce = await this.pub.getTransactionCount({ address: this.o.operator.address, blockTag: 'pending' });
      if (!this.fees || performance.now() - this.fees.at > 10_000) this.fees = { ...(await this.pub.estimateFeesPerGas()), at: performance.now() };
      const hash = await wallet.writeContract({
        address: this.o.contract, abi: GeodeCoreAbi as Abi, functionName: functionName as string, args: args as readonly unknown[], gas, nonce: this.nonce,
        maxFeePerGas: this.fees.maxFeePerGas * 2n, maxPriorityFeePerGas: this.fees.maxPriorityFeePerGas,
      });
      this.nonce++;
      const sentAt = performance.now();
      const r = (await this.pub.getTransactionReceipt({ hash }).catch(() => null)) ?? (await this.pub.waitForTransactionReceipt({ hash, pollingInterval: 20, timeout: this.o.receiptTimeoutMs ?? 180_000 }));
      if (timing) { timing.tx = sentAt - t0; timing.receipt = performance.now() - sentAt; }
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
    const c = await this.send('sessionCreate', [hexOf(created.quote, 'quote'), hexOf(created.nonce, 'nonce')]);
    const ev = parseEventLogs({ abi: GeodeCoreAbi, logs: c.logs, eventName: 'SessionCreated' })[0];
    if (!ev) throw new ChainError('sessionCreate emitted no SessionCreated event');
    const id = (ev.args as { sessionId: bigint }).sessionId;
    const header = await this.o.chain.getSignedHeader(c.block);
    // The proof is read at the header's block: c.block on the devnet, the finalized block (>= c.block) on Ethereum.
    const proof = await this.proof(sessionProofKeys(id), header.number);
    const keys = await e.call('sessionSetPubKey', { sessionId: id.toString(), header: { rlp: header.rlp, signature: header.signature }, proof, ...(header.beacon ? { beacon: header.beacon } : {}) })
      .catch((err: unknown) => { header.nack?.(); throw err; });
    header.ack?.();
    await this.send('sessionSetPubKey', [id, hexOf(keys.quote, 'quote'), hexOf(keys.encPubKey, 'encPubKey'), hexOf(keys.signer, 'signer')]);
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

  /** Requests [from, to] from the scanned log (scanned up to `block`), in the processBatch shape. Throws ChainError for a gap. */
  private logRequests(from: bigint, to: bigint, block: bigint): { seq: string; sender: Address; payload: Hex; sessionId: string }[] {
    const out = [];
    for (let s = from; s <= to; s++) {
      const r = this.requests.get(s);
      if (!r) throw new ChainError(`request ${s} missing from the logs up to block ${block}`);
      out.push({ seq: s.toString(), sender: r.sender, payload: r.payload, sessionId: r.sessionId.toString() });
    }
    return out;
  }


  /**
   * One batch if any request is pending; returns true if it processed one. Pipelined (the default), the batch starts
   * after the commitment in flight, if any, and is processed while that one lands; its own commitment is sent only
   * after the previous one landed (a failed one drops this result: the next step re-runs from the chain's position)
   * and is left in flight when step returns. While the enclave processes it, the next batch's head, logs and proof
   * are fetched (prefetch below), so the enclave gets its next batch as soon as it is done. Not pipelined (or in
   * takeover mode), step returns once its commitment landed or lost the race to another instance.
   */
  private async step(): Promise<boolean> {
    if (this.inflight?.done) await this.settle(); // a failed one throws here: the batch is picked from the chain again
    const ahead = this.inflight;
    const t0 = performance.now();
    const pre = await this.takePrefetched(ahead);
    const got = pre ?? (await this.prepare(ahead?.to));
    if (typeof got === 'boolean') return got;
    const { head, from, to, requests, proof } = got;
    const t1 = performance.now();
    const overlapped = ahead !== undefined && !ahead.done;
    const enclaveP = this.o.enclave.call('processBatch', { header: { rlp: head.rlp, signature: head.signature }, proof, requests, ...(head.beacon ? { beacon: head.beacon } : {}) });
    enclaveP.catch(() => undefined);
    this.schedulePrefetch(got);
    const res = await enclaveP.catch((err: unknown) => { head.nack?.(); throw err; });
    head.ack?.();
    this.basis = hexOf(res.prevRoot, 'prevRoot');
    const t2 = performance.now();
    this.noteEnclave(t2 - t1, requests.length);
    // Commitments land strictly in order: this one needs the previous one on-chain (prevRoot, from).
    if (ahead) await this.settle();
    const tReady = performance.now();
    // The enclave may end the batch early at its per-batch output cap (docs/protocol.md#caps): commit what it signed.
    const end = BigInt(res.to);
    this.noteBatchEnd(Number(to - from) + 1, Number(end - from) + 1);
    // A prefetched batch's stages were fetched while the previous batch was in the enclave (off this batch's path).
    const stages: BatchStages = { ...got.stages, enclave: t2 - t1, waitPrevious: tReady - t2, gas: 0, tx: 0, receipt: 0 };
    const landed = (async (): Promise<BatchEvent | null> => {
      const args = [BigInt(res.from), end, hexOf(res.accTo, 'accTo'), hexOf(res.prevRoot, 'prevRoot'), hexOf(res.newRoot, 'newRoot'), hexOf(res.outputs, 'outputs'), hexOf(res.publicOutputs, 'publicOutputs'), hexOf(res.signature, 'signature')] as const;
      // A batch ending with a rotation request carries the new epoch's key (docs/protocol.md#rotation).
      const call: CommitCall = res.epoch
        ? { functionName: 'commitBatchWithEpoch', args: [...args.slice(0, 7) as [bigint, bigint, Hex, Hex, Hex, Hex, Hex], hexOf(res.epoch.encPubKey, 'epoch.encPubKey'), args[7]] }
        : { functionName: 'commitBatch', args };
      let sent: { block: bigint };
      try {
        const tGas = performance.now();
        const gas = await this.commitGas(call, head.rlp as Hex, Number(end - from) + 1);
        stages.gas = performance.now() - tGas;
        try {
          sent = call.functionName === 'commitBatch' ? await this.send('commitBatch', call.args, gas, stages) : await this.send('commitBatchWithEpoch', call.args, gas, stages);
        } catch (e) {
          this.commitFailed(Number(end - from) + 1);
          throw e;
        }
      } catch (e) {
        // Takeover mode: another keyed instance committed first; follow it next step (not a failure of ours).
        if (await this.lostRace(from)) return null;
        throw e;
      }
      const t3 = performance.now();
      this.committing = true;
      this.commitFailures = 0;
      for (let s = from; s <= end; s++) this.requests.delete(s);
      this.batchLimit = Math.min(MAX_BATCH_REQUESTS, this.batchLimit * 2);
      this.noteCommitted(end);
      const ev: BatchEvent = { from, to: end, newRoot: args[4], block: sent.block, ms: t3 - t0, proofMs: t1 - t0, enclaveMs: t2 - t1, commitMs: t3 - t2, overlapped, prefetched: pre !== undefined, stages };
      // Emitted as it lands, in order: the next commitment starts only after settle() saw this one.
      this.log.info({ from: from.toString(), to: end.toString(), ms: Math.round(ev.ms), overlapped }, 'batch committed');
      this.emit('batch', ev);
      return ev;
    })();
    const f: InFlight = { from, to: end, landed, done: false };
    landed.then(() => { f.done = true; }, () => { f.done = true; }); // failures are observed by settle()
    this.inflight = f;
    // Takeover mode runs one batch at a time: a follower re-executes other instances' batches from the chain's state,
    // which a result chained on our own commitment in flight would not match.
    if (this.o.pipelined === false || this.follower) await this.settle();
    return true;
  }

  /**
   * Read what the next batch needs at the latest head: the signed header, requestCount / committedSeq, the requests
   * (log scan) and the storage proof. `aheadTo`: the last seq of this host's own commitment that is in flight or still
   * in the enclave; the batch then starts after it (the enclave continues its own pending commitments,
   * docs/protocol.md#pipelining) unless the chain is already past it. Returns the batch, or what step returns when
   * there is none (false: nothing to do; true: the follower re-executed another instance's batch).
   */
  private async prepare(aheadTo: bigint | undefined): Promise<Prepared | boolean> {
    const t0 = performance.now();
    const head = await this.o.chain.getSignedHeader('latest');
    const B = head.number;
    const [count, committed] = await Promise.all([this.readSlot(SLOT.requestCount, B), this.readSlot(SLOT.committedSeq, B)]);
    this.noteCommitted(committed);
    if (this.follower) {
      const chainRoot = `0x${(await this.readSlot(SLOT.stateRoot, B)).toString(16).padStart(64, '0')}` as Hex;
      if (await this.follower.step(B, chainRoot)) return true;
      if (committed !== this.lastCommittedSeen) { this.lastCommittedSeen = committed; this.progressAt = performance.now(); }
      if (count > committed && !this.committing && performance.now() - this.progressAt < this.o.takeover!.standbyMs) return false;
    }
    // Behind a finalized header (Ethereum) our last landed commitment may not be visible at B yet: the enclave needs
    // it proven (committedSeq == its lastSeq), so wait for B to reach it rather than re-send committed requests.
    if (aheadTo === undefined && committed < this.committed) return false;
    const from = aheadTo !== undefined && aheadTo > committed ? aheadTo + 1n : committed + 1n;
    if (count < from) return false;
    const max = this.maxBatchNow();
    const to = count - from + 1n > max ? from + max - 1n : count;
    const tHead = performance.now();
    // Logs and the proof are independent reads at the same block: fetch them together.
    let proofDone = tHead;
    const proofP = this.proof(batchProofKeys(to), B).then((p) => { proofDone = performance.now(); return p; });
    proofP.catch(() => undefined);
    await this.scanLogs(B);
    const tLogs = performance.now();
    const requests = this.logRequests(from, to, B);
    const proof = await proofP;
    this.prepareMs = 0.7 * this.prepareMs + 0.3 * (performance.now() - t0);
    return { head, from, to, backlog: count - to, requests, proof, stages: { head: tHead - t0, logScan: tLogs - tHead, proof: proofDone - tHead } };
  }

  /**
   * Prefetch (pipelined mode): while the enclave processes `current`, read the batch after it. The enclave's recent
   * cost (fixed + per request) predicts when it will be done; the first read starts at half that time less one read
   * (at once when the pending requests already fill a batch), and while the enclave is predicted to run longer than
   * 1.5 reads the batch is read again (at most PREFETCH_REFRESHES times) so that it holds the requests that arrived
   * meanwhile: the enclave then gets a fresh, full batch as soon as it is done, not one three round trips later. No
   * prefetch when the enclave is predicted to take under PREFETCH_MIN_READS reads and no full batch waits (light load:
   * the next batch is read after it, with every request that arrived meanwhile). Not in
   * takeover mode (one batch at a time) nor with Ethereum light-client headers (each one's beacon data builds on the
   * header the enclave last accepted).
   */
  private schedulePrefetch(current: Prepared): void {
    this.dropPrefetch();
    if (this.o.pipelined === false || this.follower || current.head.beacon) return;
    const max = this.maxBatchNow();
    const expectedMs = this.enclaveCost.fixedMs + this.enclaveCost.perRequestMs * current.requests.length;
    // A short enclave run leaves no time for a timely read: a read at its start would cut the next batch before the
    // requests arriving meanwhile (they would wait a batch longer), so read after it as without prefetch.
    if (current.backlog < max && expectedMs < PREFETCH_MIN_READS * this.prepareMs) return;
    const expectedEnd = performance.now() + expectedMs;
    const slot: Prefetch = { from: current.to + 1n, ready: undefined, running: undefined, timer: undefined, cancelled: false };
    const full = (r: Prepared) => r.to - r.from + 1n >= max;
    const run = async () => {
      for (let reads = 0; reads <= PREFETCH_REFRESHES && !slot.cancelled; reads++) {
        const r = await this.prepare(current.to).catch(() => undefined); // a failed read is dropped: the step reads afresh
        // Kept even when the slot was taken meanwhile: takePrefetched may be awaiting this very read.
        if (r !== undefined && typeof r !== 'boolean') slot.ready = r;
        if (slot.cancelled || (slot.ready && full(slot.ready))) return;
        if (expectedEnd - performance.now() < 1.5 * this.prepareMs) return;
      }
    };
    const start = () => {
      slot.timer = undefined;
      if (slot.cancelled) return;
      slot.running = run().finally(() => { slot.running = undefined; });
    };
    const delay = current.backlog >= max ? 0 : Math.max(0, (expectedEnd - performance.now()) / 2 - this.prepareMs);
    if (delay > 0) slot.timer = setTimeout(start, delay);
    else start();
    this.prefetch = slot;
  }

  /**
   * The prefetched batch if it is the one the next step must process (it starts right after the batch in flight,
   * `ahead`, or the last commitment that landed), else undefined: nothing prefetched yet, the read failed or found no
   * request, or the enclave ended its batch early. The latest completed read is taken at once (a newer one still
   * running is abandoned); if none has completed, the one running is awaited.
   */
  private async takePrefetched(ahead: InFlight | undefined): Promise<Prepared | undefined> {
    const slot = this.prefetch;
    this.prefetch = undefined;
    if (!slot) return undefined;
    const next = (ahead?.to ?? this.committed) + 1n;
    const running = slot.running;
    const ready = slot.ready;
    this.cancel(slot); // no further reads
    if (slot.from !== next) return undefined;
    if (ready) return ready.from === next ? ready : undefined;
    if (!running) return undefined; // not started yet (the enclave finished early): the step reads afresh
    await running;
    const r = slot.ready as Prepared | undefined; // set by the read that was running
    return r && r.from === next ? r : undefined;
  }

  private dropPrefetch(): void {
    if (this.prefetch) this.cancel(this.prefetch);
    this.prefetch = undefined;
  }

  private cancel(slot: Prefetch): void {
    slot.cancelled = true;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
  }

  /** Largest batch to ask for now (HostOptions.maxBatch, MAX_BATCH_REQUESTS, the failure limit, the output-cap limit). */
  private maxBatchNow(): bigint {
    return BigInt(Math.min(this.o.maxBatch ?? MAX_BATCH_REQUESTS, MAX_BATCH_REQUESTS, this.batchLimit, this.outputCapLimit));
  }

  /**
   * The enclave signed `signed` of the `asked` requests: fewer means it reached its per-batch output cap
   * (docs/protocol.md#caps), and the next batches ask for 90% of what fitted, so that the enclave does not cut them
   * and a batch prefetched to start after the asked `to` is the right one. A full batch that was not cut lets the
   * limit grow back by a sixteenth.
   */
  private noteBatchEnd(asked: number, signed: number): void {
    if (signed < asked) this.outputCapLimit = Math.max(1, Math.floor(signed * 0.9));
    else if (asked >= this.outputCapLimit) this.outputCapLimit = Math.min(MAX_BATCH_REQUESTS, this.outputCapLimit + Math.max(1, Math.floor(this.outputCapLimit / 16)));
  }

  /**
   * The enclave's recent cost, which times the prefetch: ms = fixed + perRequest × requests, each an exponential
   * average (the fixed part from batches of at most 4 requests, the per-request part from larger ones).
   */
  private noteEnclave(ms: number, requests: number): void {
    const e = this.enclaveCost;
    if (requests <= 4) e.fixedMs = 0.7 * e.fixedMs + 0.3 * ms;
    else e.perRequestMs = 0.7 * e.perRequestMs + 0.3 * Math.max(0, (ms - e.fixedMs) / requests);
  }

  /**
   * Wait for the commitment in flight, if any, and clear it. Throws its failure: the next step starts again from the
   * chain's committed position and the enclave re-runs that batch from the proven state.
   */
  private async settle(): Promise<void> {
    const f = this.inflight;
    if (!f) return;
    try {
      await f.landed;
    } finally {
      if (this.inflight === f) this.inflight = undefined;
    }
  }

  /**
   * Gas limit for a commitment, at most min(EIP-7825 cap 2^24, the block gas limit of `headRlp`): the bound computed
   * from its calldata (commitGasBound, no round trip) when it fits that limit and the previous commitment did not
   * fail; otherwise eth_estimateGas plus a margin. An estimate over the limit (or reverting) halves the batch for the
   * next attempt and throws CommitTooLargeError / the estimate's error; nothing is sent.
   */
  private async commitGas(call: CommitCall, headRlp: Hex, size: number): Promise<bigint> {
    const fields = fromRlp(headRlp, 'hex') as Hex[];
    const blockGasLimit = BigInt(fields[9] === '0x' ? 0 : fields[9]!);
    const limit = blockGasLimit > 0n && blockGasLimit < TX_GAS_CAP ? blockGasLimit : TX_GAS_CAP;
    // The calldata bound (docs/protocol.md#commit-gas) for commitBatch unless the last commitment failed (it may have
    // run out of gas: the next is estimated by the node) or in takeover mode (instances race: the estimate's revert
    // costs nothing). A rotation's commitBatchWithEpoch (rare, and it writes more) is always estimated.
    if (call.functionName === 'commitBatch' && this.commitFailures === 0 && !this.follower && !this.o.estimateCommitGas) {
      const bound = commitGasBound(encodeFunctionData({ abi: GeodeCoreAbi, functionName: 'commitBatch', args: call.args }), decodePublicOutputs(call.args[6]).length);
      if (bound <= limit) return bound;
    }
    let estimate: bigint;
    try {
      estimate = call.functionName === 'commitBatch'
        ? await this.pub.estimateContractGas({ account: this.o.operator, address: this.o.contract, abi: GeodeCoreAbi, functionName: 'commitBatch', args: call.args })
        : await this.pub.estimateContractGas({ account: this.o.operator, address: this.o.contract, abi: GeodeCoreAbi, functionName: 'commitBatchWithEpoch', args: call.args });
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

  /**
   * Takeover mode: after a commitment of [from, …] failed, true if another instance committed from `from` first (the
   * contract took theirs, docs/protocol.md#takeover): not a failure of ours, so the batch limit and backoff are reset.
   */
  private async lostRace(from: bigint): Promise<boolean> {
    if (!this.follower) return false;
    const committed = await this.readSlot(SLOT.committedSeq, await this.pub.getBlockNumber()).catch(() => 0n);
    if (committed < from) return false;
    this.commitFailures = 0;
    this.batchLimit = MAX_BATCH_REQUESTS;
    this.log.info({ from: from.toString(), committed: committed.toString() }, 'another instance committed first; following it');
    return true;
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
