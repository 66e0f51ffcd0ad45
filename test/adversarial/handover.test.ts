// Key handover by mutual attestation, gated on-chain, and takeover without loss (issue 10 §2, docs/protocol.md#handover,
// docs/protocol.md#takeover). The test is the host: it brings every quote, proof and message, honest or not. Each
// refusal is checked to change nothing in the refusing enclave.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, hexToBytes, keccak256, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { handoverRequestReportData, hpkeGenerateKeyPair, hpkeOpen, HPKE_INFO, type Result } from '@geode/protocol';
import { buildSimQuote } from '@geode/attestation/sim/quote';
import { createSimulationPki } from '@geode/attestation/sim';
import { devAccounts } from '@geode/devnet';
import {
  Host, handoverReceiveParams, handoverSendParams, requestHandover, runHandover, type EnclaveProcess, type HandoverOptions,
} from '@geode/host';
import { SIM_MR_SIGNER } from '@geode/enclave/sim';
import { Adversary, createAverage, dirDigest, enclaveDir, expectRefused, quiet, revertName, startAdversary, submit } from '../harness/adversary.ts';

let adv: Adversary;
let opts: HandoverOptions;
const dirs: string[] = [];
const spawned: EnclaveProcess[] = [];
/** An account that is neither the admin nor any host's operator. */
const outsider = privateKeyToAccount(devAccounts(8)[5]!.privateKey);

async function newcomer(): Promise<{ enclave: EnclaveProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'geode-newcomer-'));
  dirs.push(dir);
  const enclave = await adv.spawnEnclave(dir);
  spawned.push(enclave);
  return { enclave, dir };
}

/** A sim quote over `reportData` (32 bytes, then zeros) for `mrEnclave`, from the stack's PKI or `pki`. */
function simQuote(mrEnclave: Hex, reportData: Hex, pki = adv.stack.pki): Hex {
  const rd = new Uint8Array(64);
  rd.set(hexToBytes(reportData), 0);
  return bytesToHex(buildSimQuote({ pki, mrEnclave: hexToBytes(mrEnclave), mrSigner: SIM_MR_SIGNER, reportData: rd }));
}

before(async () => {
  adv = await startAdversary();
  opts = { chain: adv.stack.chain, payer: outsider, contract: adv.contract, trust: { collateral: adv.stack.pki.collateral() as never, policy: adv.stack.policy } };
  await createAverage(adv, 'handover', ['alice', 'bob', 'carol'], 2);
  await submit(adv, 'alice', { op: 'submit', computation: 'handover', value: 10 });
  assert.ok((await adv.commit(await adv.process(adv.stack.enclave, await adv.pending()))).ok);
});

