// The overlapped host pipeline (docs/protocol.md#pipelining): the enclave processes batch k+1 while commitment k is
// in flight. (1) Commitments land strictly in order and every result matches the model. (2) A commitment in flight
// that fails (reverted on-chain, dropped by the node) while the next batch was already processed on top of it: the
// pipeline drops that result (and the next batch's inputs it had read ahead), re-runs from the chain's committed
// position, and no result is wrong, lost or doubled.
// Commit transactions are delayed (as on a chain with block times) so that batches are processed ahead, and the
// enclave's results so that the host reads the next batch while the enclave runs.
//
// Reproduce: CRASH_SEED=<printed seed> node scripts/test.mjs test/crash/pipeline
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { Host, type BatchEvent, type ChainAccess, type EnclaveProcess } from '@geode/host';
import {
  committedBatches, devOperatorKey, finishAndCheck, Model, readUint, seededInt, seedFrom, sleep, startWorkload, submitBurst,
  type Workload, type WorkloadComputation,
} from '../harness/crash.ts';

const comps: WorkloadComputation[] = [{ name: 'avg', type: 'average' }, { name: 'hi', type: 'max' }];
const P = 6;
const COMMIT_DELAY_MS = 120;
/**
 * Added to each processBatch (an enclave slower than these small batches make it): the host prefetches the next batch
 * only when the enclave runs for at least three of its chain reads (docs/protocol.md#pipelining).
 */
const ENCLAVE_DELAY_MS = 40;

type Fault = 'revert' | 'drop';

/** What the instrumented host did: every processBatch result, and the commitments sent, reverted and dropped. */
interface Trace {
  results: { from: bigint; to: bigint; prevRoot: Hex; newRoot: Hex }[];
  commits: number;
  reverted: Hex[];
  dropped: Hex[];
  /** Per injected fault: how many results existed then, and the failed commitment's from and prevRoot. */
  faults: { at: number; from: bigint; prevRoot: Hex }[];
  /** eth_estimateGas calls of the host. */
  estimates: number;
}

/**
 * A Host over the workload's chain and enclave, instrumented: commitBatch transactions wait COMMIT_DELAY_MS before
 * they are sent; the first commitments during whose delay the enclave processed a further batch (so that batch was
 * built on them) get `faults` in order: 'revert' sends it with a corrupted signature (mined, reverted), 'drop'
 * returns a hash without sending it (the node lost it: no receipt ever comes).
 */
