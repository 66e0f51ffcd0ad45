// Issue 7, item 3: any user could halt a deployment for good. A key matcher's outputs for one request grow as
// participants^2 x message size (JSON escapes U+0001 as six bytes); twelve accounts of one user with 1024-character
// messages made a commitment over the EIP-7825 per-transaction gas cap, committedSeq stopped and every later request
// was stuck. Now the output caps (docs/protocol.md#caps) refuse the oversized request with ENCLAVE_OUTPUT_LIMIT, the
// per-batch cap cuts batches, and the host splits what does not fit a transaction. Real enclave, devnet, contracts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, parseEther, toBytes, type Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { devAccounts } from '@geode/devnet';
import { GeodeClient, createIdentity } from '@geode/client';
import { decodeOutputMessage, MAX_OUTPUT_BYTES_PER_BATCH, TX_GAS_CAP } from '@geode/protocol';
import { Host } from '@geode/host';
import { createComputation, sendRequest } from '@geode/app-computations/client';
import { Adversary, createAverage, quiet, startAdversary, submit } from '../harness/adversary.ts';

let adv: Adversary;
before(async () => {
  adv = await startAdversary();
});
after(async () => {
  await adv?.stack.stop();
});

/** `n` fresh accounts of one user (funded from a genesis account), each with a registered output key. */
async function sybils(n: number): Promise<GeodeClient[]> {
  const funder = adv.stack.chain.wallet(privateKeyToAccount(devAccounts(8)[3]!.privateKey));
  const out: GeodeClient[] = [];
  for (let i = 0; i < n; i++) {
    const identity = await createIdentity(`sybil${i}`, toBytes(keccak256(toBytes(`geode-halt:sybil${i}`))));
    const hash = await funder.sendTransaction({ to: identity.address, value: parseEther('10') });
    await adv.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    const eve = adv.parties.eve;
    const client = new GeodeClient({ publicClient: adv.pub, wallet: adv.stack.chain.wallet, chainId: adv.stack.chain.chainId, contract: adv.contract, identity, session: eve.session });
    await client.registerOutputKey();
    out.push(client);
  }
  return out;
}

test('attack 3: twelve accounts x 1024 U+0001 characters on one key no longer stall committedSeq', { timeout: 240_000 }, async () => {
  const accounts = await sybils(12);
  const participants = [...accounts.map((c) => c.address as Address), adv.parties.alice.address];
  await createComputation(adv.parties.eve.client, { name: 'vins', type: 'keyMatcher', participants, quorum: 2 });
  await createAverage(adv, 'salaries', ['alice', 'bob'], 2);
  const message = '\u0001'.repeat(1024);
  const seqs: bigint[] = [];
  for (const c of accounts) seqs.push((await sendRequest(c, { op: 'submitKey', computation: 'vins', key: 'VIN-1', message })).seq);
  // Later requests of other users.
  const aliceSeq = await submit(adv, 'alice', { op: 'submit', computation: 'salaries', value: 10 });
  const bobSeq = await submit(adv, 'bob', { op: 'submit', computation: 'salaries', value: 20 });
  const result = await submit(adv, 'alice', { op: 'result', computation: 'salaries' });

  await adv.honest(); // throws unless every request is committed within 60 s
  const batches = await adv.assertHonestHistory();
  for (const b of batches) assert.ok((b.outputs.length - 2) / 2 <= MAX_OUTPUT_BYTES_PER_BATCH + 64, `batch [${b.from}, ${b.to}] outputs within the per-batch cap`);

  // Submissions 1..3 fit the per-request caps (3 matches of 2 x ~6 KiB messages); from the 4th on, the matches
  // would be n x (n-1) x ~6 KiB: the request is refused with ENCLAVE_OUTPUT_LIMIT and changes nothing.
  const verdicts: string[] = [];
  for (const [i, c] of accounts.entries()) {
    const mine = (await c.readOutputs(0n)).filter((o) => o.seq === seqs[i]).map((o) => decodeOutputMessage(o.plaintext));
    verdicts.push(mine.map((m) => (m.ok ? 'ok' : m.error.code)).join(','));
  }
  assert.deepEqual(verdicts.slice(0, 3).map((v) => v.split(',').every((x) => x === 'ok')), [true, true, true], `first three accepted: ${verdicts.join(' | ')}`);
  assert.deepEqual(verdicts.slice(3), Array(9).fill('ENCLAVE_OUTPUT_LIMIT'));
  // The later requests of alice and bob were processed, and the result reflects them.
  const alice = (await adv.outputs('alice')).filter((o) => o.seq === aliceSeq.toString() || o.seq === result.toString());
  assert.deepEqual(alice.map((o) => o.ok), [true, true]);
  const r = alice[1]!;
  assert.ok(r.ok);
  assert.deepEqual(r.result, { type: 'average', value: 15, count: 2 });
  assert.ok((await adv.outputs('bob')).some((o) => o.seq === bobSeq.toString() && o.ok));
});

test('host: a commitment that does not fit a transaction is split, and a failing one is never sent again unchanged', { timeout: 120_000 }, async () => {
  // A chain on which committing more than two requests costs more than the EIP-7825 cap: the estimate says so (the
  // host asks for it on every commitment here; by default it does only when its calldata bound is over the limit).
  // A commitment whose estimate is over the limit is split the same way whichever way the host came to estimate it.
  const attempts: { from: bigint; to: bigint; fits: boolean }[] = [];
  const real = adv.stack.chain.publicClient;
  const publicClient = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'estimateContractGas') return Reflect.get(target, prop, receiver);
      return async (p: { args: readonly [bigint, bigint, ...unknown[]] }) => {
        const [from, to] = p.args;
        const fits = to - from + 1n <= 2n;
        attempts.push({ from, to, fits });
        const gas = await real.estimateContractGas(p as never);
        return fits ? gas : TX_GAS_CAP + 1n;
      };
    },
  });
  const chain = { ...adv.stack.chain, publicClient };
  await createAverage(adv, 'split', ['alice', 'bob', 'carol'], 3);
  for (const who of ['alice', 'bob', 'carol'] as const) await submit(adv, who, { op: 'submit', computation: 'split', value: 1 });
  await submit(adv, 'alice', { op: 'result', computation: 'split' });
  const { requestCount, committedSeq } = await adv.chainState();
  assert.ok(requestCount - committedSeq >= 5n);
  const host = new Host({ chain, operator: adv.operator, contract: adv.contract, config: adv.stack.deployment.config, enclave: adv.stack.enclave, fromBlock: adv.stack.deployment.fromBlock, logger: quiet, estimateCommitGas: true });
  const done: bigint[][] = [];
  host.on('batch', (b: { from: bigint; to: bigint }) => done.push([b.from, b.to]));
  await host.start();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([host.waitCommitted(requestCount), new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('host did not commit everything within 60 s')), 60_000); })]);
  } finally {
    clearTimeout(timer);
    await host.stop();
  }
  await adv.assertHonestHistory();
  assert.ok(done.length >= 3 && done.every(([f, t]) => t! - f! + 1n <= 2n), `every commitment holds at most two requests: ${JSON.stringify(done.map((d) => d.map(String)))}`);
  const failed = attempts.filter((a) => !a.fits);
  assert.ok(failed.length >= 1, 'the oversized batch was tried once');
  for (const f of failed) assert.equal(attempts.filter((a) => a.from === f.from && a.to === f.to).length, 1, `batch [${f.from}, ${f.to}] estimated over the cap was not tried again`);
  const r = (await adv.outputs('alice')).at(-1)!;
  assert.ok(r.ok && r.result.type === 'average' && r.result.value === 1);
});