after(async () => {
  for (const e of spawned) await e.stop().catch(() => undefined);
  await adv?.stack.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('handover: the newcomer gets the active session\'s keys without any admin action or session change', async () => {
  const before = await adv.chainState();
  const { enclave: b } = await newcomer();
  const t = await runHandover(opts, adv.stack.enclave, b);
  const a = await adv.stack.enclave.call('status');
  assert.equal(t.received.sessionId, a.sessionId);
  assert.equal(t.received.encPubKey, a.encPubKey);
  assert.equal(t.received.signer, a.signer);
  const st = await b.call('status');
  assert.equal(st.sessionId, a.sessionId);
  assert.equal(st.lastSeq, '0', 'the newcomer has no state yet: it follows the committed batches (docs/protocol.md#takeover)');
  assert.equal((await adv.chainState()).activeSessionId, before.activeSessionId, 'no session was opened or replaced');
});

test('handover without on-chain authorisation is refused: no request, another key than recorded, another request id', async () => {
  const { enclave: c, dir } = await newcomer();
  const req = await c.call('handoverRequest');
  // Never submitted: request id 999 does not exist (the proof shows handoverRequests[999] = 0).
  const snapA = await adv.snapshot(adv.stack.enclave, enclaveDir(adv));
  const p = await handoverSendParams(opts, 999n, req);
  await expectRefused(adv.stack.enclave.call('handoverSend', p), 'ENCLAVE_HANDOVER_UNAUTHORISED');
  // Recorded on-chain, but the host swaps in its own public key: the record binds the newcomer's key.
  const { requestId, request } = await requestHandover(opts, c);
  const attacker = await hpkeGenerateKeyPair();
  const swapped = await handoverSendParams(opts, requestId, { ...request, handoverPubKey: bytesToHex(attacker.publicKey) });
  await expectRefused(adv.stack.enclave.call('handoverSend', swapped), 'ENCLAVE_HANDOVER_UNAUTHORISED');
  await adv.assertUnchanged(snapA, adv.stack.enclave, enclaveDir(adv));
  // The same swap on-chain: the quote's report data binds the key (ReportDataMismatch).
  const r = await adv.send('requestHandover', [request.quote, bytesToHex(attacker.publicKey)], { from: outsider });
  assert.deepEqual(!r.ok && r.error, 'ReportDataMismatch');
  void dir;
});

test('handover to an unaccepted measurement, or with forged evidence, is refused on-chain and by the keyed enclave', async () => {
  const other = keccak256(toHex('an enclave build the config does not name'));
  const key = bytesToHex((await hpkeGenerateKeyPair()).publicKey);
  const c = adv.stack.deployment.config;
  const rdOther = handoverRequestReportData(BigInt(c.chainId), adv.contract, (await adv.stack.enclave.call('init', { config: c })).configHash as Hex, other, key);
  const unaccepted = simQuote(other, rdOther);
  const r1 = await adv.send('requestHandover', [unaccepted, key], { from: outsider });
  assert.deepEqual(!r1.ok && r1.error, 'MeasurementNotAccepted');
  const snapA = await adv.snapshot(adv.stack.enclave, enclaveDir(adv));
  const base = await handoverSendParams(opts, 1n, { handoverPubKey: key, quote: unaccepted });
  // The attested policy pins the measurement (the config's list is checked after it, ENCLAVE_HANDOVER_MEASUREMENT).
  await assert.rejects(adv.stack.enclave.call('handoverSend', base), (e: { code?: string; details?: { code?: string } }) => e.code === 'ENCLAVE_HANDOVER_EVIDENCE' && e.details?.code === 'POLICY_MEASUREMENT');
  // Forged: the accepted measurement and the right report data, signed by a PKI the deployment does not trust.
  const forgedPki = await createSimulationPki({ now: Math.floor(Date.now() / 1000) - 86_400, validityDays: 30 });
  const rdOk = handoverRequestReportData(BigInt(c.chainId), adv.contract, (await adv.stack.enclave.call('init', { config: c })).configHash as Hex, adv.stack.measurement, key);
  const forged = simQuote(adv.stack.measurement, rdOk, forgedPki);
  const r2 = await adv.send('requestHandover', [forged, key], { from: outsider });
  assert.ok(!r2.ok, 'the on-chain verifier refuses a quote from another attestation key');
  await expectRefused(adv.stack.enclave.call('handoverSend', { ...base, quote: forged }), 'ENCLAVE_HANDOVER_EVIDENCE');
  // A policy other than the attested one (e.g. one that accepts anything) is refused before any quote is looked at.
  await expectRefused(adv.stack.enclave.call('handoverSend', { ...base, trust: { ...opts.trust, policy: { ...adv.stack.policy, acceptedStatuses: ['UpToDate', 'OutOfDate'] } } }), 'ENCLAVE_HANDOVER_POLICY');
  await adv.assertUnchanged(snapA, adv.stack.enclave, enclaveDir(adv));
});

test('a stolen or replayed handover message is useless: it opens only in the instance whose request it answers', async () => {
  const { enclave: d, dir: dDir } = await newcomer();
  const { requestId, request } = await requestHandover(opts, d);
  const dFiles = dirDigest(dDir);
  const message = await adv.stack.enclave.call('handoverSend', await handoverSendParams(opts, requestId, request));
  // The host holds the message but no key that opens it (HPKE to the newcomer's in-enclave key).
  const mine = await hpkeGenerateKeyPair();
  await assert.rejects(hpkeOpen(mine.privateKey, hexToBytes(message.enc as Hex), HPKE_INFO.handover, new Uint8Array(0), hexToBytes(message.ciphertext as Hex)));
  // Replayed to another newcomer with its own pending request: not its request (by id), and not its message (by its own id).
  const { enclave: e, dir: eDir } = await newcomer();
  const own = await requestHandover(opts, e);
  const eFiles = dirDigest(eDir);
  await expectRefused(e.call('handoverReceive', await handoverReceiveParams(opts, message)), 'ENCLAVE_HANDOVER_UNAUTHORISED');
  await expectRefused(e.call('handoverReceive', await handoverReceiveParams(opts, { ...message, requestId: own.requestId.toString() })), 'ENCLAVE_HANDOVER_BINDING');
  assert.equal((await e.call('status')).sessionId, null);
  assert.deepEqual(dirDigest(eDir), eFiles, 'the other newcomer wrote nothing');
  // A tampered ciphertext no longer matches the sender's evidence.
  const tampered = { ...message, ciphertext: `${message.ciphertext.slice(0, -2)}${message.ciphertext.endsWith('00') ? '01' : '00'}` };
  await expectRefused(d.call('handoverReceive', await handoverReceiveParams(opts, tampered)), 'ENCLAVE_HANDOVER_BINDING');
  // The sender's evidence must come from an attested instance: the newcomer's own request quote is not a sender quote.
  await expectRefused(d.call('handoverReceive', await handoverReceiveParams(opts, { ...message, quote: request.quote })), 'ENCLAVE_HANDOVER_BINDING');
  assert.equal((await d.call('status')).sessionId, null, 'nothing adopted from a refused message');
  assert.deepEqual(dirDigest(dDir), dFiles, 'no file written by a refused message');
  // The untouched message still works for its own newcomer.
  const ok: Result<'handoverReceive'> = await d.call('handoverReceive', await handoverReceiveParams(opts, message));
  assert.equal(ok.signer, (await adv.stack.enclave.call('status')).signer);
});

test('a session replacement by a non-admin without the keys is refused (NotAdmin); the active session stays', async () => {
  const { enclave: f } = await newcomer();
  const before = await adv.chainState();
  const hs = await adv.tryHandshake(f, outsider);
  assert.deepEqual(!hs.ok && hs.error, 'NotAdmin');
  const now = await adv.chainState();
  assert.deepEqual([now.activeSessionId, now.committedSeq, now.stateRoot], [before.activeSessionId, before.committedSeq, before.stateRoot], 'the active session and the committed state stay');
});

test('follow mode: a committed root the batch does not reproduce is refused (ENCLAVE_FOLLOW_MISMATCH); state, root and chain unchanged', async () => {
  await submit(adv, 'carol', { op: 'submit', computation: 'handover', value: 1 });
  const pending = await adv.pending();
  const snap = await adv.snapshot(adv.stack.enclave, enclaveDir(adv));
  await expectRefused(adv.stack.enclave.call('processBatch', { header: pending.header, proof: pending.proof, requests: pending.requests, expectNewRoot: keccak256(toHex('not the root')) }), 'ENCLAVE_FOLLOW_MISMATCH');
  // The check follows the store commit (the root is the store's), so the store may keep an unreferenced version, as
  // after any batch that failed late (docs/enclave.md#store-versions); what the enclave holds and the chain do not move.
  const now = await adv.snapshot(adv.stack.enclave, enclaveDir(adv));
  assert.deepEqual(now.enclave, snap.enclave);
  assert.deepEqual(now.chain, snap.chain);
  const again = await adv.process(adv.stack.enclave, pending);
  const followed = await adv.stack.enclave.call('status');
  assert.equal(followed.stateRoot, again.newRoot);
  assert.ok((await adv.commit(again)).ok);
});

test('takeover: the committing instance is SIGKILLed and its data dir deleted with requests in flight; a keyed follower continues from the committed root', async () => {
  const { enclave: b } = await newcomer();
  await runHandover(opts, adv.stack.enclave, b);
  const operatorB = privateKeyToAccount(devAccounts(8)[6]!.privateKey);
  const hostOf = (enclave: EnclaveProcess, operator = adv.operator, standbyMs = 0) => new Host({
    chain: adv.stack.chain, operator, contract: adv.contract, config: adv.stack.deployment.config, enclave, fromBlock: adv.stack.deployment.fromBlock, logger: quiet, takeover: { standbyMs },
  });
  const hostA = hostOf(adv.stack.enclave);
  const hostB = hostOf(b, operatorB, 1500);
  await hostA.start();
  await hostB.start();
  await submit(adv, 'bob', { op: 'submit', computation: 'handover', value: 20 });
  const seq = await submit(adv, 'carol', { op: 'submit', computation: 'handover', value: 30 });
  await hostA.waitCommitted(seq);
  // B follows A's commitments into its own store.
  for (let i = 0; i < 200 && (await b.call('status')).stateRoot !== (await adv.chainState()).stateRoot; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await b.call('status')).stateRoot, (await adv.chainState()).stateRoot, 'the follower holds the committed state');
  // A dies with requests in flight, and its data directory is gone.
  await hostA.stop();
  await adv.stack.enclave.kill();
  rmSync(enclaveDir(adv), { recursive: true, force: true });
  const s1 = await submit(adv, 'alice', { op: 'result', computation: 'handover' });
  const s2 = await submit(adv, 'bob', { op: 'result', computation: 'handover' });
  await hostB.waitCommitted(s2);
  await hostB.stop();
  await adv.assertHonestHistory();
  const outs = await adv.outputs('alice');
  const result = outs.find((o) => o.seq === s1.toString());
  assert.ok(result && result.ok, `alice's result request (seq ${s1}) has an ok output`);
  assert.deepEqual(result.ok && result.result, { type: 'average', value: 20, count: 3 });
  void revertName;
  survivor = b;
});

let survivor: EnclaveProcess | undefined;

test('two keyed instances racing to commit: the contract takes the first, the loser follows it; C joined from B after A was gone', async () => {
  assert.ok(survivor, 'runs after the takeover test');
  const { enclave: c } = await newcomer();
  await runHandover(opts, survivor, c);
  const race = (enclave: EnclaveProcess, account: number) => new Host({
    chain: adv.stack.chain, operator: privateKeyToAccount(devAccounts(8)[account]!.privateKey), contract: adv.contract, config: adv.stack.deployment.config,
    enclave, fromBlock: adv.stack.deployment.fromBlock, logger: quiet, takeover: { standbyMs: 0 },
  });
  const hosts = [race(survivor, 6), race(c, 7)];
  for (const h of hosts) await h.start();
  await createAverage(adv, 'race', ['alice', 'bob', 'carol'], 3);
  let last = 0n;
  for (const [who, v] of [['alice', 3], ['bob', 6], ['carol', 9]] as const) last = await submit(adv, who, { op: 'submit', computation: 'race', value: v });
  const res = await submit(adv, 'carol', { op: 'result', computation: 'race' });
  await Promise.all(hosts.map((h) => h.waitCommitted(res)));
  const root = (await adv.chainState()).stateRoot;
  for (let i = 0; i < 200 && ((await survivor.call('status')).stateRoot !== root || (await c.call('status')).stateRoot !== root); i++) await new Promise((r) => setTimeout(r, 100));
  for (const h of hosts) await h.stop();
  assert.equal((await survivor.call('status')).stateRoot, root);
  assert.equal((await c.call('status')).stateRoot, root, 'both instances hold the committed state');
  await adv.assertHonestHistory();
  const out = (await adv.outputs('carol')).find((o) => o.seq === res.toString());
  assert.deepEqual(out && out.ok && out.result, { type: 'average', value: 6, count: 3 });
  void last;
});