function instrumentedHost(w: Workload, faults: Fault[]): { host: Host; trace: Trace; events: BatchEvent[] } {
  const trace: Trace = { results: [], commits: 0, reverted: [], dropped: [], faults: [], estimates: 0 };
  const base = w.stack.chain;
  const chain: ChainAccess = {
    ...base,
    // Counts the host's eth_estimateGas calls (it needs none while no commitment fails: docs/protocol.md#commit-gas).
    publicClient: new Proxy(base.publicClient, {
      get(t, prop, r) {
        if (prop !== 'estimateContractGas') return Reflect.get(t, prop, r);
        return (p: unknown) => { trace.estimates++; return t.estimateContractGas(p as never); };
      },
    }),
    wallet(account) {
      const real = base.wallet(account);
      return new Proxy(real, {
        get(t, prop, r) {
          if (prop !== 'writeContract') return Reflect.get(t, prop, r);
          return async (p: { functionName: string; args: readonly unknown[] }) => {
            if (p.functionName !== 'commitBatch') return real.writeContract(p as never);
            trace.commits++;
            const processedBefore = trace.results.length;
            await sleep(COMMIT_DELAY_MS);
            const newRoot = p.args[4] as Hex;
            const fault = trace.results.length > processedBefore ? faults.shift() : undefined;
            if (fault) trace.faults.push({ at: trace.results.length, from: p.args[0] as bigint, prevRoot: p.args[3] as Hex });
            if (fault === 'drop') {
              trace.dropped.push(newRoot);
              return keccak256(toHex(`dropped ${trace.commits}`));
            }
            if (fault === 'revert') {
              trace.reverted.push(newRoot);
              const args = [...p.args];
              args[6] = `0x${'11'.repeat(65)}`;
              return real.writeContract({ ...p, args } as never);
            }
            return real.writeContract(p as never);
          };
        },
      });
    },
  };
  const real = w.stack.enclave;
  const enclave = new Proxy(real, {
    get(t, prop) {
      if (prop === 'call') {
        return async (method: string, params?: unknown) => {
          const r = await real.call(method as never, params as never);
          if (method === 'processBatch') {
            await sleep(ENCLAVE_DELAY_MS);
            const b = r as { from: string; to: string; prevRoot: Hex; newRoot: Hex };
            trace.results.push({ from: BigInt(b.from), to: BigInt(b.to), prevRoot: b.prevRoot, newRoot: b.newRoot });
          }
          return r;
        };
      }
      const v = Reflect.get(t, prop);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  }) as EnclaveProcess;
  const host = new Host({
    chain, operator: privateKeyToAccount(devOperatorKey()), contract: w.contract, config: w.stack.deployment.config, enclave,
    fromBlock: w.stack.deployment.fromBlock, logger: w.logger, receiptTimeoutMs: 500,
  });
  const events: BatchEvent[] = [];
  host.on('batch', (e: BatchEvent) => events.push(e));
  return { host, trace, events };
}

/** A workload of P participants in `comps` (quorum 1) with its stack's own host stopped, and a seeded draw. */
async function begin(label: string, seedXor: number): Promise<{ w: Workload; int: (lo: number, hi: number) => number; model: Model; sent: bigint[][] }> {
  const seed = seedFrom('CRASH_SEED');
  console.log(`${label} seed ${seed}`);
  const w = await startWorkload({ participants: P, computations: comps, label, quorum: 1, stopStackHost: true });
  return { w, int: seededInt(seed ^ seedXor), model: new Model(), sent: Array.from({ length: P }, () => []) };
}

/** The host's 'batch' events are the chain's commitments after the setup ones, in the same strict order. */
async function assertInOrder(w: Workload, events: BatchEvent[], firstSeq: bigint): Promise<void> {
  const onChain = (await committedBatches(w)).filter((b) => b.from >= firstSeq);
  assert.deepEqual(events.map((e) => [e.from, e.to]), onChain.map((b) => [b.from, b.to]), 'events are the commitments, in chain order');
  for (let i = 1; i < events.length; i++) {
    assert.equal(events[i]!.from, events[i - 1]!.to + 1n, `commitment ${i} starts right after commitment ${i - 1}`);
    assert.ok(events[i]!.block > events[i - 1]!.block, `commitment ${i} landed in a later block than commitment ${i - 1}`);
  }
}

test('pipeline: batches processed while the previous commitment is in flight; commitments land strictly in order', { timeout: 180_000 }, async () => {
  const { w, int, model, sent } = await begin('pipeline-order', 0);
  const { host, trace, events } = instrumentedHost(w, []);
  const firstSeq = (await readUint(w, 'committedSeq')) + 1n;
  await host.start();
  try {
    for (let k = 0; k < 12; k++) {
      await submitBurst(w, comps, int, model, sent, int(2, 8));
      await sleep(int(0, 80));
    }
    await finishAndCheck(w, comps, model, sent, 90_000);
    await host.stop();
    await assertInOrder(w, events, firstSeq);
    const overlapped = events.filter((e) => e.overlapped).length;
    assert.ok(overlapped >= 3, `at least 3 batches were processed while the previous commitment was in flight (got ${overlapped} of ${events.length})`);
    assert.ok(events.some((e) => e.prefetched), 'batches were read while the enclave processed the previous one');
    assert.equal(trace.results.length, events.length, 'no result was dropped: nothing failed');
    assert.equal(trace.estimates, 0, 'no commitment needed eth_estimateGas: the calldata bound sufficed');
    const prefetched = events.filter((e) => e.prefetched).length;
    console.log(`pipeline-order: ${events.length} commitments, ${overlapped} processed ahead, ${prefetched} read while the enclave ran the previous batch`);
  } finally {
    await host.stop();
    await w.stack.stop();
  }
});

test('pipeline: a commitment in flight that reverts or is dropped, with the next batch already built on it: re-run, nothing wrong or lost', { timeout: 180_000 }, async () => {
  const { w, int, model, sent } = await begin('pipeline-fail', 0xfa11);
  const faults: Fault[] = ['revert', 'drop'];
  const { host, trace, events } = instrumentedHost(w, faults);
  const firstSeq = (await readUint(w, 'committedSeq')) + 1n;
  await host.start();
  try {
    // A fault fires only on a commitment with a batch already processed on top of it, which needs the pipeline to
    // overlap; on a loaded machine that takes more bursts, so keep submitting (up to 200) until both have fired.
    for (let k = 0; k < 200 && (k < 12 || faults.length > 0); k++) {
      await submitBurst(w, comps, int, model, sent, int(2, 8));
      await sleep(int(0, 80));
    }
    assert.equal(faults.length, 0, 'both faults were injected on commitments with a batch processed on top of them');
    await finishAndCheck(w, comps, model, sent, 90_000);
    await host.stop();
    await assertInOrder(w, events, firstSeq);
    assert.equal(trace.reverted.length, 1);
    assert.equal(trace.dropped.length, 1);
    assert.ok(trace.estimates >= 2, 'the commitment after each failure was estimated by the node');
    for (const failed of [...trace.reverted, ...trace.dropped]) {
      assert.ok(trace.results.some((r) => r.prevRoot === failed), 'a batch had been processed on top of the failed commitment');
    }
    // The first batch processed after each failure is the re-run from the chain's committed position (the failed
    // commitment's own start and prevRoot): not a batch read ahead on top of the failed results (the host drops a
    // prefetched batch when a commitment fails).
    for (const f of trace.faults) {
      const next = trace.results[f.at];
      assert.ok(next, 'a batch was processed after the failure');
      assert.equal(next.from, f.from, 'the batch after the failure starts where the failed commitment started');
      assert.equal(next.prevRoot, f.prevRoot, 'the batch after the failure runs on the chain\'s committed state');
    }
    // Each failure dropped two results (the failed commitment's and the one built on it); their requests were processed
    // again from the chain's position and committed exactly once (checkExactlyOnce above).
    assert.ok(trace.results.length - events.length >= 4, `${trace.results.length} results, ${events.length} committed`);
    console.log(`pipeline-fail: ${events.length} commitments (${events.filter((e) => e.prefetched).length} prefetched), ${trace.results.length} batches processed, ${trace.results.length - events.length} results dropped`);
  } finally {
    await host.stop();
    await w.stack.stop();
  }
});
