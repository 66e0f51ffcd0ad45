/**
 * CPU time by where it is spent, for the pipeline benchmark (Linux procfs, proc(5)): the benchmark's own process
 * split by thread (its JavaScript main thread, which runs the submitters, the host and the devnet's JSON glue; the
 * embedded devnet's EDR threads, which execute and mine every transaction; Node's worker threads: GC, libuv) and
 * the enclave's OS process. Read twice and subtracted (cpuDelta): what the timed run cost, not the process's life.
 *
 * Times are utime + stime in milliseconds at the kernel's clock-tick resolution (sysconf(_SC_CLK_TCK), 100 Hz on
 * Linux: 10 ms granularity, fine over a run of seconds). On a system without /proc every figure is undefined.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU milliseconds per part, cumulative since each thread/process started. */
export interface CpuSample {
  /** The benchmark process's main thread (JavaScript: submitters, host relayer, devnet request glue). */
  js: number;
  /** The embedded devnet's native EDR threads (tokio runtime, edr-provider): EVM execution, mining, RPC handling. */
  devnet: number;
  /** Node's other threads in the benchmark process (V8 GC and compiler workers, libuv pool). */
  nodeWorkers: number;
  /** The enclave process (its own OS process). */
  enclave: number;
}

/** Linux's USER_HZ: /proc times are in these ticks (sysconf(_SC_CLK_TCK), 100 on every mainstream architecture). */
const TICKS_PER_SECOND = 100;
/** Thread names (comm) of EDR's native threads (@nomicfoundation/edr: a tokio runtime and its provider thread). */
const EDR_THREADS = new Set(['tokio-rt-worker', 'edr-provider', 'async-deallocat']);

/** utime + stime of a /proc/…/stat line in ms (fields 14 and 15; the comm field may hold spaces, so split after ')'). */
function statMs(path: string): number {
  const s = readFileSync(path, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): utime is field 14, stime 15.
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;
}

/**
 * Sample the CPU time of this process's threads and of `enclavePid`. Returns undefined when /proc is unavailable
 * (not Linux) or the enclave process is gone. A thread that exits between listing and reading is skipped.
 */
export function cpuSample(enclavePid: number | undefined): CpuSample | undefined {
  try {
    const out: CpuSample = { js: 0, devnet: 0, nodeWorkers: 0, enclave: enclavePid ? statMs(`/proc/${enclavePid}/stat`) : 0 };
    for (const tid of readdirSync('/proc/self/task')) {
      let ms: number;
      let comm: string;
      try {
        ms = statMs(`/proc/self/task/${tid}/stat`);
        comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      if (Number(tid) === process.pid) out.js += ms;
      else if (EDR_THREADS.has(comm)) out.devnet += ms;
      else out.nodeWorkers += ms;
    }
    return out;
  } catch {
    return undefined;
  }
}

/** b - a per part (milliseconds), or undefined when either sample is. */
export function cpuDelta(a: CpuSample | undefined, b: CpuSample | undefined): CpuSample | undefined {
  if (!a || !b) return undefined;
  return { js: b.js - a.js, devnet: b.devnet - a.devnet, nodeWorkers: b.nodeWorkers - a.nodeWorkers, enclave: b.enclave - a.enclave };
}
