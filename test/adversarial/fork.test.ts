// Adversarial host vs. the light client's trust anchor: a second devnet started from the same genesis (same
// genesis options, so the same genesis hash), on which the real chain's transactions are replayed up to a point
// and then a different history is written: the Conclave rewind attack on a fork. Signed by another key, the fork
// is refused; signed by the trusted block-signer key, it is accepted (the signer IS the trust anchor).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toBytes, type Hex } from 'viem';
import type { Devnet } from '@geode/devnet';
import type { ChainAccess } from '@geode/host';
import { GeodeClient } from '@geode/client';
import { encodeRequest } from '@geode/app-computations';
import { Adversary, createAverage, enclaveDir, expectRefused, startAdversary, submit, type Name } from '../harness/adversary.ts';

let adv: Adversary;
let divergence: bigint;
let aliceResult: bigint;
const forks: Devnet[] = [];

before(async () => {
  adv = await startAdversary();
  await createAverage(adv, 'forked', ['alice', 'bob', 'carol'], 2);
  await submit(adv, 'alice', { op: 'submit', computation: 'forked', value: 2 });
  await submit(adv, 'bob', { op: 'submit', computation: 'forked', value: 4 });
  assert.ok((await adv.commit(await adv.process(adv.stack.enclave, await adv.pending()))).ok);
  divergence = await adv.head();
  // On the real chain alice's result locks the average at 3.
  aliceResult = await submit(adv, 'alice', { op: 'result', computation: 'forked' });
  assert.ok((await adv.commit(await adv.process(adv.stack.enclave, await adv.pending()))).ok);
});

after(async () => {
  for (const f of forks) await f.close();
  await adv?.stack.stop();
});

/** Build the forked history: real chain up to `divergence`, then carol submits 12 and bob asks for the result. */
async function forkedHistory(blockSignerKey?: Hex): Promise<{ devnet: Devnet; chain: ChainAccess }> {
  const f = await adv.fork({ upTo: divergence, ...(blockSignerKey ? { blockSignerKey } : {}) });
  forks.push(f.devnet);
  const on = (who: Name) => new GeodeClient({ publicClient: f.chain.publicClient, wallet: f.chain.wallet, chainId: f.chain.chainId, contract: adv.contract, identity: adv.parties[who].identity, session: adv.parties[who].session });
  await on('carol').submit(encodeRequest({ op: 'submit', computation: 'forked', value: 12 }));
  await on('bob').submit(encodeRequest({ op: 'result', computation: 'forked' }));
  // Outgrow the enclave's trusted block (a header at the trusted height with another hash is a detected fork).
  const trusted = BigInt((await adv.stack.enclave.call('status')).trustedBlock);
  while ((await f.devnet.getSignedHeader('latest')).number <= trusted + 1n) await f.devnet.request({ method: 'evm_mine', params: [] });
  return f;
}

test('fork signed by another block-signer key: refused (LC_HEADER_SIGNATURE), nothing changes', async () => {
  const f = await forkedHistory(keccak256(toBytes('another-block-signer')));
  const dir = enclaveDir(adv);
  const snap = await adv.snapshot(adv.stack.enclave, dir);
  const b = await adv.batch(aliceResult, aliceResult + 1n, undefined, f.devnet, f.chain.publicClient);
  await expectRefused(adv.process(adv.stack.enclave, b), 'LC_HEADER_SIGNATURE');
  await adv.assertUnchanged(snap, adv.stack.enclave, dir);
});

test('known gap: a fork signed by the trusted block-signer key is accepted — the rewind attack succeeds on it', async () => {
  const f = await forkedHistory(adv.stack.blockSignerKey); // the real chain's block-signer key, which the devnet holds
  const dir = enclaveDir(adv);
  // At the height the enclave already trusts, the conflicting fork header is detected.
  const trusted = BigInt((await adv.stack.enclave.call('status')).trustedBlock);
  const snap = await adv.snapshot(adv.stack.enclave, dir);
  await expectRefused(adv.process(adv.stack.enclave, await adv.batch(aliceResult, aliceResult + 1n, trusted, f.devnet, f.chain.publicClient)), 'LC_STALE_HEADER');
  await adv.assertUnchanged(snap, adv.stack.enclave, dir);
  // Above it, the light client has nothing but the signature to go on: the fork's pre-lock root is one the enclave
  // still holds sealed, so it processes the forked log and the commitment lands on the fork.
  const c = await adv.process(adv.stack.enclave, await adv.batch(aliceResult, aliceResult + 1n, undefined, f.devnet, f.chain.publicClient));
  assert.ok((await adv.commit(c, { pub: f.chain.publicClient, chain: f.chain })).ok);
  const bobOnFork = (await adv.outputs('bob', f.chain.publicClient)).filter((o) => o.ok && o.op === 'result');
  // bob learns (2 + 4 + 12) / 3 on the fork, where the real chain locked 3 for everyone.
  assert.deepEqual(bobOnFork.map((o) => o.ok && o.result), [{ type: 'average', value: 6, count: 3 }]);
});

test('honest host afterwards on the real chain: exactly once, in chain order; the lock holds', async () => {
  await submit(adv, 'carol', { op: 'submit', computation: 'forked', value: 12 });
  await submit(adv, 'bob', { op: 'result', computation: 'forked' });
  // The enclave's light client now trusts the fork's (higher) head; headers of the real chain at or just above that
  // height are refused (LC_STALE_HEADER / LC_HEADER_LINK) until the real chain outgrows it. A restart re-anchors at
  // genesis; the enclave resumes from the sealed state the real chain proves.
  await adv.restartWith(adv.stack.enclave, enclaveDir(adv));
  await adv.honest();
  await adv.assertHonestHistory();
  for (const who of ['alice', 'bob'] as Name[]) {
    const r = (await adv.outputs(who)).filter((o) => o.ok && o.op === 'result');
    assert.deepEqual(r.map((o) => o.ok && o.result), [{ type: 'average', value: 3, count: 2 }], who);
  }
  const carol = (await adv.outputs('carol')).filter((o) => !o.ok);
  assert.deepEqual(carol.map((o) => !o.ok && o.error.code), ['APP_LOCKED']);
});
