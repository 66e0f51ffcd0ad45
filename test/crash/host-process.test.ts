// Crash safety with a real host process: the host runs in a child OS process (test/harness/crash-host.ts) against
// the devnet over HTTP JSON-RPC; the test SIGKILLs the host process, its enclave grandchild, or both, at seeded
// random points while participants keep submitting. After a last host catches up, every request has exactly one
// committed outcome and the results equal the plaintext model.
//
// Reproduce: CRASH_SEED=<printed seed> node scripts/test.mjs test/crash/host-process
import { test } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDevnet } from '@geode/devnet';
import {
  checkAgainstModel, checkExactlyOnce, devOperatorKey, Model, mulberry32, presignRequest, readUint, seedFrom, sendRaw, sleep, startWorkload, waitCommitted,
  type WorkloadComputation,
} from '../harness/crash.ts';

const KILLS = Number(process.env.CRASH_PROCESS_KILLS ?? 12);
const SCRIPT = fileURLToPath(new URL('../harness/crash-host.ts', import.meta.url));

interface HostProc { child: ChildProcess; enclavePids: number[]; ready: Promise<void>; exited: Promise<void> }

test(`crash: host as an OS process, ${KILLS} seeded SIGKILLs of host / enclave / both: exactly once`, { timeout: 300_000 } /* ~30 s quiet; a safety net, not a speed check */, async () => {
  const seed = seedFrom('CRASH_SEED');
  console.log(`host-process crash seed ${seed}`);
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const comps: WorkloadComputation[] = [{ name: 'avg', type: 'average' }, { name: 'hi', type: 'max' }];
  const P = 6;
  const w = await startWorkload({ participants: P, computations: comps, label: 'crash-proc', quorum: 1, stopStackHost: true });
  await w.stack.enclave.stop(); // the host processes own the enclave from here on
  const server = await serveDevnet(w.stack.devnet!, { port: 0 });
  const cfg = JSON.stringify({
    rpcUrl: server.url, contract: w.contract, config: w.stack.deployment.config, fromBlock: w.stack.deployment.fromBlock.toString(),
    operatorKey: devOperatorKey(), bundle: w.stack.app.bundle, dataDir: join(w.stack.dataDir, 'enclave'), simPki: join(w.stack.dataDir, 'sim-pki.json'),
  });
  const procs: HostProc[] = [];
  const spawnHost = (): HostProc => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], { env: { ...process.env, GEODE_CRASH_HOST: cfg }, stdio: ['ignore', 'pipe', 'inherit'] });
    const hp: HostProc = { child, enclavePids: [], ready: undefined as never, exited: new Promise((r) => child.once('exit', () => r())) };
    hp.ready = new Promise((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
          const line = buf.slice(0, i);
          if (line === 'ready') resolve();
          const m = /^enclave (\d+)$/.exec(line);
          if (m) hp.enclavePids.push(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`host process exited early (${code})`)));
    });
    hp.ready.catch(() => undefined);
    procs.push(hp);
    return hp;
  };
  const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  try {
    let hp = spawnHost();
    await hp.ready;
    const model = new Model();
    const sent: bigint[][] = Array.from({ length: P }, () => []);
    const kinds = { host: 0, enclave: 0, both: 0 };
    for (let k = 0; k < KILLS; k++) {
      const burst = int(5, 20);
      for (let i = 0; i < burst; i++) {
        const p = int(0, P - 1);
        const c = comps[int(0, comps.length - 1)]!;
        const value = int(-500, 500);
        const seq = await sendRaw(w, await presignRequest(w, p, { op: 'submit', computation: c.name, value }));
        model.submit(c.name, p, value, seq);
        sent[p]!.push(seq);
      }
      await sleep(int(0, 800));
      const r = rnd();
      const target = r < 0.4 ? 'host' : r < 0.7 ? 'enclave' : 'both';
      kinds[target]++;
      const epid = hp.enclavePids.at(-1);
      if (target !== 'host' && epid !== undefined && alive(epid)) process.kill(epid, 'SIGKILL');
      if (target !== 'enclave') {
        hp.child.kill('SIGKILL');
        await hp.exited;
        hp = spawnHost();
        await hp.ready;
      }
    }
    for (const c of comps) for (let p = 0; p < P; p++) sent[p]!.push(await sendRaw(w, await presignRequest(w, p, { op: 'result', computation: c.name })));
    await waitCommitted(w, await readUint(w, 'requestCount'), 60_000);
    const { n, batches, received } = await checkExactlyOnce(w, sent);
    checkAgainstModel(w, model, comps, sent, received);
    const enclaves = procs.reduce((a, p) => a + p.enclavePids.length, 0);
    console.log(`host-process crash: ${n} requests, ${batches} batches, kills ${JSON.stringify(kinds)}, ${procs.length} host processes, ${enclaves} enclave processes`);
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGKILL'); await p.exited; }
    for (const p of procs) for (const e of p.enclavePids) if (alive(e)) process.kill(e, 'SIGKILL');
    await server.close();
    await w.stack.stop();
  }
});
