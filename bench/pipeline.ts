/**
 * End-to-end pipeline benchmark (`npm run bench`): N encrypted submissions from P participants go through the
 * whole pipeline — HPKE encryption, signed transactions on the embedded devnet, the host's batching, header and
 * storage proofs, the enclave's verification, decryption, handling, output encryption and sealing, and the signed
 * commitment landing on-chain. Measured in the same run: the devnet's raw transaction throughput (pre-signed
 * plain transfers sent by the workload's own submitter code, submitAll, with one in flight and with BENCH_CONCURRENCY
 * in flight; the larger rate counts) as the ceiling, and the CPU per request of each process and thread (bench/cpu.ts:
 * JavaScript main thread, the devnet's EDR threads, Node workers, the enclave process) against the CPU per raw
 * transfer (docs/protocol.md#pipeline-cost).
 *
 * Env: BENCH_N (default 4000), BENCH_P participants (default 200), BENCH_CONCURRENCY in-flight submissions (default 32),
 * BENCH_PIPELINED=0 to run the host one batch at a time (default: stages overlapped, docs/protocol.md#pipelining).
 * BENCH_HOST=0: the same submissions with the host stopped (nothing batched, proven or committed), against the same
 * ceiling: the workload's own submission rate, the most any pipeline could reach on this devnet.
 *
 * Backlog mode, BENCH_BACKLOG=1: the host is stopped while the N submissions land, then started; it drains the backlog
 * in full batches (MAX_BATCH_REQUESTS) with no submissions competing for the machine. Reports the drain rate and the
 * enclave's cost per request in those large batches: the `enclave` stage (wall) and the enclave process's CPU, per
 * request (issue 8's "enclave cost per request in a large batch", measured without the chain's submission load).
 *
 * Paced mode, BENCH_RATE=<requests per second> (e.g. 20): submissions are sent at that rate (open loop, one every
 * 1/rate s, BENCH_N default 300) and the latency from submission to committed result is reported (p50, p90, p99).
 *
 * Where the time goes: per batch the host's stages (BatchEvent.stages: head, log scan, proof, enclave, waiting for
 * the previous commitment, gas limit, commitment transaction, receipt; head/logs/proof of a prefetched batch were read
 * while the enclave ran the previous one), how busy the enclave was over the timed run (sum of its batch times /
 * elapsed: near 100% means the enclave bounds the throughput), and per submission the client's
 * eth_sendRawTransaction and receipt. The receipt a submitter reads (to learn its seq) is read outside the timed
 * path in throughput mode; in paced mode latency runs from just before eth_sendRawTransaction.
 */
import { encodeFunctionData, keccak256, parseEther, parseGwei, toBytes, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createIdentity, GeodeClient, verifyActiveSession, type Identity } from '@geode/client';
import { devAccounts, startDevnet } from '@geode/devnet';
import { GeodeCoreAbi } from '@geode/contracts';
import { encodeRequest } from '@geode/app-computations';
import { startDevStack } from '../packages/cli/src/stack.ts';
import type { BatchEvent } from '@geode/host';
import { createComputation } from '../apps/computations/src/client/api.ts';
import { cpus } from 'node:os';
import { cpuDelta, cpuSample, type CpuSample } from './cpu.ts';

const RATE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : undefined;
const N = Number(process.env.BENCH_N ?? (RATE ? 300 : 4000));
const PIPELINED = process.env.BENCH_PIPELINED !== '0';
const HOST = process.env.BENCH_HOST !== '0';
const BACKLOG = process.env.BENCH_BACKLOG === '1';
const P = Number(process.env.BENCH_P ?? 200);
const CONC = Number(process.env.BENCH_CONCURRENCY ?? 32);
const FEES = { maxFeePerGas: parseGwei('50'), maxPriorityFeePerGas: parseGwei('1') };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const log = (s: string) => process.stderr.write(`${s}\n`);

