// Crash safety: SIGKILL the enclave and abandon the host at seeded random points during a long run of encrypted
// submissions; after recovery every request 1..N has exactly one committed outcome (BatchCommitted ranges tile 1..N,
// each participant decrypts exactly one output per request it sent) and the locked results equal a plaintext model.
//
// "Killing" the in-process host = freezing its chain transport forever (every in-flight and later request never
// settles, so its promises are abandoned mid-step, possibly after a transaction reached the node) and starting a
// new Host on the same enclave and contract. test/crash/host-process.test.ts kills a host OS process for real.
//
// Reproduce a run: CRASH_SEED=<seed printed below> node scripts/test.mjs test/crash/kill
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkAgainstModel, checkExactlyOnce, readUint, startHostIncarnation, Model, mulberry32, presignRequest, seedFrom, sendRaw, sleep, startWorkload, waitCommitted,
  type HostIncarnation, type WorkloadComputation,
} from '../harness/crash.ts';

const KILLS = Number(process.env.CRASH_KILLS ?? 50);

test(`crash: ${KILLS} seeded kill points (enclave SIGKILL, host abandoned, both) over ~${KILLS * 6} requests: exactly once`, { timeout: 150_000 }, async () => {
  const seed = seedFrom('CRASH_SEED');
  console.log(`crash seed ${seed} (CRASH_SEED=${seed} reproduces the schedule)`);
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const comps: WorkloadComputation[] = [{ name: 'avg', type: 'average' }, { name: 'hi', type: 'max' }, { name: 'lo', type: 'min' }];
  const P = 8;
  const w = await startWorkload({ participants: P, computations: comps, label: 'crash-kill', quorum: 1, stopStackHost: true, logLevel: process.env.CRASH_LOG ?? 'silent' });
  const hosts: HostIncarnation[] = [];
  const startHost = async () => { hosts.push(await startHostIncarnation(w)); };
  try {
    await startHost();
    const model = new Model();
    const sent: bigint[][] = Array.from({ length: P }, () => []);
    const kinds = { enclave: 0, host: 0, both: 0 };
    let enclaveRestarts = 0;
    const pidsSeen = new Set<number>();
    for (let k = 0; k < KILLS; k++) {
      const burst = int(2, 10);
      for (let i = 0; i < burst; i++) {
        const p = int(0, P - 1);
        const c = comps[int(0, comps.length - 1)]!;
        const value = int(-1000, 1000) / 4;
        const seq = await sendRaw(w, await presignRequest(w, p, { op: 'submit', computation: c.name, value }));
        model.submit(c.name, p, value, seq);
        sent[p]!.push(seq);
      }
      if (process.env.CRASH_DEBUG) console.error(`kill ${k}: committed ${await readUint(w, 'committedSeq')} / ${await readUint(w, 'requestCount')}`);
      await sleep(int(0, 400));
      const r = rnd();
      const target = r < 0.4 ? 'enclave' : r < 0.8 ? 'host' : 'both';
      kinds[target]++;
      if (target !== 'enclave') hosts.at(-1)!.kill();
      if (target !== 'host') {
        const pid = w.stack.enclave.pid;
        if (pid !== undefined) { pidsSeen.add(pid); enclaveRestarts++; }
        await w.stack.enclave.kill();
      }
      if (target !== 'enclave') await startHost();
    }
    // Results: every participant asks for every result (the first one locks it).
    for (const c of comps) {
      for (let p = 0; p < P; p++) {
        const seq = await sendRaw(w, await presignRequest(w, p, { op: 'result', computation: c.name }));
        sent[p]!.push(seq);
      }
    }
    const n = await readUint(w, 'requestCount');
    await waitCommitted(w, n, 60_000);
    const { batches, received } = await checkExactlyOnce(w, sent);
    // Every submit was accepted (no session churn, no decrypt failure), every result equals the model.
    checkAgainstModel(w, model, comps, sent, received, { submitsAccepted: true });
        console.log(`crash: ${n} requests, ${batches} batches, kills ${JSON.stringify(kinds)}, ${enclaveRestarts} enclave SIGKILLs (${pidsSeen.size} pids), ${hosts.length} hosts`);
    assert.ok(kinds.enclave + kinds.both > 0 && kinds.host + kinds.both > 0, 'both targets were hit');
  } finally {
    const live = hosts.at(-1);
    if (live && !live.dead) await live.host.stop();
    for (const h of hosts) h.kill();
    await w.stack.stop();
  }
});
