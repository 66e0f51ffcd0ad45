import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HpkeOpenError, hpkeOpen, hpkeSeal } from '@geode/protocol';
import { jobEphemeralIkm, type OpenJob, type PoolReply, type PoolRequest, type SealJob, type Sealed } from './jobs.ts';

/**
 * A pool of worker threads inside the enclave process that run HPKE opens and seals (RFC 9180, @geode/protocol's
 * hpkeOpen / hpkeSeal, unchanged) off the main thread, so that a batch's decryptions and output encryptions use
 * the machine's other cores while the main thread verifies and applies requests in order (docs/enclave.md#hpke-pool).
 *
 * Results are the same bytes as the inline functions give: a job is a pure function of its inputs (an output's
 * ephemeral key material is given, or derived from the job's OutputEkmInput by the same pure function on every
 * thread, output-ekm.ts), so which thread ran it,
 * and in what order, changes nothing a follower recomputes. The workers run source compiled into the measured
 * bundle (build.ts defines GEODE_HPKE_WORKER_SOURCE); nothing is loaded from disk at run time. Without that source
 * (an unbundled enclave, e.g. in-process tests), with GEODE_HPKE_WORKERS=0, or after a worker fails, jobs run inline
 * on the main thread: slower, never different. The worker count is a host choice that only changes speed.
 *
 * Jobs are queued and sent in chunks of up to CHUNK (or when the main thread yields) to the least loaded worker.
 */
export class HpkePool {
  private readonly workers: PoolWorker[] = [];
  private opens: Queued<OpenJob, Uint8Array>[] = [];
  private seals: Queued<SealJob, Sealed>[] = [];
  private flushScheduled = false;
  private nextId = 1;

  /**
   * `source`: the worker's CommonJS source (worker.ts bundled), or undefined to run every job inline.
   * `size`: number of worker threads (0 = inline), at most POOL_MAX.
   */
  constructor(source: string | undefined, size: number) {
    const n = source === undefined ? 0 : Math.max(0, Math.min(POOL_MAX, Math.floor(size)));
    for (let i = 0; i < n; i++) this.workers.push(this.spawn(source!));
  }

  /** Number of live worker threads (0: every job runs inline). */
  get size(): number {
    return this.workers.length;
  }

  /** hpkeOpen(job...): the plaintext; rejects with HpkeOpenError when it does not open. */
  open(job: OpenJob): Promise<Uint8Array> {
    if (this.workers.length === 0) return openInline(job);
    return new Promise((resolve, reject) => this.enqueue(this.opens, { job, resolve, reject }));
  }

  /** hpkeSeal(job...) with the job's ephemeral key material: { enc, ciphertext }; rejects when it cannot seal. */
  seal(job: SealJob): Promise<Sealed> {
    if (this.workers.length === 0) return sealInline(job);
    return new Promise((resolve, reject) => this.enqueue(this.seals, { job, resolve, reject }));
  }

