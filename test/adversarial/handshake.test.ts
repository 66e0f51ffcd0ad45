// Adversarial host vs. the session handshake: replayed SessionCreate / SessionSetPubKey quotes, a substituted
// encryption key, proofs of the wrong session, a commitment from a superseded session, an outsider opening a session
// with the public bundle (issue 7 item 7), false session ids for requests (item 1), output keys reused across a
// session change (item 8), and the in-flight requests a session rotation does not make undecryptable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { keccak256, toBytes, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { decodeOutputs, sessionProofKeys } from '@geode/protocol';
import { devAccounts } from '@geode/devnet';
import { Adversary, copyDir, createAverage, enclaveDir, expectRefused, restoreDir, startAdversary, submit } from '../harness/adversary.ts';

let adv: Adversary;
const sh = (h: { rlp: string; signature: string }) => ({ rlp: h.rlp, signature: h.signature });
/** The handshake artefacts of session 1, recorded from the chain events (what anyone can replay). */
let s1: { nonce: Hex; createQuote: Hex; keysQuote: Hex; encPubKey: Hex; signer: Hex };

before(async () => {
  adv = await startAdversary();
  const { GeodeCoreAbi } = await import('@geode/contracts');
  const created = await adv.pub.getContractEvents({ address: adv.contract, abi: GeodeCoreAbi, eventName: 'SessionCreated', fromBlock: 0n });
  const activated = await adv.pub.getContractEvents({ address: adv.contract, abi: GeodeCoreAbi, eventName: 'SessionActivated', fromBlock: 0n });
  const c = created[0]!.args as { nonce: Hex; quote: Hex };
  const a = activated[0]!.args as { quote: Hex; encPubKey: Hex; signer: Hex };
  s1 = { nonce: c.nonce, createQuote: c.quote, keysQuote: a.quote, encPubKey: a.encPubKey, signer: a.signer };
  await createAverage(adv, 'hs', ['alice', 'bob', 'carol'], 2);
});

after(async () => {
  await adv?.stack.stop();
});

test('replayed SessionCreate quote: refused (nonce used); with another nonce: report data does not bind it', async () => {
  const before = await adv.chainState();
  assert.deepEqual(await adv.send('sessionCreate', [s1.createQuote, s1.nonce]), { ok: false, error: 'NonceAlreadyUsed' });
  assert.deepEqual(await adv.send('sessionCreate', [s1.createQuote, keccak256(toBytes('fresh'))]), { ok: false, error: 'ReportDataMismatch' });
  assert.deepEqual(await adv.chainState(), before);
});

test('replayed SessionSetPubKey quote, substituted keys, proof of the wrong session', async () => {
  assert.deepEqual(await adv.send('sessionSetPubKey', [1n, s1.keysQuote, s1.encPubKey, s1.signer]), { ok: false, error: 'SessionNotPending' });
  // A new pending session (the enclave's fresh nonce, registered on-chain).
  const e = adv.stack.enclave;
  await expectRefused(e.call('sessionSetPubKey', { sessionId: '1', header: sh(await adv.header('latest')), proof: await adv.proof(sessionProofKeys(1n), await adv.head()) }), 'ENCLAVE_NO_PENDING_SESSION');
  const created = await e.call('sessionCreate');
  const c = await adv.send('sessionCreate', [created.quote, created.nonce]);
  assert.ok(c.ok);
  const sid = 2n;
  // The host asks the enclave to attest its keys to session 1 (active, another nonce): refused.
  const h = sh(await adv.header(c.block));
  await expectRefused(e.call('sessionSetPubKey', { sessionId: '1', header: h, proof: await adv.proof(sessionProofKeys(1n), c.block) }), 'ENCLAVE_SESSION_MISMATCH');
  // Session 1's keys quote replayed onto session 2: it binds session 1's nonce.
  assert.deepEqual(await adv.send('sessionSetPubKey', [sid, s1.keysQuote, s1.encPubKey, s1.signer]), { ok: false, error: 'ReportDataMismatch' });
  // The enclave's genuine quote for session 2 with the host's own encryption key or signer swapped in.
  const keys = await e.call('sessionSetPubKey', { sessionId: sid.toString(), header: h, proof: await adv.proof(sessionProofKeys(sid), c.block) });
  const hostKey = keccak256(toBytes('host-x25519-key'));
  assert.deepEqual(await adv.send('sessionSetPubKey', [sid, keys.quote, hostKey, keys.signer]), { ok: false, error: 'ReportDataMismatch' });
  assert.deepEqual(await adv.send('sessionSetPubKey', [sid, keys.quote, keys.encPubKey, adv.operator.address]), { ok: false, error: 'ReportDataMismatch' });
  // SessionCreate's quote is not a keys quote (different domain).
  assert.deepEqual(await adv.send('sessionSetPubKey', [sid, created.quote, keys.encPubKey, keys.signer]), { ok: false, error: 'ReportDataMismatch' });
  assert.equal((await adv.chainState()).activeSessionId, 1n, 'nothing activated');
  // A third pending session activated first makes session 2 stale.
  const created3 = await e.call('sessionCreate');
  const c3 = await adv.send('sessionCreate', [created3.quote, created3.nonce]);
  assert.ok(c3.ok);
  const k3 = await e.call('sessionSetPubKey', { sessionId: '3', header: sh(await adv.header(c3.block)), proof: await adv.proof(sessionProofKeys(3n), c3.block) });
  assert.ok((await adv.send('sessionSetPubKey', [3n, k3.quote, k3.encPubKey, k3.signer])).ok);
  assert.deepEqual(await adv.send('sessionSetPubKey', [sid, keys.quote, keys.encPubKey, keys.signer]), { ok: false, error: 'StaleSession' });
  await adv.rebindClients();
});

