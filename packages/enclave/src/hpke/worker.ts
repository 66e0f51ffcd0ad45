import { parentPort } from 'node:worker_threads';
import { hpkeOpen, hpkeSeal } from '@geode/protocol';
import { jobEphemeralIkm, type OpenJob, type PoolReply, type PoolRequest, type SealJob } from './jobs.ts';

/**
 * The HPKE worker (pool.ts): runs in a worker thread of the enclave process, from source compiled into the measured
 * bundle (build.ts, GEODE_HPKE_WORKER_SOURCE; never a file read from disk at run time). It only computes: each
 * message is a chunk of jobs, answered with one result per job in the same order. An open that fails answers null
 * (HpkeOpenError on the main thread), a seal that fails answers null (an undeliverable output, as inline).
 */
async function open(j: OpenJob): Promise<Uint8Array | null> {
  try {
    return await hpkeOpen(j.privateKey, j.enc, j.info, j.aad, j.ciphertext);
  } catch {
    return null;
  }
}

async function seal(j: SealJob): Promise<{ enc: Uint8Array; ciphertext: Uint8Array } | null> {
  try {
    return await hpkeSeal(j.recipientKey, j.info, j.aad, j.plaintext, jobEphemeralIkm(j));
  } catch {
    return null;
  }
}

const port = parentPort;
if (port) {
  port.on('message', async (m: PoolRequest) => {
    const reply: PoolReply = m.kind === 'open'
      ? { id: m.id, kind: 'open', results: await sequential(m.jobs, open) }
      : { id: m.id, kind: 'seal', results: await sequential(m.jobs, seal) };
    port.postMessage(reply);
  });
}

/** One job after the other: each is CPU work, running them concurrently on one thread gains nothing. */
async function sequential<J, R>(jobs: readonly J[], f: (j: J) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const j of jobs) out.push(await f(j));
  return out;
}
