import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HpkeOpenError, hpkeOpen, hpkeSeal } from '@geode/protocol';
import { eventLoopTurn } from '../event-loop.ts';
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
 * Jobs are queued here and sent in chunks of up to CHUNK, when the main thread yields, to a worker holding fewer
 * than WINDOW unanswered chunks; the rest wait here, where the main thread takes what it needs before the workers
 * reach it (now) and, at the end of a batch, the newest jobs while the workers take the oldest (drain). Which thread
 * runs a job changes only when its result is ready.
 */
export class HpkePool {
  private readonly workers: PoolWorker[] = [];
  private opens: Queued<OpenJob, Uint8Array>[] = [];
  private seals: Queued<SealJob, Sealed>[] = [];
  /** The queue entry of each promise open/seal returned (now() runs it here if no thread has taken it yet). */
  private readonly entries = new WeakMap<Promise<unknown>, Entry>();
  private pumpScheduled = false;
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

  /** Jobs sent to workers and jobs run on the calling thread so far (diagnostics and tests). */
  get counts(): { worker: number; inline: number } {
    return { ...this.ran };
  }
  private readonly ran = { worker: 0, inline: 0 };

  /** hpkeOpen(job...): the plaintext; rejects with HpkeOpenError when it does not open. */
  open(job: OpenJob): Promise<Uint8Array> {
    if (this.workers.length === 0) return openInline(job);
    const { entry, promise } = queued<OpenJob, Uint8Array>('open', job);
    this.opens.push(entry);
    return this.enqueued(promise, entry);
  }

  /** hpkeSeal(job...) with the job's ephemeral key material: { enc, ciphertext }; rejects when it cannot seal. */
  seal(job: SealJob): Promise<Sealed> {
    if (this.workers.length === 0) return sealInline(job);
    const { entry, promise } = queued<SealJob, Sealed>('seal', job);
    this.seals.push(entry);
    return this.enqueued(promise, entry);
  }

  /**
   * `p` (a promise open or seal returned), computed now on the calling thread if its job is still queued here, so
   * a main thread that needs a result the workers have not reached yet works instead of waiting; otherwise `p`.
   */
  now<T>(p: Promise<T>): Promise<T> {
    const e = this.entries.get(p);
    if (e && !e.taken) {
      this.ran.inline++;
      runInline([e]);
    }
    return p;
  }

  /**
   * Compute every seal still queued here on the calling thread, the newest first (the workers take the oldest), and
   * resolve when those are done: at the end of a batch the main thread seals alongside the workers. Opens are left
   * to the workers: one still queued at the end of a batch belongs to a request the batch did not reach.
   */
  async drain(): Promise<void> {
    this.pump();
    const queuedNow: Entry[] = [...this.seals];
    for (let i = queuedNow.length - 1; i >= 0; i--) {
      const e = queuedNow[i]!;
      if (e.taken) continue;
      this.ran.inline++;
      runInline([e]);
      // One job at a time, and a turn of the event loop after each: a worker's answer in between frees it for the
      // oldest queued ones (pump on its message).
      await e.done;
      await eventLoopTurn();
    }
    await Promise.allSettled(queuedNow.map((e) => e.done ?? e.promise));
  }

  /** Stop the workers; later jobs run inline. */
  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    await Promise.all(ws.map((w) => w.worker.terminate()));
  }

  private enqueued<R>(promise: Promise<R>, entry: Entry): Promise<R> {
    this.entries.set(promise, entry);
    // A full chunk goes out at once (a loop that never yields still feeds the workers); the rest when it yields.
    if (this.opens.length + this.seals.length >= CHUNK) this.pump();
    else if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
    return promise;
  }

  /**
   * Send queued jobs, opens first, in chunks of up to CHUNK to workers holding fewer than WINDOW unanswered chunks.
   * Jobs beyond the window stay queued here, where now() and drain() can run them on the calling thread.
   */
  private pump(): void {
    for (;;) {
      const w = this.workers.reduce<PoolWorker | undefined>((best, x) => (x.inFlight.size < WINDOW && (!best || x.load < best.load) ? x : best), undefined);
      if (!w) return;
      const opens = takeQueued(this.opens);
      if (opens.length > 0) {
        this.send(w, 'open', opens);
        continue;
      }
      const seals = takeQueued(this.seals);
      if (seals.length === 0) return;
      this.send(w, 'seal', seals);
    }
  }

  private send(w: PoolWorker, kind: 'open' | 'seal', entries: Queued<OpenJob, Uint8Array>[] | Queued<SealJob, Sealed>[]): void {
    const id = this.nextId++;
    this.ran.worker += entries.length;
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
      this.pump();
    });
    // A worker that fails (error, exit) is dropped; what it owed is computed inline, so no job is lost or different.
    const drop = () => {
      const i = this.workers.indexOf(pw);
      if (i < 0) return;
      this.workers.splice(i, 1);
      for (const c of pw.inFlight.values()) runInline(c.entries);
      pw.inFlight.clear();
      if (this.workers.length === 0) {
        runInline(takeQueued(this.opens, Infinity));
        runInline(takeQueued(this.seals, Infinity));
      } else this.pump();
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
/** Most unanswered chunks a worker holds: enough that it never waits for the main thread, few enough that now() and drain() find work. */
export const WINDOW = 2;

/**
 * A job, its promise and the promise's ends. `taken`: sent to a worker or run inline (each job runs once); `done`
 * settles when an inline run has (never rejects).
 */
interface Queued<J, R> { kind: 'open' | 'seal'; job: J; promise: Promise<R>; resolve(v: R): void; reject(e: unknown): void; taken: boolean; done?: Promise<void> }
type Entry = Queued<OpenJob, Uint8Array> | Queued<SealJob, Sealed>;

/** A new queue entry for `job` and the promise it settles. */
function queued<J, R>(kind: 'open' | 'seal', job: J): { entry: Queued<J, R>; promise: Promise<R> } {
  let resolve!: (v: R) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<R>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { entry: { kind, job, promise, resolve, reject, taken: false }, promise };
}
interface PoolWorker {
  worker: Worker;
  inFlight: Map<number, { kind: 'open' | 'seal'; entries: Queued<OpenJob, Uint8Array>[] | Queued<SealJob, Sealed>[] }>;
  /** Jobs sent and not answered. */
  load: number;
}

const openInline = (j: OpenJob): Promise<Uint8Array> => hpkeOpen(j.privateKey, j.enc, j.info, j.aad, j.ciphertext);
const sealInline = async (j: SealJob): Promise<Sealed> => hpkeSeal(j.recipientKey, j.info, j.aad, j.plaintext, jobEphemeralIkm(j));

/** Up to `n` queued jobs not yet taken, oldest first, marked taken; the queue keeps only what is left. */
function takeQueued<E extends { taken: boolean }>(q: E[], n = CHUNK): E[] {
  const out: E[] = [];
  let i = 0;
  for (; i < q.length && out.length < n; i++) {
    const e = q[i]!;
    if (e.taken) continue;
    e.taken = true;
    out.push(e);
  }
  q.splice(0, i);
  return out;
}

/** Run `entries` on this thread (marked taken), each settling its promise; `done` resolves when it has. */
function runInline(entries: readonly Entry[]): void {
  for (const e of entries) {
    e.taken = true;
    e.done = isOpen(e) ? openInline(e.job).then(e.resolve, e.reject) : sealInline(e.job).then(e.resolve, e.reject);
  }
}

const isOpen = (e: Entry): e is Queued<OpenJob, Uint8Array> => e.kind === 'open';

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
