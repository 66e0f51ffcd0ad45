/**
 * End-to-end pipeline benchmark (`npm run bench`): N encrypted submissions from P participants go through the
 * whole pipeline — HPKE encryption, signed transactions on the embedded devnet, the host's batching, header and
 * storage proofs, the enclave's verification, decryption, handling, output encryption and sealing, and the signed
 * commitment landing on-chain. Measured in the same run: the devnet's raw transaction throughput (pre-signed
 * plain transfers, sent back to back) as the ceiling.
 *
 * Env: BENCH_N (default 4000), BENCH_P participants (default 200), BENCH_CONCURRENCY in-flight submissions (default 32).
 */
import { encodeFunctionData, keccak256, parseEther, parseGwei, toBytes, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createIdentity, GeodeClient, verifyActiveSession, type Identity } from '@geode/client';
import { devAccounts, startDevnet } from '@geode/devnet';
import { GeodeCoreAbi } from '@geode/contracts/generated/artifacts';
import { encodeRequest } from '@geode/app-computations';
import { startDevStack } from '../packages/cli/src/stack.ts';
import { createComputation } from '../apps/computations/src/client/api.ts';

const N = Number(process.env.BENCH_N ?? 4000);
const P = Number(process.env.BENCH_P ?? 200);
const CONC = Number(process.env.BENCH_CONCURRENCY ?? 32);
const FEES = { maxFeePerGas: parseGwei('50'), maxPriorityFeePerGas: parseGwei('1') };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const log = (s: string) => process.stderr.write(`${s}\n`);

async function ceiling(count: number): Promise<number> {
  // A fresh devnet with the same configuration; plain transfers, pre-signed so only the chain is measured.
  const sender = devAccounts(1)[2]!;
  const d = await startDevnet({ fund: [{ address: sender.address, balance: parseEther('1000') }] });
  const acct = privateKeyToAccount(sender.privateKey);
  const signed: Hex[] = [];
  for (let i = 0; i < count; i++) {
    signed.push(await acct.signTransaction({ chainId: 31337, type: 'eip1559', to: devAccounts(1)[0]!.address, value: 1n, nonce: i, gas: 21_000n, ...FEES }));
  }
  const t0 = performance.now();
  for (const tx of signed) await d.request({ method: 'eth_sendRawTransaction', params: [tx] });
  const s = (performance.now() - t0) / 1000;
  await d.close();
  return count / s;
}

