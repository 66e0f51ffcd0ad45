// A handover to a *different* measurement (a code upgrade) happens only when the deployment's config names it as an
// accepted successor (issue 10 §2, docs/protocol.md#handover): ENCLAVE_HANDOVER_MEASUREMENT in the keyed enclave even
// when the attested policy would accept the build, MeasurementNotAccepted on-chain; and the same successor build
// receives the keys and commits when the config lists it. The successor is a real second build: the enclave bundle
// with one more line, so its simulated mr_enclave (SHA-256 of the bundle) differs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { keccak256, toBytes, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { canonicalJson, type ConfigJson } from '@geode/protocol';
import { parsePolicy, type Policy } from '@geode/attestation';
import { devAccounts } from '@geode/devnet';
import { EnclaveProcess, Host, deployGeodeApp, handoverSendParams, runHandover, type HandoverOptions } from '@geode/host';
import { GeodeCoreAbi } from '@geode/contracts';
import { ComputationsAbi, ComputationsBytecode } from '@geode/app-computations/artifacts';
import { Adversary, dirDigest, expectRefused, quiet, startAdversary } from '../harness/adversary.ts';

let adv: Adversary;
let successorBundle: string;
let successor: Hex;
const dirs: string[] = [];
const spawned: EnclaveProcess[] = [];
const outsider = privateKeyToAccount(devAccounts(8)[5]!.privateKey);

function policyFor(measurements: Hex[]): Policy {
  return parsePolicy({ teeTypes: ['sgx'], acceptedStatuses: ['UpToDate'], allowSimulation: true, sgx: { mrEnclave: measurements.map((m) => m.slice(2)) } });
}

async function spawn(bundle: string, config: ConfigJson): Promise<{ enclave: EnclaveProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'geode-upgrade-'));
  dirs.push(dir);
  const enclave = new EnclaveProcess({ bundle, dataDir: dir, simPki: join(adv.stack.dataDir, 'sim-pki.json') });
  spawned.push(enclave);
  enclave.start();
  await enclave.call('init', { config });
  return { enclave, dir };
}

/** A deployment of the app on the adversary's devnet accepting `measurements` under `policy`, with a keyed instance of the current build. */
async function deployment(measurements: Hex[], policy: Policy): Promise<{ config: ConfigJson; contract: Address; keyed: EnclaveProcess; keyedDir: string; opts: HandoverOptions; fromBlock: bigint }> {
  const c = adv.stack.deployment.config;
  const d = await deployGeodeApp({
    chain: adv.stack.chain, deployer: privateKeyToAccount(devAccounts(8)[0]!.privateKey), app: { abi: ComputationsAbi, bytecode: ComputationsBytecode }, measurements,
    attestationVerifier: { address: c.attestationVerifier as Address, name: 'SimQuoteVerifier', checks: ['sgx-sim'] },
    anchor: { signer: c.lcSigner as Address, genesisHash: c.lcGenesisHash as Hex }, policyHash: keccak256(toBytes(canonicalJson(policy))), admin: adv.operator.address,
  });
  const { enclave: keyed, dir: keyedDir } = await spawn(adv.stack.app.bundle, d.config);
  await new Host({ chain: adv.stack.chain, operator: adv.operator, contract: d.contract, config: d.config, enclave: keyed, fromBlock: d.fromBlock, logger: quiet }).ensureSession();
  const opts = { chain: adv.stack.chain, payer: outsider, contract: d.contract, trust: { collateral: adv.stack.pki.collateral() as never, policy } };
  return { config: d.config, contract: d.contract, keyed, keyedDir, opts, fromBlock: d.fromBlock };
}

before(async () => {
  adv = await startAdversary();
  // Next to the original, so the bundle resolves what it loads at run time the same way.
  successorBundle = join(dirname(adv.stack.app.bundle), `successor-${randomBytes(4).toString('hex')}.mjs`);
  copyFileSync(adv.stack.app.bundle, successorBundle);
  appendFileSync(successorBundle, '\n// a successor build\n');
  successor = `0x${createHash('sha256').update(readFileSync(successorBundle)).digest('hex')}`;
  assert.notEqual(successor, adv.stack.measurement);
});

after(async () => {
  for (const e of spawned) await e.stop().catch(() => undefined);
  await adv?.stack.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (successorBundle) rmSync(successorBundle, { force: true });
});

test('a successor build the config does not name is refused (ENCLAVE_HANDOVER_MEASUREMENT), even under a policy that accepts it; nothing changes', async () => {
  // The policy (hashed into the config) accepts both builds; the config's measurement list names only the current one.
  const d = await deployment([adv.stack.measurement], policyFor([adv.stack.measurement, successor]));
  const { enclave: next } = await spawn(successorBundle, d.config);
  const req = await next.call('handoverRequest');
  // On-chain: the contract accepts only the config's measurements.
  const onChain = await adv.pub.simulateContract({ account: outsider, address: d.contract, abi: GeodeCoreAbi, functionName: 'requestHandover', args: [req.quote as Hex, req.handoverPubKey as Hex] }).then(() => 'ok', (e: unknown) => String((e as Error).message));
  assert.match(onChain, /MeasurementNotAccepted/);
  // The host skips the contract and shows the keyed enclave the successor's quote directly.
  const before = { status: await d.keyed.call('status'), files: dirDigest(d.keyedDir) };
  const p = await handoverSendParams(d.opts, 1n, req);
  await expectRefused(d.keyed.call('handoverSend', p), 'ENCLAVE_HANDOVER_MEASUREMENT');
  assert.deepEqual(await d.keyed.call('status'), before.status);
  assert.deepEqual(dirDigest(d.keyedDir), before.files);
  assert.equal((await next.call('status')).sessionId, null);
});

test('a successor build the config names receives the keys by handover and commits in the same session', async () => {
  const d = await deployment([adv.stack.measurement, successor], policyFor([adv.stack.measurement, successor]));
  const { enclave: next } = await spawn(successorBundle, d.config);
  const t = await runHandover(d.opts, d.keyed, next);
  const keyed = await d.keyed.call('status');
  assert.deepEqual([t.received.sessionId, t.received.signer], [keyed.sessionId, keyed.signer]);
  assert.equal((await next.call('status')).measurement, successor);
  // The successor alone commits the next request (a public one: an output-key registration).
  await d.keyed.stop();
  const hash = await adv.stack.chain.wallet(outsider).writeContract({ address: d.contract, abi: GeodeCoreAbi, functionName: 'registerOutputKey', args: [`0x${'11'.repeat(32)}`], gas: 1_000_000n });
  await adv.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  const host = new Host({ chain: adv.stack.chain, operator: adv.operator, contract: d.contract, config: d.config, enclave: next, fromBlock: d.fromBlock, logger: quiet, takeover: { standbyMs: 0 } });
  await host.start();
  try {
    await host.waitCommitted(1n);
  } finally {
    await host.stop();
  }
  const committed = (await adv.pub.readContract({ address: d.contract, abi: GeodeCoreAbi, functionName: 'committedSeq' })) as bigint;
  assert.equal(committed, 1n);
  const [activeId] = (await adv.pub.readContract({ address: d.contract, abi: GeodeCoreAbi, functionName: 'activeSession' })) as unknown as [bigint];
  assert.equal(activeId.toString(), keyed.sessionId, 'no new session: the upgrade continues the keys');
});
