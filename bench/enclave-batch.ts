// processBatch for 100 private requests (verify header + proofs + accumulator, decrypt, handle, encrypt outputs,
// sign, seal state), in-process on a fake chain. Reference, same run: 100 bare HPKE open + seal pairs.
import { performance } from 'node:perf_hooks';
import { hexToBytes } from 'viem';
import { HPKE_INFO, hpkeOpen, hpkeSeal, hpkeDeriveKeyPair } from '@geode/protocol';
import { counterApp } from '../packages/enclave/test/fixtures/counter-app.ts';
import { User, batchParams, setup } from '../packages/enclave/test/helpers.ts';

const N = 100;
const { chain, rt, keys } = await setup(counterApp);
const users = await Promise.all(Array.from({ length: 10 }, (_, i) => User.make(`bench-${i}`)));
for (const u of users) chain.submit(u.address, u.registerPayload());
const { params: reg } = await batchParams(chain, 1, users.length);
const r0 = (await rt.handle('processBatch', reg)) as { newRoot: `0x${string}` };
chain.commit(BigInt(users.length), r0.newRoot);

const runs: number[] = [];
let from = users.length + 1;
for (let round = 0; round < 5; round++) {
  for (let i = 0; i < N; i++) {
    const u = users[i % users.length]!;
    chain.submit(u.address, await u.privatePayload(keys.encPubKey, 1n, { op: 'inc', by: i }));
  }
  const { params } = await batchParams(chain, from, from + N - 1);
  const t0 = performance.now();
  const r = (await rt.handle('processBatch', params)) as { newRoot: `0x${string}` };
  runs.push(performance.now() - t0);
  chain.commit(BigInt(from + N - 1), r.newRoot);
  from += N;
}

const kp = await hpkeDeriveKeyPair(new Uint8Array(32).fill(1));
const aad = new Uint8Array(64);
const pt = new TextEncoder().encode(JSON.stringify({ op: 'inc', by: 1 }));
const t1 = performance.now();
for (let i = 0; i < N; i++) {
  const { enc, ciphertext } = await hpkeSeal(kp.publicKey, HPKE_INFO.request, aad, pt);
  await hpkeOpen(kp.privateKey, enc, HPKE_INFO.request, aad, ciphertext);
}
const ref = performance.now() - t1;
runs.sort((a, b) => a - b);
const median = runs[Math.floor(runs.length / 2)]!;
console.log(`processBatch, ${N} private requests (verify + decrypt + handle + encrypt + sign + seal): median ${median.toFixed(1)} ms (min ${runs[0]!.toFixed(1)}, max ${runs.at(-1)!.toFixed(1)}) = ${(median / N).toFixed(2)} ms/request`);
console.log(`reference: ${N} HPKE seal+open pairs: ${ref.toFixed(1)} ms; ratio processBatch/reference = ${(median / ref).toFixed(2)}`);
void hexToBytes;