async function main(): Promise<void> {
  log(`bench: N=${N} submissions from P=${P} participants, ${CONC} in flight`);
  const ids: Identity[] = [];
  for (let i = 0; i < P; i++) ids.push(await createIdentity(`p${i}`, toBytes(keccak256(toBytes(`bench:${i}`)))));
  const stack = await startDevStack({ fund: ids.map((i) => i.address), progress: (s) => log(`… ${s}`) });
  try {
    const now = Math.floor(Date.now() / 1000);
    const session = await verifyActiveSession({ publicClient: stack.chain.publicClient, chainId: stack.chain.chainId, contract: stack.deployment.contract, collateral: stack.pki.collateral() as never, rootCaDer: stack.pki.rootCaDer, policy: stack.policy, now });
    const clients = ids.map((identity) => new GeodeClient({ publicClient: stack.chain.publicClient, wallet: stack.chain.wallet, chainId: stack.chain.chainId, contract: stack.deployment.contract, identity, session }));
    log('… creating the computation');
    await createComputation(clients[0]!, { name: 'bench', type: 'average', participants: ids.map((i) => i.address as Address), quorum: P });
    // Register output keys (not timed).
    log('… registering output keys');
    await Promise.all(clients.map((c) => c.registerOutputKey()));
    const countNow = (await stack.chain.publicClient.readContract({ address: stack.deployment.contract, abi: GeodeCoreAbi, functionName: 'requestCount' })) as bigint;
    await stack.host.waitCommitted(countNow);

    const nonces = await Promise.all(ids.map((i) => stack.chain.publicClient.getTransactionCount({ address: i.address as Address })));
    const submittedAt = new Map<bigint, number>();
    const latencies: number[] = [];
    let committedTo = countNow;
    const batches: { size: number; ms: number; proofMs: number; enclaveMs: number; commitMs: number }[] = [];
    const meanOf = (k: 'ms' | 'proofMs' | 'enclaveMs' | 'commitMs') => Math.round(batches.reduce((a, b) => a + b[k], 0) / Math.max(1, batches.length));
    stack.host.on('batch', (b: { from: bigint; to: bigint; ms: number; proofMs: number; enclaveMs: number; commitMs: number }) => {
      const t = performance.now();
      if (b.from > countNow) batches.push({ size: Number(b.to - b.from + 1n), ms: b.ms, proofMs: b.proofMs, enclaveMs: b.enclaveMs, commitMs: b.commitMs });
      for (let s = b.from; s <= b.to; s++) {
        const t0 = submittedAt.get(s);
        if (t0 !== undefined) latencies.push(t - t0);
      }
      committedTo = b.to;
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
    log('… timed run: submit, batch, prove, process in the enclave, commit');
    let next = 0;
    let lastSeq = 0n;
    const t0 = performance.now();
    const worker = async () => {
      for (;;) {
        const k = next++;
        if (k >= N) return;
        const started = performance.now();
        const hash = (await stack.devnet!.request({ method: 'eth_sendRawTransaction', params: [signed[k]] })) as Hex;
        const r = await stack.chain.publicClient.getTransactionReceipt({ hash });
        const seq = BigInt(r.logs[0]!.topics[1]!);
        submittedAt.set(seq, started);
        if (seq > lastSeq) lastSeq = seq;
        if (committedTo >= seq) latencies.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: CONC }, worker));
    const tSent = performance.now();
    await stack.host.waitCommitted(lastSeq);
    const elapsed = (performance.now() - t0) / 1000;
    const e2e = N / elapsed;
    log(`… measuring the devnet ceiling`);
    const ceil = await ceiling(Math.min(N, 3000));
    const rep = {
      requests: N, participants: P, concurrency: CONC,
      endToEndRps: Math.round(e2e), submitRps: Math.round(N / ((tSent - t0) / 1000)),
      latencyMs: { p50: Math.round(pct(latencies, 50)), p99: Math.round(pct(latencies, 99)) },
      ceilingRps: Math.round(ceil), ratio: Number((e2e / ceil).toFixed(3)),
      clientPrepMsPerRequest: Number(prepMs.toFixed(2)),
      batches: { count: batches.length, meanSize: Math.round(N / Math.max(1, batches.length)), meanMs: meanOf('ms'), proofMs: meanOf('proofMs'), enclaveMs: meanOf('enclaveMs'), commitMs: meanOf('commitMs') },
      targets: { endToEndRps: 300, ratio: 0.3 },
    };
    console.log(`end-to-end throughput   ${rep.endToEndRps} requests/s (${N} requests in ${elapsed.toFixed(2)} s; submission alone ${rep.submitRps}/s)`);
    console.log(`latency (submit→commit) p50 ${rep.latencyMs.p50} ms, p99 ${rep.latencyMs.p99} ms`);
    console.log(`batches                 ${rep.batches.count}, mean ${rep.batches.meanSize} requests, mean ${rep.batches.meanMs} ms (header+proof ${rep.batches.proofMs}, enclave ${rep.batches.enclaveMs}, commitment ${rep.batches.commitMs})`);
    console.log(`client side (not timed)  ${rep.clientPrepMsPerRequest} ms per request to encrypt and sign, on one core`);
    console.log(`devnet ceiling          ${rep.ceilingRps} raw tx/s (pre-signed transfers, same run)`);
    console.log(`ratio to ceiling        ${rep.ratio} (target >= 0.3); end-to-end target >= 300 req/s: ${e2e >= 300 ? 'met' : 'NOT met'}`);
    console.log(JSON.stringify(rep));
  } finally {
    await stack.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
