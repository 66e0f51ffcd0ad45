// The transfers app on the running stack (devnet, Transfers contract, enclave process, light-client-gated batches):
// 1. the demo scenario ends with the expected JSON line;
// 2. under the adversarial host (test/harness/adversary.ts: the test is the host) and across enclave crashes and
//    rolled-back sealed state: a batch processed twice commits once, a replayed commitment is refused, each
//    withdrawal is credited and claimed exactly once, a withdrawal beyond a balance is refused, and at the end the
//    contract's ETH == the sum of the private balances (each user's encrypted answer) + pending withdrawals.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEther } from 'viem';
import { TransfersAbi } from '../generated/artifacts.ts';
import { NO_PUBLIC_OUTPUTS } from '@geode/protocol';
import { Adversary, NAMES, copyDir, enclaveDir, startAdversary, type Name } from '../../../test/harness/adversary.ts';
import { transfersApp, TransfersClient, checkConservation, runTransfersDemo } from '../src/client/index.ts';

test('transfers demo: deposits, private transfers, a refused overdraft, withdrawals and claims end conserved', async () => {
  const r = await runTransfersDemo();
  assert.equal(typeof r.elapsedMs, 'number');
  assert.deepEqual({ ...r, elapsedMs: 0 }, {
    ok: true, app: 'transfers', deposits: 2, transfers: 2, withdrawals: 2,
    balances: { alice: parseEther('2.5').toString(), bob: parseEther('3').toString(), carol: parseEther('0.3').toString() },
    contractBalanceWei: parseEther('5.8').toString(), conserved: true, elapsedMs: 0,
  });
});

let adv: Adversary;
let u: Record<Name, TransfersClient>;
before(async () => {
  adv = await startAdversary({ app: transfersApp() });
  u = {} as Record<Name, TransfersClient>;
  const o = { publicClient: adv.pub, wallet: adv.stack.chain.wallet, contract: adv.contract };
  for (const n of NAMES) u[n] = new TransfersClient(adv.parties[n].client, o);
});
after(async () => { await adv?.stack.stop(); });

const owed = (n: Name) => u[n].owed();
const totalOwed = () => adv.pub.readContract({ address: adv.contract, abi: TransfersAbi, functionName: 'totalOwed' });

test('transfers under the adversarial host and enclave restarts: one outcome per batch, each withdrawal paid once, value conserved', async () => {
  const enclave = adv.stack.enclave;
  const dir = enclaveDir(adv);
  await u.alice.deposit(parseEther('3'));
  await u.bob.deposit(parseEther('1'));
  await u.alice.transfer(u.bob.address, parseEther('2'));
  await u.bob.withdraw(parseEther('2.5'));
  await u.carol.withdraw(1n); // carol has nothing: refused
  const beforeBatch = copyDir(dir);

  // The host has the enclave process the same batch twice: the same commitment both times (deterministic).
  const input = await adv.pending();
  const r1 = await adv.process(enclave, input);
  const r2 = await adv.process(enclave, input);
  assert.deepEqual(r2, r1);
  const afterFirst = copyDir(dir);
  assert.notEqual(r1.publicOutputs, NO_PUBLIC_OUTPUTS, 'the withdrawal is published');
  assert.equal((await adv.commit(r1)).ok, true);
  assert.deepEqual(await adv.commit(r2), { ok: false, error: 'UnexpectedBatchStart' }, 'a replayed commitment is refused');
  assert.equal(await owed('bob'), parseEther('2.5'));
  assert.equal(await owed('carol'), 0n, 'the refused withdrawal published nothing');

  // A crash, then the enclave restarted on sealed state from before that batch (rolled back by the host): it cannot
  // re-run the committed batch (the chain proves the newer root), and what follows still has one outcome.
  await u.bob.transfer(u.carol.address, parseEther('0.5'));
  await u.carol.withdraw(parseEther('0.5'));
  await u.bob.withdraw(parseEther('1')); // bob has 0.5 left: refused
  await adv.restartWith(enclave, dir, beforeBatch);
  const again = await adv.pending();
  const r3 = await adv.process(enclave, again).catch((e: { code?: string }) => e.code);
  assert.equal(r3, 'ENCLAVE_STALE_STATE', 'rolled-back sealed state cannot continue the committed chain');

  // Hand over to an honest host (restarted enclave with the data dir restored to the state after r1) and finish.
  await adv.restartWith(enclave, dir, afterFirst);
  await adv.honest(enclave);
  assert.equal(await owed('carol'), parseEther('0.5'));
  assert.equal(await owed('bob'), parseEther('2.5'), 'no withdrawal beyond a balance, none credited twice');

  // Claims pay exactly once.
  await u.bob.claim();
  await assert.rejects(u.bob.claim(), (e: { details?: { error?: string } }) => e.details?.error === 'NothingToClaim');
  assert.equal(await totalOwed(), parseEther('0.5'));

  const c = await checkConservation(adv.stack, u, () => adv.honest(enclave));
  assert.deepEqual(Object.fromEntries(Object.entries(c.balances).map(([k, v]) => [k, v.toString()])), {
    alice: parseEther('1').toString(), bob: parseEther('0').toString(), carol: '0', dave: '0', eve: '0',
  });
  assert.equal(c.contractBalance, parseEther('1.5'));
  assert.equal(c.totalOwed, parseEther('0.5'));
  assert.equal(c.conserved, true);
  await adv.assertHonestHistory();
});