/** CPU ms per item of each part of a CpuSample delta (one decimal place of a µs), or undefined. */
function perItem(d: CpuSample | undefined, n: number): (CpuSample & { total: number }) | undefined {
  if (!d) return undefined;
  const r = (x: number) => Number((x / n).toFixed(3));
  return { js: r(d.js), devnet: r(d.devnet), nodeWorkers: r(d.nodeWorkers), enclave: r(d.enclave), total: r(d.js + d.devnet + d.nodeWorkers + d.enclave) };
}

/** The CPU the ceiling's transactions took (ms per transaction, bench/cpu.ts), one entry per ceiling run. */
const ceilingCpu: (CpuSample & { total: number })[] = [];
/** Each ceiling measurement's rate with one transaction in flight and with the workload's CONC in flight (tx/s). */
const ceilingRuns: { oneInFlight: number; workloadConcurrency: number }[] = [];

/**
 * The submitters: `count` calls of `send(k)`, k = 0…count-1 in order, with `conc` in flight (each worker sends its
 * next one when its previous one is answered). The same code sends the workload's submissions and the ceiling's
 * transfers, so that the two rates differ only in what is sent.
 */
async function submitAll(count: number, conc: number, send: (k: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const k = next++;
      if (k >= count) return;
      await send(k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, count) }, worker));
}

/**
 * The devnet's raw-transaction ceiling, tx/s: the larger of two rates, pre-signed plain transfers sent by
 * submitAll with one in flight and with the workload's CONC in flight, each on a fresh devnet with the workload's
 * configuration. A ceiling is the most the devnet does: whichever way of sending reaches more is the reference.
 */
async function ceiling(count: number): Promise<number> {
  const oneInFlight = await ceilingRun(count, 1);
  const workloadConcurrency = CONC === 1 ? oneInFlight : await ceilingRun(count, CONC);
  ceilingRuns.push({ oneInFlight: Math.round(oneInFlight), workloadConcurrency: Math.round(workloadConcurrency) });
  return Math.max(oneInFlight, workloadConcurrency);
}

async function ceilingRun(count: number, conc: number): Promise<number> {
  // A fresh devnet with the same configuration; plain transfers, pre-signed so only the chain is measured.
  const sender = devAccounts(1)[2]!;
  const d = await startDevnet({ fund: [{ address: sender.address, balance: parseEther('1000') }] });
  const acct = privateKeyToAccount(sender.privateKey);
  const signed: Hex[] = [];
  for (let i = 0; i < count; i++) {
    signed.push(await acct.signTransaction({ chainId: 31337, type: 'eip1559', to: devAccounts(1)[0]!.address, value: 1n, nonce: i, gas: 21_000n, ...FEES }));
  }
  const c0 = cpuSample(undefined);
  const t0 = performance.now();
  await submitAll(count, conc, (k) => d.request({ method: 'eth_sendRawTransaction', params: [signed[k]] }));
  const s = (performance.now() - t0) / 1000;
  const c = perItem(cpuDelta(c0, cpuSample(undefined)), count);
  if (c) ceilingCpu.push(c);
  await d.close();
  return count / s;
}