  /** Stop the workers; later jobs run inline. */
  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    await Promise.all(ws.map((w) => w.worker.terminate()));
  }

  private enqueue<J, R>(q: Queued<J, R>[], e: Queued<J, R>): void {
    q.push(e);
    if (q.length >= CHUNK) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.opens.length > 0) this.send('open', this.opens.splice(0, CHUNK));
    while (this.seals.length > 0) this.send('seal', this.seals.splice(0, CHUNK));
  }

  private send(kind: 'open' | 'seal', entries: Queued<OpenJob, Uint8Array>[] | Queued<SealJob, Sealed>[]): void {
    const w = this.workers.reduce<PoolWorker | undefined>((best, x) => (!best || x.load < best.load ? x : best), undefined);
    if (!w) return runInline(kind, entries);
    const id = this.nextId++;
    w.inFlight.set(id, { kind, entries });
    w.load += entries.length;
    if (w.inFlight.size === 1) w.worker.ref(); // keep the process alive while a worker owes results
    const msg: PoolRequest = kind === 'open'
      ? { id, kind, jobs: (entries as Queued<OpenJob, Uint8Array>[]).map((e) => e.job) }
      : { id, kind, jobs: (entries as Queued<SealJob, Sealed>[]).map((e) => e.job) };
    w.worker.postMessage(msg);
  }

  private spawn(source: string): PoolWorker {
    // Profiling flags carry over (GEODE_ENCLAVE_NODE_ARGS=--cpu-prof profiles the workers too); nothing else does.
    const execArgv = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
    const worker = new Worker(source, { eval: true, execArgv });
    worker.unref();
    const pw: PoolWorker = { worker, inFlight: new Map(), load: 0 };
    worker.on('message', (m: PoolReply) => {
      const chunk = pw.inFlight.get(m.id);
      if (!chunk) return;
      pw.inFlight.delete(m.id);
      pw.load -= chunk.entries.length;
      if (pw.inFlight.size === 0) worker.unref();
      chunk.entries.forEach((e, i) => {
        const r = m.results[i];
        if (r === null || r === undefined) e.reject(chunk.kind === 'open' ? new HpkeOpenError() : new Error('HPKE seal failed'));
        else (e.resolve as (v: unknown) => void)(r);
      });
    });
    // A worker that fails (error, exit) is dropped; what it owed is computed inline, so no job is lost or different.
    const drop = () => {
      const i = this.workers.indexOf(pw);
      if (i < 0) return;
      this.workers.splice(i, 1);
      for (const c of pw.inFlight.values()) runInline(c.kind, c.entries);
      pw.inFlight.clear();
    };
    worker.on('error', drop);
    worker.on('exit', drop);
    return pw;
  }
}

/** Most worker threads a pool runs. */
export const POOL_MAX = 4;
/** Most jobs in one message to a worker. */
export const CHUNK = 16;

interface Queued<J, R> { job: J; resolve(v: R): void; reject(e: unknown): void }
interface PoolWorker {
  worker: Worker;
  inFlight: Map<number, { kind: 'open' | 'seal'; entries: Queued<OpenJob, Uint8Array>[] | Queued<SealJob, Sealed>[] }>;
  /** Jobs sent and not answered. */
  load: number;
}

const openInline = (j: OpenJob): Promise<Uint8Array> => hpkeOpen(j.privateKey, j.enc, j.info, j.aad, j.ciphertext);
const sealInline = async (j: SealJob): Promise<Sealed> => hpkeSeal(j.recipientKey, j.info, j.aad, j.plaintext, jobEphemeralIkm(j));

function runInline(kind: 'open' | 'seal', entries: Queued<OpenJob, Uint8Array>[] | Queued<SealJob, Sealed>[]): void {
  if (kind === 'open') for (const e of entries as Queued<OpenJob, Uint8Array>[]) openInline(e.job).then(e.resolve, e.reject);
  else for (const e of entries as Queued<SealJob, Sealed>[]) sealInline(e.job).then(e.resolve, e.reject);
}

declare const GEODE_HPKE_WORKER_SOURCE: string | undefined;

let shared: HpkePool | undefined;

/**
 * The process's pool: workers from the bundle's compiled-in source, GEODE_HPKE_WORKERS of them (0..POOL_MAX;
 * default one less than the number of cores, at most POOL_MAX: the main thread keeps a core, and on a 2-core machine
 * shared with the chain and the host one worker measured best, docs/enclave.md "Batch cost per request"). Inline when the enclave is
 * not bundled.
 */
export function sharedHpkePool(): HpkePool {
  if (!shared) {
    const source = typeof GEODE_HPKE_WORKER_SOURCE === 'string' ? GEODE_HPKE_WORKER_SOURCE : undefined;
    const env = process.env.GEODE_HPKE_WORKERS;
    const size = env !== undefined && /^\d+$/.test(env) ? Number(env) : Math.max(0, Math.min(POOL_MAX, availableParallelism() - 1));
    shared = new HpkePool(source, size);
  }
  return shared;
}
