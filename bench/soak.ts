/**
 * Soak run (`npm run soak`): SOAK_N (default 10,000) encrypted submissions from SOAK_P (default 200) participants
 * through the whole pipeline, with the enclave process SIGKILLed every SOAK_KILL_MS (default 3000) ms and
 * restarted by the Host. At the end every participant asks for every result; each answer is checked against a
 * plaintext model computed here from the submitted values, and exactly-once delivery is checked for every request
 * (BatchCommitted ranges tile 1..N, one decrypted output per request per sender).
 *
 * Prints throughput, submit->commit latency p50/p99, peak RSS of the host process and of the enclave processes
 * (VmHWM from /proc/<pid>/status, max over every enclave incarnation), and the number of enclave restarts.
 * Exits non-zero on any mismatch or when the run exceeds SOAK_MAX_S (default 900) seconds.
 *
 * Env: SOAK_N, SOAK_P, SOAK_KILL_MS, SOAK_CONCURRENCY (default 32), SOAK_SEED, SOAK_MAX_S.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Hex } from 'viem';
import {
  checkExactlyOnce, Model, mulberry32, normaliseResult, presignRequest, readUint, seedFrom, sendRaw, startWorkload, waitCommitted,
  type WorkloadComputation,
} from '../test/harness/crash.ts';

const N = Number(process.env.SOAK_N ?? 10_000);
const P = Number(process.env.SOAK_P ?? 200);
const KILL_MS = Number(process.env.SOAK_KILL_MS ?? 3000);
const CONC = Number(process.env.SOAK_CONCURRENCY ?? 32);
const MAX_S = Number(process.env.SOAK_MAX_S ?? 900);
const log = (s: string) => process.stderr.write(`${s}\n`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;

/** VmHWM and VmRSS of a pid in KiB (Linux /proc), or undefined if the process is gone. */
function procMem(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
    const rss = /VmRSS:\s+(\d+) kB/.exec(s);
    return hwm && rss ? { hwm: Number(hwm[1]), rss: Number(rss[1]) } : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const deadline = Date.now() + MAX_S * 1000;
  const seed = seedFrom('SOAK_SEED');
  log(`soak: N=${N} submissions from P=${P} participants, ${CONC} in flight, enclave SIGKILL every ${KILL_MS} ms, seed ${seed}`);
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const comps: WorkloadComputation[] = [
    { name: 'avg-a', type: 'average' }, { name: 'avg-b', type: 'average' }, { name: 'max', type: 'max' }, { name: 'min', type: 'min' },
  ];
  log('… stack, participants, output keys, computations');
  const w = await startWorkload({ participants: P, computations: comps, label: 'soak', quorum: 1 });
  const { stack } = w;
  let failures = 0;
  const fail = (m: string) => { failures++; if (failures <= 20) log(`MISMATCH: ${m}`); };
  const enclaveHwm = new Map<number, number>();
  let enclaveRssPeak = 0;
  let hostRssPeak = 0;
  const sampler = setInterval(() => {
    hostRssPeak = Math.max(hostRssPeak, process.memoryUsage().rss / 1024);
    const pid = stack.enclave.pid;
    if (pid === undefined) return;
    const m = procMem(pid);
    if (m) { enclaveHwm.set(pid, Math.max(enclaveHwm.get(pid) ?? 0, m.hwm)); enclaveRssPeak = Math.max(enclaveRssPeak, m.rss); }
  }, 100);
  try {
    // Plan: per participant an ordered list of submissions (order = nonce order = seq order for that participant).
    log(`… ${P} clients encrypt and sign ${N} submissions (HPKE to the session key)`);
    const plan: { p: number; comp: string; value: number; tx: Hex }[][] = Array.from({ length: P }, () => []);
    const tPrep = performance.now();
    for (let k = 0; k < N; k++) {
      const p = k % P;
      const c = comps[int(0, comps.length - 1)]!;
      const value = c.type === 'average' ? int(-1_000_000, 1_000_000) / 8 : int(-5000, 5000);
      plan[p]!.push({ p, comp: c.name, value, tx: await presignRequest(w, p, { op: 'submit', computation: c.name, value }) });
    }
    log(`  ${((performance.now() - tPrep) / N).toFixed(2)} ms per request (not timed)`);
    const model = new Model();
    const sent: bigint[][] = Array.from({ length: P }, () => []);
    const startedAt = new Map<bigint, number>();
    const latencies: number[] = [];
    stack.host.on('batch', (b: { from: bigint; to: bigint }) => {
      const t = performance.now();
      for (let s = b.from; s <= b.to; s++) {
        const t0 = startedAt.get(s);
        if (t0 !== undefined) { latencies.push(t - t0); startedAt.delete(s); }
      }
    });
    let restarts = 0;
    const killer = setInterval(() => {
      const pid = stack.enclave.pid;
      if (pid === undefined) return;
      try { process.kill(pid, 'SIGKILL'); restarts++; } catch { /* already gone */ }
    }, KILL_MS);
    log('… timed run: submit, batch, prove, process in the enclave (killed periodically), commit');
    const t0 = performance.now();
    const workers = Array.from({ length: CONC }, (_, j) => (async () => {
      for (let p = j; p < P; p += CONC) {
        for (const s of plan[p]!) {
          if (Date.now() > deadline) throw new Error(`soak exceeded ${MAX_S} s`);
          const st = performance.now();
          const seq = await sendRaw(w, s.tx);
          startedAt.set(seq, st);
          model.submit(s.comp, p, s.value, seq);
          sent[p]!.push(seq);
        }
      }
    })());
    await Promise.all(workers);
    const tSent = performance.now();
    const lastSubmit = await readUint(w, 'requestCount');
    await waitCommitted(w, lastSubmit, Math.max(1, deadline - Date.now()));
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(killer);
    log(`… ${N} submissions committed in ${elapsed.toFixed(1)} s; ${restarts} enclave SIGKILLs; result requests`);
    for (const c of comps) for (let p = 0; p < P; p++) sent[p]!.push(await sendRaw(w, await presignRequest(w, p, { op: 'result', computation: c.name })));
    await waitCommitted(w, await readUint(w, 'requestCount'), Math.max(1, deadline - Date.now()));
    log('… checking exactly-once delivery and every result against the model');
    let received;
    try {
      received = (await checkExactlyOnce(w, sent)).received;
    } catch (e) {
      fail((e as Error).message);
    }
    const expected = new Map(comps.map((c) => [c.name, model.result(c, w.ids)]));
    let results = 0;
    if (received) {
      for (let p = 0; p < P; p++) {
        for (const seq of sent[p]!) {
          const m = received[p]!.get(seq.toString())?.[0];
          if (!m || !m.ok) { fail(`p${p} request ${seq}: ${JSON.stringify(m)}`); continue; }
          const msg = m.message as { op: string; computation: string; result: unknown };
          if (msg.op !== 'result') continue;
          results++;
          const got = normaliseResult(msg.result);
          if (!isDeepStrictEqual(got, expected.get(msg.computation))) fail(`p${p} ${msg.computation}: got ${JSON.stringify(got)}, model ${JSON.stringify(expected.get(msg.computation))}`);
        }
      }
    }
    if (results !== P * comps.length) fail(`${results} result outputs checked, expected ${P * comps.length}`);
    const hostMaxRss = process.resourceUsage().maxRSS; // KiB
    const enclavePeak = Math.max(0, ...enclaveHwm.values());
    const rep = {
      ok: failures === 0, seed, requests: N, participants: P, concurrency: CONC, killEveryMs: KILL_MS,
      enclaveRestarts: restarts, enclaveProcesses: enclaveHwm.size,
      throughputRps: Math.round(N / elapsed), submitRps: Math.round(N / ((tSent - t0) / 1000)), elapsedS: Number(elapsed.toFixed(1)),
      latencyMs: { p50: Math.round(pct(latencies, 50)), p99: Math.round(pct(latencies, 99)), samples: latencies.length },
      peakRss: { hostMiB: Math.round(Math.max(hostMaxRss, hostRssPeak) / 1024), enclaveMiB: Math.round(enclavePeak / 1024), enclaveSampledRssMiB: Math.round(enclaveRssPeak / 1024) },
      resultsChecked: results, mismatches: failures,
    };
    console.log(`throughput          ${rep.throughputRps} requests/s end to end (${N} in ${rep.elapsedS} s; submission alone ${rep.submitRps}/s)`);
    console.log(`latency             p50 ${rep.latencyMs.p50} ms, p99 ${rep.latencyMs.p99} ms (submit -> commitment landed, ${latencies.length} samples)`);
    console.log(`peak RSS            host ${mb(Math.max(hostMaxRss, hostRssPeak))} (maxRSS, includes the in-process devnet), enclave ${mb(enclavePeak)} (VmHWM, max over ${enclaveHwm.size} processes)`);
    console.log(`enclave restarts    ${restarts} SIGKILLs, every one recovered by the Host`);
    console.log(`model check         ${results} result outputs vs the plaintext model, exactly-once over ${sent.reduce((a, s) => a + s.length, 0)} requests: ${failures === 0 ? 'OK' : `${failures} MISMATCHES`}`);
    console.log(JSON.stringify(rep));
    return failures === 0 ? 0 : 1;
  } finally {
    clearInterval(sampler);
    await stack.stop();
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