async function main(): Promise<void> {
  log(`bench: N=${N} submissions from P=${P} participants, ${CONC} in flight`);
  const ids: Identity[] = [];
  for (let i = 0; i < P; i++) ids.push(await createIdentity(`p${i}`, toBytes(keccak256(toBytes(`bench:${i}`)))));
  const stack = await startDevStack({ fund: ids.map((i) => i.address), progress: (s) => log(`… ${s}`), pipelined: PIPELINED });
  try {
    const now = Math.floor(Date.now() / 1000);
    const session = await verifyActiveSession({ publicClient: stack.chain.publicClient, chainId: stack.chain.chainId, contract: stack.deployment.contract, collateral: stack.pki.collateral(), rootCaDer: stack.pki.rootCaDer, policy: stack.policy, now });
    const clients = ids.map((identity) => new GeodeClient({ publicClient: stack.chain.publicClient, wallet: stack.chain.wallet, chainId: stack.chain.chainId, contract: stack.deployment.contract, identity, session }));
    log('… creating the computation');
    await createComputation(clients[0]!, { name: 'bench', type: 'average', participants: ids.map((i) => i.address as Address), quorum: P });
    // Register output keys (not timed).
    log('… registering output keys');
    await Promise.all(clients.map((c) => c.registerOutputKey()));
    const countNow = (await stack.chain.publicClient.readContract({ address: stack.deployment.contract, abi: GeodeCoreAbi, functionName: 'requestCount' })) as bigint;
    await stack.host.waitCommitted(countNow);

    const nonces = await Promise.all(ids.map((i) => stack.chain.publicClient.getTransactionCount({ address: i.address as Address })));
    const landedAt = new Map<bigint, number>(); // seq -> when its commitment's receipt was read
    const batches: BatchEvent[] = [];
    // Resolved once the host's 'batch' events cover `seq`. Not host.waitCommitted: that resolves as soon as the host
    // reads the new committedSeq from the chain, which may be before the commitment's own 'batch' event (and its
    // landing time) was recorded, and a latency read then would be undefined (the NaN line of the paced mode).
    let landedUpTo = countNow;
    let landedWaiter: { seq: bigint; resolve: () => void } | undefined;
    const waitLanded = (seq: bigint) => (landedUpTo >= seq ? Promise.resolve() : new Promise<void>((resolve) => { landedWaiter = { seq, resolve }; }));
    stack.host.on('batch', (b: BatchEvent) => {
      const t = performance.now();
      if (b.from > countNow) batches.push(b);
      for (let s = b.from; s <= b.to; s++) landedAt.set(s, t);
      if (b.to > landedUpTo) landedUpTo = b.to;
      if (landedWaiter && landedUpTo >= landedWaiter.seq) landedWaiter.resolve();
    });
    const accounts = ids.map((i) => privateKeyToAccount(i.privateKey));
    // Client side, not timed: each participant encrypts its value (HPKE to the session key) and signs its
    // transaction, as it would on its own machine. Measured and reported separately.
    log(`… ${N} participants' clients encrypt and sign their submissions`);
    const tPrep = performance.now();
    const signed: Hex[] = [];
    for (let k = 0; k < N; k++) {
      const p = k % P;
      const payload = await clients[p]!.seal(encodeRequest({ op: 'submit', computation: 'bench', value: 1000 + (k % 997) }));
      signed.push(await accounts[p]!.signTransaction({ chainId: 31337, type: 'eip1559', to: stack.deployment.contract, data: encodeFunctionData({ abi: GeodeCoreAbi, functionName: 'submitRequest', args: [payload] }), nonce: nonces[p]!++, gas: 300_000n, ...FEES }));
    }
    const prepMs = (performance.now() - tPrep) / N;
    // The ceiling is measured just before and just after the timed run (a shared machine's load drifts) and averaged.
    if (!HOST || BACKLOG) await stack.host.stop();
    log(`… measuring the devnet ceiling (before)`);
    const ceilBefore = await ceiling(Math.min(N, 3000));
    log(RATE ? `… paced run: ${N} submissions at ${RATE}/s, latency to the committed result` : '… timed run: submit, batch, prove, process in the enclave, commit');
    const hashes: Hex[] = new Array(N);
    const sentAt: number[] = new Array(N);
    const sendMs: number[] = [];
    const enclavePid = stack.enclave.pid;
    const cpu0 = cpuSample(enclavePid);
    const t0 = performance.now();
    const submitOne = async (k: number) => {
      sentAt[k] = performance.now();
      hashes[k] = (await stack.devnet!.request({ method: 'eth_sendRawTransaction', params: [signed[k]] })) as Hex;
      sendMs.push(performance.now() - sentAt[k]!);
    };
    if (RATE) {
      const inFlight: Promise<void>[] = [];
      for (let k = 0; k < N; k++) {
        const due = t0 + (k * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        inFlight.push(submitOne(k));
      }
      await Promise.all(inFlight);
    } else {
      await submitAll(N, CONC, submitOne);
    }
    const tSent = performance.now();
    const cpuSent = cpuSample(enclavePid);
    const cores = cpus().length;
    const cpuLine = (c: (CpuSample & { total: number }) | undefined, seconds: number) => c
      ? `js ${c.js} | devnet (EDR) ${c.devnet} | node workers ${c.nodeWorkers} | enclave ${c.enclave} | total ${c.total} ms/request; ${((c.total * N) / (seconds * 1000 * cores) * 100).toFixed(0)}% of ${cores} cores`
      : 'unavailable (no /proc)';
    const ceilCpuLine = () => {
      const m = (k: keyof CpuSample) => Number((ceilingCpu.reduce((a, c) => a + c[k], 0) / Math.max(1, ceilingCpu.length)).toFixed(3));
      return ceilingCpu.length ? `js ${m('js')} | devnet (EDR) ${m('devnet')} ms per raw transfer (the ceiling's runs)` : 'unavailable (no /proc)';
    };
    const ceilingLine = () => ceilingRuns.map((r, i) => `${i ? 'after' : 'before'}: ${r.oneInFlight} tx/s with 1 in flight, ${r.workloadConcurrency} with ${CONC}`).join('; ') + ' (the larger of each pair counts)';
    if (BACKLOG) {
      const tStart = performance.now();
      await stack.host.start();
      await waitLanded(countNow + BigInt(N));
      const drainS = (performance.now() - tStart) / 1000;
      const cpu = perItem(cpuDelta(cpuSent, cpuSample(enclavePid)), N);
      const big = batches.filter((b) => b.to - b.from + 1n >= 100n);
      const reqs = big.reduce((a, b) => a + Number(b.to - b.from + 1n), 0);
      const enclaveMs = big.reduce((a, b) => a + b.stages.enclave, 0);
      const rep = {
        mode: 'backlog', requests: N, participants: P, drainRps: Math.round(N / drainS),
        batches: { count: batches.length, sizes: batches.map((b) => Number(b.to - b.from + 1n)) },
        enclaveMsPerRequest: Number((enclaveMs / Math.max(1, reqs)).toFixed(3)), enclaveCpuMsPerRequest: cpu?.enclave ?? null,
        cpuMsPerRequest: cpu, targets: { enclaveMsPerRequest: 0.5 },
      };
      console.log(`mode                    backlog: ${N} requests submitted with the host stopped, then drained`);
      console.log(`drain                   ${rep.drainRps} requests/s (${N} requests in ${drainS.toFixed(2)} s), batches ${rep.batches.sizes.join(', ')}`);
      console.log(`enclave per request     ${rep.enclaveMsPerRequest} ms (enclave stage over the ${big.length} batches of 100 or more), enclave process CPU ${rep.enclaveCpuMsPerRequest} ms (target <= 0.5: ${rep.enclaveMsPerRequest <= 0.5 ? 'met' : 'NOT met'})`);
      console.log(`CPU per request         ${cpuLine(cpu, drainS)} (drain)`);
      console.log(JSON.stringify(rep));
      return;
    }
    if (!HOST) {
      const ceilAfter = await ceiling(Math.min(N, 3000));
      const submitRps = N / ((tSent - t0) / 1000);
      const ceil = (ceilBefore + ceilAfter) / 2;
      const cpu = perItem(cpuDelta(cpu0, cpuSent), N);
      const rep = { mode: 'submissions only (no host)', requests: N, participants: P, concurrency: CONC, submitRps: Math.round(submitRps), ceilingRps: Math.round(ceil), ceilingBeforeAfterRps: [Math.round(ceilBefore), Math.round(ceilAfter)], ceilingRuns, ratio: Number((submitRps / ceil).toFixed(3)), cpuMsPerRequest: cpu, ceilingCpuMsPerTx: ceilingCpu };
      console.log(`mode                    submissions only: the host stopped, nothing batched, proven or committed`);
      console.log(`submission throughput   ${rep.submitRps} requests/s (${N} submitRequest transactions, ${CONC} in flight)`);
      console.log(`devnet ceiling          ${rep.ceilingRps} raw tx/s (pre-signed transfers, same run: mean of ${rep.ceilingBeforeAfterRps[0]} before and ${rep.ceilingBeforeAfterRps[1]} after)`);
      console.log(`ceiling runs            ${ceilingLine()}`);
      console.log(`CPU per submission      ${cpuLine(cpu, (tSent - t0) / 1000)}`);
      console.log(`CPU per raw transfer    ${ceilCpuLine()}`);
      console.log(`ratio to ceiling        ${rep.ratio} (the most any pipeline could reach with this workload on this devnet)`);
      console.log(JSON.stringify(rep));
      return;
    }
    // Every submission was accepted (eth_sendRawTransaction on an automining devnet executes it; a reverted one
    // would show as a missing seq below), so the last seq is countNow + N: wait for it to land before reading any
    // receipt. Each submission's seq comes from its receipt, read after the timed run: 4,000 receipt reads queued
    // in the devnet while the host commits its last batches would lengthen the run they are not part of.
    await waitLanded(countNow + BigInt(N));
    const cpuDone = cpuSample(enclavePid);
    const tR = performance.now();
    const seqs = await Promise.all(hashes.map(async (hash) => BigInt((await stack.chain.publicClient.getTransactionReceipt({ hash })).logs[0]!.topics[1]!)));
    const receiptMs = (performance.now() - tR) / N;
    const lastSeq = seqs.reduce((a, b) => (b > a ? b : a), 0n);
    if (lastSeq !== countNow + BigInt(N) || new Set(seqs).size !== N) throw new Error(`submissions landed as seqs up to ${lastSeq}, expected ${N} distinct seqs ending at ${countNow + BigInt(N)}`);
    const tDone = Math.max(...seqs.map((s) => landedAt.get(s)!));
    const elapsed = (tDone - t0) / 1000;
    const e2e = N / elapsed;
    const latencies = seqs.map((s, k) => landedAt.get(s)! - sentAt[k]!);
    log(`… measuring the devnet ceiling (after)`);
    const ceilAfter = await ceiling(Math.min(N, 3000));
    const ceil = (ceilBefore + ceilAfter) / 2;
    const mean = (xs: number[]) => Number((xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)).toFixed(1));
    const stageNames = ['head', 'logScan', 'proof', 'enclave', 'waitPrevious', 'gas', 'tx', 'receipt'] as const;
    const stages = Object.fromEntries(stageNames.map((k) => [k, mean(batches.map((b) => b.stages[k]))])) as Record<(typeof stageNames)[number], number>;
    const size = mean(batches.map((b) => Number(b.to - b.from + 1n)));
    const enclaveBusy = Number((batches.reduce((a, b) => a + b.stages.enclave, 0) / (tDone - t0)).toFixed(3));
    const enclaveMsPerRequest = Number((batches.reduce((a, b) => a + b.stages.enclave, 0) / Math.max(1, batches.reduce((a, b) => a + Number(b.to - b.from + 1n), 0))).toFixed(3));
    // The CPU of the timed run (submission to the last commitment), and of its submission part alone.
    const cpu = perItem(cpuDelta(cpu0, cpuDone), N);
    const rep = {
      mode: RATE ? `paced ${RATE}/s` : 'throughput', pipelined: PIPELINED,
      requests: N, participants: P, concurrency: RATE ? null : CONC,
      endToEndRps: Math.round(e2e), submitRps: Math.round(N / ((tSent - t0) / 1000)),
      latencyMs: { p50: Math.round(pct(latencies, 50)), p90: Math.round(pct(latencies, 90)), p99: Math.round(pct(latencies, 99)) },
      ceilingRps: Math.round(ceil), ceilingBeforeAfterRps: [Math.round(ceilBefore), Math.round(ceilAfter)], ceilingRuns, ratio: Number((e2e / ceil).toFixed(3)),
      clientPrepMsPerRequest: Number(prepMs.toFixed(2)),
      submission: { sendRawTransactionMs: mean(sendMs), receiptMs: Number(receiptMs.toFixed(2)) },
      cpuMsPerRequest: cpu, ceilingCpuMsPerTx: ceilingCpu,
      batches: { count: batches.length, meanSize: size, overlapped: batches.filter((b) => b.overlapped).length, prefetched: batches.filter((b) => b.prefetched).length, meanMs: mean(batches.map((b) => b.ms)), stagesMs: stages, enclaveMsPerRequest, enclaveBusy },
      targets: RATE ? { p50Ms: 30 } : { ratio: 0.6 },
    };
    console.log(`mode                    ${rep.mode}, host stages ${PIPELINED ? 'overlapped (pipelined)' : 'one batch at a time'}`);
    console.log(`end-to-end throughput   ${rep.endToEndRps} requests/s (${N} requests in ${elapsed.toFixed(2)} s; submission alone ${rep.submitRps}/s)`);
    console.log(`latency (submit→commit) p50 ${rep.latencyMs.p50} ms, p90 ${rep.latencyMs.p90} ms, p99 ${rep.latencyMs.p99} ms${RATE ? ` (target p50 <= 30 ms: ${rep.latencyMs.p50 <= 30 ? 'met' : 'NOT met'})` : ''}`);
    console.log(`submission              eth_sendRawTransaction ${rep.submission.sendRawTransactionMs} ms each (${RATE ? 'paced' : `${CONC} in flight`}); receipt ${rep.submission.receiptMs} ms (read after the run)`);
    console.log(`batches                 ${rep.batches.count}, mean ${size} requests, ${rep.batches.overlapped} processed while the previous commitment was in flight, ${rep.batches.prefetched} read while the enclave ran the previous batch; mean ${rep.batches.meanMs} ms head to receipt`);
    console.log(`per batch, mean ms      head ${stages.head} | log scan ${stages.logScan} ‖ proof ${stages.proof} | enclave ${stages.enclave} (${enclaveMsPerRequest} ms/request) | wait for previous ${stages.waitPrevious} | gas limit ${stages.gas} | commit tx ${stages.tx} | receipt ${stages.receipt}`);
    console.log(`enclave busy            ${(enclaveBusy * 100).toFixed(0)}% of the timed run (its batches' processing time / elapsed)`);
    console.log(`CPU per request         ${cpuLine(cpu, elapsed)} (timed run)`);
    console.log(`CPU per raw transfer    ${ceilCpuLine()}`);
    console.log(`client side (not timed)  ${rep.clientPrepMsPerRequest} ms per request to encrypt and sign, on one core`);
    console.log(`devnet ceiling          ${rep.ceilingRps} raw tx/s (pre-signed transfers, same run: mean of ${rep.ceilingBeforeAfterRps[0]} before and ${rep.ceilingBeforeAfterRps[1]} after the timed run)`);
    console.log(`ceiling runs            ${ceilingLine()}`);
    console.log(`ratio to ceiling        ${rep.ratio}${RATE ? ' (paced: not a throughput figure)' : ` (target >= 0.6: ${rep.ratio >= 0.6 ? 'met' : 'NOT met'})`}`);
    console.log(JSON.stringify(rep));
  } finally {
    await stack.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
