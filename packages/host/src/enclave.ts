import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { encodeFrame, FrameDecoder, methods, responseFrame, type Method, type Params, type Result } from '@geode/protocol';
import { EnclaveProtocolError, EnclaveRefusedError, EnclaveUnavailableError } from './errors.ts';

/** How to launch an enclave: the bundled enclave file and its data directory. */
export interface EnclaveLaunch {
  /** Path of the bundled enclave (dist/enclave/<app>.mjs). Its SHA-256 is the simulated mr_enclave. */
  bundle: string;
  /** Directory holding sealed state, keys and the simulated platform secret. */
  dataDir: string;
  /** Path of the simulation PKI JSON (sim TEE only). */
  simPki?: string;
  /** Extra environment for the enclave process. */
  env?: Record<string, string>;
  /** Called with each line the enclave writes to stderr (its log). Default: discard. */
  onLog?: (line: string) => void;
}

interface Pending { resolve(v: unknown): void; reject(e: Error): void; method: Method }

/**
 * The host's handle on one enclave process, speaking the framed stdio transport (docs/protocol.md#transport).
 * Requests are answered in order; results are validated against the protocol schemas before they are returned.
 * Events: 'exit' (code, signal) when the process ends.
 */
export class EnclaveProcess extends EventEmitter {
  private child: ChildProcess | undefined;
  private pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly launch: EnclaveLaunch) {
    super();
  }

  /** The enclave's data directory (where it writes and reads files the host moves, e.g. state snapshots). */
  get dataDir(): string {
    return this.launch.dataDir;
  }

  /** Start the process (no-op if running). */
  start(): void {
    if (this.child && this.child.exitCode === null && !this.child.killed) return;
    // GEODE_ENCLAVE_NODE_ARGS passes extra node flags to the enclave process (e.g. --cpu-prof for profiling).
    const nodeArgs = (process.env.GEODE_ENCLAVE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, this.launch.bundle], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...this.launch.env, GEODE_ENCLAVE_DIR: this.launch.dataDir, ...(this.launch.simPki ? { GEODE_SIM_PKI: this.launch.simPki } : {}) },
    });
    this.child = child;
    const decoder = new FrameDecoder(
      (m) => this.onFrame(m),
      (e) => this.failAll(new EnclaveProtocolError(e.message)),
    );
    child.stdout!.on('data', (c: Buffer) => decoder.push(c));
    let buf = '';
    child.stderr!.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.launch.onLog?.(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    child.stdin!.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.failAll(new EnclaveUnavailableError(`process exited (code ${code}, signal ${signal})`));
      this.emit('exit', code, signal);
    });
    child.on('error', (e) => this.failAll(new EnclaveUnavailableError(e.message)));
  }

  /** True while the process runs. */
  get running(): boolean {
    return !!this.child && this.child.exitCode === null;
  }

  /** PID of the running process, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Call `method` with `params`; resolves with the validated result.
   * Throws EnclaveRefusedError (the enclave's typed refusal, with its code), EnclaveUnavailableError (process gone)
   * or EnclaveProtocolError (malformed response).
   */
  call<M extends Method>(method: M, params?: Params<M>): Promise<Result<M>> {
    if (!this.running) this.start();
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      try {
        this.child!.stdin!.write(encodeFrame({ id, method, params: params ?? {} }));
      } catch (e) {
        this.pending.delete(id);
        reject(new EnclaveUnavailableError(e instanceof Error ? e.message : String(e)));
      }
    });
  }

  /** Stop the process: close its stdin (it exits cleanly when the stream ends), SIGKILL after `graceMs`. Resolves when it has exited. */
  async stop(graceMs = 2000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.stdin?.end();
    });
  }

  /** Kill the process abruptly (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  private onFrame(m: unknown): void {
    const parsed = responseFrame.safeParse(m);
    if (!parsed.success) {
      this.failAll(new EnclaveProtocolError('frame does not match the response schema'));
      return;
    }
    const frame = parsed.data;
    const p = this.pending.get(frame.id);
    if (!p) return;
    this.pending.delete(frame.id);
    if ('error' in frame) {
      p.reject(new EnclaveRefusedError(p.method, frame.error.code, frame.error.message, frame.error.details));
      return;
    }
    const r = methods[p.method].result.safeParse(frame.result);
    if (!r.success) p.reject(new EnclaveProtocolError(`result of ${p.method} is invalid`, { issues: r.error.issues.slice(0, 3) }));
    else p.resolve(r.data);
  }

  private failAll(e: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
  }
}