let inFlight = 0n;

test('an outsider running the public bundle on its own account cannot open or replace a session (NotAdmin)', async () => {
  const outsider = privateKeyToAccount(devAccounts(8)[5]!.privateKey);
  const dir = copyDir(enclaveDir(adv));
  restoreDir(dir, null); // its own, empty data dir: fresh keys
  const rogue = await adv.spawnEnclave(dir);
  try {
    const before = await adv.chainState();
    const r = await adv.tryHandshake(rogue, outsider);
    assert.deepEqual(!r.ok && r.error, 'NotAdmin', 'the attested quote alone does not let anyone replace the session');
    const after = await adv.chainState();
    assert.equal(after.activeSessionId, before.activeSessionId, 'the working session stays active');
    assert.equal(after.stateRoot, before.stateRoot);
  } finally {
    await rogue.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('commitment signed in a superseded session: refused (WrongSigner); re-processing under the new session reuses no output key', async () => {
  const seq = await submit(adv, 'alice', { op: 'submit', computation: 'hs', value: 7 });
  const input = await adv.pending();
  const held = await adv.process(adv.stack.enclave, input); // signed under the active session
  await adv.handshake(adv.stack.enclave); // the host rotates the session (same keys) before committing
  await adv.rebindClients();
  const before = await adv.chainState();
  assert.deepEqual(await adv.commit(held), { ok: false, error: 'WrongSigner' });
  assert.deepEqual(await adv.chainState(), before);
  // Item 8: the same batch processed again under the new session. Same state and plaintexts (one outcome), but the
  // output AAD names the new session, and so does every ephemeral key: no (AES-GCM key, nonce) meets two AADs.
  const again = await adv.process(adv.stack.enclave, await adv.batch(input.from, input.to));
  assert.notEqual(again.sessionId, held.sessionId);
  assert.deepEqual(await adv.outcome(again), await adv.outcome(held));
  const encs = (r: typeof held) => decodeOutputs(r.outputs as Hex).filter((o) => o.ciphertext !== '0x').map((o) => o.ciphertext.slice(0, 66));
  assert.ok(encs(held).length > 0);
  encs(held).forEach((e, i) => assert.notEqual(encs(again)[i], e, `output ${i} reuses its ephemeral key across sessions`));
  inFlight = seq;
});

test('false session id for a request (grinding, item 1): refused by the accumulator; no variant root exists', async () => {
  const p = await adv.pending();
  const st = await adv.chainState();
  const snap = await adv.snapshot(adv.stack.enclave, enclaveDir(adv));
  const r = p.requests.find((x) => BigInt(x.seq) === inFlight)!;
  assert.ok(BigInt(r.sessionId) < st.activeSessionId, 'alice encrypted to the superseded session');
  for (const lie of [st.activeSessionId, 0n, BigInt(r.sessionId) + 1n, BigInt(r.sessionId) - 1n]) {
    if (lie === BigInt(r.sessionId)) continue;
    const requests = p.requests.map((x) => (x === r ? { ...x, sessionId: lie.toString() } : x));
    await expectRefused(adv.process(adv.stack.enclave, { ...p, requests }), 'ENCLAVE_ACCUMULATOR_MISMATCH');
  }
  await adv.assertUnchanged(snap, adv.stack.enclave, enclaveDir(adv));
});

test('session rotation: a private request sent before it still decrypts (the contract recorded its session)', async () => {
  const seq = inFlight;
  assert.ok(seq > 0n);
  // The request was encrypted with the old session id in its additional data. The host passes the session the
  // contract recorded (RequestSubmitted.sessionId, proven through the accumulator) and the enclave, whose sessions
  // share one HPKE key, opens it.
  await adv.honest();
  await adv.assertHonestHistory();
  const out = (await adv.outputs('alice')).find((o) => BigInt(o.seq) === seq)!;
  assert.equal(out.ok, true, JSON.stringify(out));
});

test('honest host afterwards: exactly once, in chain order', async () => {
  await submit(adv, 'alice', { op: 'submit', computation: 'hs', value: 7 });
  await submit(adv, 'bob', { op: 'submit', computation: 'hs', value: 9 });
  await submit(adv, 'carol', { op: 'result', computation: 'hs' });
  await adv.honest();
  await adv.assertHonestHistory();
  const r = (await adv.outputs('carol')).filter((o) => o.ok && o.op === 'result');
  assert.deepEqual(r.map((o) => o.ok && o.result), [{ type: 'average', value: 8, count: 2 }]);
});
