// Backup and restore of the key material: the disaster path when every instance is gone (issue 10 §2 "Backup",
// docs/protocol.md#backup). The test is the host and the recovery-key holder: it brings every proof and message,
// honest or not. Each refusal asserts its code and that nothing changed (no keys adopted, no file written, chain
// unchanged).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, hexToBytes, keccak256, toBytes, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  HPKE_INFO, backupAad, canonicalJson, handoverAad, hpkeOpen, hpkeSeal, type BackupFile, type ConfigJson,
} from '@geode/protocol';
import type { QuoteCollateral } from '@geode/attestation';
import { GeodeCoreAbi } from '@geode/contracts';
import { devAccounts } from '@geode/devnet';
import {
  EnclaveProcess, Host, deliverRestore, deployGeodeApp, exportBackup, requestHandover, setRecoveryKey, type HandoverOptions, type RestoreMessage,
} from '@geode/host';
import { generateRecoveryKey, parseRecoveryKey, restoreMessage, type RestoreOptions } from '@geode/cli';
import { ComputationsAbi, ComputationsBytecode } from '@geode/app-computations/artifacts';
import { SqliteBackend } from '@geode/enclave';
import { Adversary, createAverage, dirDigest, enclaveDir, expectRefused, quiet, startAdversary, submit } from '../harness/adversary.ts';

let adv: Adversary;
let opts: HandoverOptions;
let recovery: { publicKey: Hex; privateKey: Uint8Array };
const dirs: string[] = [];
const spawned: EnclaveProcess[] = [];
const outsider = privateKeyToAccount(devAccounts(8)[5]!.privateKey);

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

async function newcomer(config: ConfigJson = adv.stack.deployment.config): Promise<{ enclave: EnclaveProcess; dir: string }> {
  const dir = tempDir('geode-restore-');
  const enclave = new EnclaveProcess({ bundle: adv.stack.app.bundle, dataDir: dir, simPki: join(adv.stack.dataDir, 'sim-pki.json') });
  spawned.push(enclave);
  enclave.start();
  await enclave.call('init', { config });
  return { enclave, dir };
}

/** The recovery-key holder's restore inputs for the adversary's deployment (overrides per test). */
function restoreOpts(backup: BackupFile, requestId: bigint, over: Partial<RestoreOptions> = {}): RestoreOptions {
  return {
    publicClient: adv.pub, chainId: adv.stack.chain.chainId, contract: adv.contract, config: adv.stack.deployment.config, policy: adv.stack.policy,
    collateral: adv.stack.pki.collateral() as QuoteCollateral, rootCaDer: adv.stack.pki.rootCaDer, backup, recoveryKey: recovery, requestId,
    now: Math.floor(Date.now() / 1000), ...over,
  };
}

/** Copy the state database files (state-<keyId>.db and its -wal/-shm) of `dir` aside, as an operator's backup job does. */
function copyStateDb(dir: string): string {
  const copy = tempDir('geode-db-copy-');
  for (const f of readdirSync(dir)) if (f.startsWith('state-')) cpSync(join(dir, f), join(copy, f));
  assert.ok(readdirSync(copy).some((f) => f.endsWith('.db')), 'the enclave has a state database to copy');
  return copy;
}

/** A second deployment of the same app on the same devnet (admin = the adversary's operator), handshake done. */
async function otherDeployment(o: { recoveryKey?: Hex }): Promise<{ config: ConfigJson; contract: Address; enclave: EnclaveProcess }> {
  const c = adv.stack.deployment.config;
  const d = await deployGeodeApp({
    chain: adv.stack.chain, deployer: privateKeyToAccount(devAccounts(8)[0]!.privateKey), app: { abi: ComputationsAbi, bytecode: ComputationsBytecode },
    measurements: [adv.stack.measurement], attestationVerifier: { address: c.attestationVerifier as Address, name: 'SimQuoteVerifier', checks: ['sgx-sim'] },
    anchor: { signer: c.lcSigner as Address, genesisHash: c.lcGenesisHash as Hex }, policyHash: keccak256(toBytes(canonicalJson(adv.stack.policy))), admin: adv.operator.address,
  });
  if (o.recoveryKey) await setRecoveryKey(adv.stack.chain, adv.operator, d.contract, o.recoveryKey);
  const { enclave } = await newcomer(d.config);
  await new Host({ chain: adv.stack.chain, operator: adv.operator, contract: d.contract, config: d.config, enclave, fromBlock: d.fromBlock, logger: quiet }).ensureSession();
  return { config: d.config, contract: d.contract, enclave };
}

/** The handover public key of on-chain request `id` (its HandoverRequested event). */
async function requestKey(id: bigint): Promise<Hex> {
  const logs = await adv.pub.getContractEvents({ address: adv.contract, abi: GeodeCoreAbi, eventName: 'HandoverRequested', args: { id }, fromBlock: 0n });
  return (logs.at(-1)!.args as { handoverPubKey: Hex }).handoverPubKey;
}

let backup: BackupFile;
let dbCopy: string;

before(async () => {
  recovery = parseRecoveryKey(await generateRecoveryKey());
  adv = await startAdversary({ recoveryKey: recovery.publicKey });
  opts = { chain: adv.stack.chain, payer: outsider, contract: adv.contract, trust: { collateral: adv.stack.pki.collateral() as never, policy: adv.stack.policy } };
  await createAverage(adv, 'backup', ['alice', 'bob', 'carol'], 3);
  await submit(adv, 'alice', { op: 'submit', computation: 'backup', value: 10 });
  assert.ok((await adv.commit(await adv.process(adv.stack.enclave, await adv.pending()))).ok);
});

after(async () => {
  for (const e of spawned) await e.stop().catch(() => undefined);
  await adv?.stack.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('backup: the keyed instance seals its key material to the proven recovery key; exporting changes nothing', async () => {
  const snap = await adv.snapshot(adv.stack.enclave, enclaveDir(adv));
  backup = await exportBackup(adv.stack.chain, adv.contract, adv.stack.enclave);
  await adv.assertUnchanged(snap, adv.stack.enclave, enclaveDir(adv));
  const st = await adv.stack.enclave.call('status');
  assert.equal(backup.sessionId, st.sessionId);
  assert.equal(backup.encPubKey, st.encPubKey);
  assert.equal(backup.signer, st.signer);
  assert.equal(backup.measurement, adv.stack.measurement);
  assert.equal(backup.recoveryKey, recovery.publicKey);
  assert.equal(backup.contract.toLowerCase(), adv.contract.toLowerCase());
  // The blob is ciphertext bound to every field the file states: it opens with the recovery key and these fields only.
  const aad = (b: BackupFile) => hexToBytes(backupAad(BigInt(b.chainId), b.contract as Address, BigInt(b.sessionId), b.encPubKey as Hex, b.signer as Address, b.measurement as Hex, b.recoveryKey as Hex));
  const material = JSON.parse(new TextDecoder().decode(await hpkeOpen(recovery.privateKey, hexToBytes(backup.enc as Hex), HPKE_INFO.backup, aad(backup), hexToBytes(backup.ciphertext as Hex)))) as { sessionId: string; signerKey: Hex };
  assert.equal(material.sessionId, st.sessionId);
  assert.ok(!backup.ciphertext.includes(material.signerKey.slice(2)), 'the file never holds the key material in clear');
  await assert.rejects(hpkeOpen(recovery.privateKey, hexToBytes(backup.enc as Hex), HPKE_INFO.backup, aad({ ...backup, sessionId: '99' }), hexToBytes(backup.ciphertext as Hex)));
  dbCopy = copyStateDb(enclaveDir(adv)); // the operator's copy of the sealed state database, taken with the backup
});

test('backup is refused where the deployment names no recovery key (ENCLAVE_BACKUP_NO_RECOVERY_KEY), and the key cannot be set once a session exists', async () => {
  const d = await otherDeployment({});
  await expectRefused(exportBackup(adv.stack.chain, d.contract, d.enclave), 'ENCLAVE_BACKUP_NO_RECOVERY_KEY');
  const r = await adv.send('setRecoveryKey', [recovery.publicKey]);
  assert.deepEqual(!r.ok && r.error, 'RecoveryKeyFixed', 'the adversary deployment has sessions: its recovery key is fixed');
  await assert.rejects(setRecoveryKey(adv.stack.chain, adv.operator, d.contract, recovery.publicKey), (e: { code?: string }) => e.code === 'HOST_CHAIN');
  // Only the admin may name it, and only before the first session.
  const fresh = await deployGeodeApp({
    chain: adv.stack.chain, deployer: outsider, app: { abi: ComputationsAbi, bytecode: ComputationsBytecode }, measurements: [adv.stack.measurement],
    attestationVerifier: { address: d.config.attestationVerifier as Address, name: 'SimQuoteVerifier', checks: ['sgx-sim'] },
    anchor: { signer: d.config.lcSigner as Address, genesisHash: d.config.lcGenesisHash as Hex }, policyHash: d.config.policyHash as Hex, admin: adv.operator.address,
  });
  await assert.rejects(setRecoveryKey(adv.stack.chain, outsider, fresh.contract, recovery.publicKey), (e: { code?: string }) => e.code === 'HOST_CHAIN');
});

let requestId: bigint;
let n: { enclave: EnclaveProcess; dir: string };

test('restore refusals by the recovery-key holder: wrong key, tampered blob, another deployment, no request, refused evidence; nothing is sent', async () => {
  assert.ok(backup, 'runs after the backup test');
  n = await newcomer();
  requestId = (await requestHandover(opts, n.enclave)).requestId;
  const before = dirDigest(n.dir);
  // A recovery key the backup is not sealed to.
  await expectRefused(restoreMessage(restoreOpts(backup, requestId, { recoveryKey: parseRecoveryKey(await generateRecoveryKey()) })), 'CLI_RECOVERY_KEY_MISMATCH');
  // A tampered ciphertext, and a tampered field (the AAD binds every field).
  const flip = (h: string) => `${h.slice(0, -2)}${h.endsWith('00') ? '01' : '00'}`;
  await expectRefused(restoreMessage(restoreOpts({ ...backup, ciphertext: flip(backup.ciphertext) }, requestId)), 'CLI_BACKUP_OPEN');
  await expectRefused(restoreMessage(restoreOpts({ ...backup, measurement: keccak256(toBytes('another build')) }, requestId)), 'CLI_BACKUP_OPEN');
  // The backup of another deployment (same recovery key): refused by binding.
  const other = await otherDeployment({ recoveryKey: recovery.publicKey });
  const foreign = await exportBackup(adv.stack.chain, other.contract, other.enclave);
  await expectRefused(restoreMessage(restoreOpts(foreign, requestId)), 'CLI_BACKUP_BINDING');
  // A request id with no on-chain request; an unaccepted measurement cannot file one (MeasurementNotAccepted, handover.test.ts).
  await expectRefused(restoreMessage(restoreOpts(backup, 999n)), 'CLI_RESTORE_NO_REQUEST');
  // The newcomer's evidence is judged at `now`: outside the PKI's validity it is refused.
  await assert.rejects(restoreMessage(restoreOpts(backup, requestId, { now: Math.floor(Date.now() / 1000) + 20 * 365 * 86_400 })), (e: { code?: string }) => e.code === 'CLI_RESTORE_EVIDENCE');
  // A deployment file that is not the contract's (laxer measurements): refused by binding.
  await expectRefused(restoreMessage(restoreOpts(backup, requestId, { config: { ...adv.stack.deployment.config, measurements: [...adv.stack.deployment.config.measurements, keccak256(toBytes('x'))] } })), 'CLI_RESTORE_BINDING');
  assert.equal((await n.enclave.call('status')).sessionId, null);
  assert.deepEqual(dirDigest(n.dir), before);
});

test('restore refusals by the newcomer itself: a foreign deployment\'s keys, an unaccepted exporter, a message for another request; nothing adopted', async () => {
  assert.ok(n, 'runs after the previous test');
  const c = adv.stack.deployment.config;
  const before = dirDigest(n.dir);
  const handoverPubKey = await requestKey(requestId);
  const seal = async (material: Uint8Array, exporter: Hex, id = requestId): Promise<RestoreMessage> => {
    const s = await hpkeSeal(hexToBytes(handoverPubKey), HPKE_INFO.handover, hexToBytes(handoverAad(BigInt(c.chainId), adv.contract, id, exporter, adv.stack.measurement, handoverPubKey)), material);
    return { requestId: id.toString(), enc: bytesToHex(s.enc), ciphertext: bytesToHex(s.ciphertext), exporterMeasurement: exporter };
  };
  const open = async (b: BackupFile) => hpkeOpen(recovery.privateKey, hexToBytes(b.enc as Hex), HPKE_INFO.backup, hexToBytes(backupAad(BigInt(b.chainId), b.contract as Address, BigInt(b.sessionId), b.encPubKey as Hex, b.signer as Address, b.measurement as Hex, b.recoveryKey as Hex)), hexToBytes(b.ciphertext as Hex));
  // A holder who skips its checks and re-seals another deployment's keys: not the active session's keys.
  const other = await otherDeployment({ recoveryKey: recovery.publicKey });
  const foreign = await exportBackup(adv.stack.chain, other.contract, other.enclave);
  await expectRefused(deliverRestore(adv.stack.chain, adv.contract, n.enclave, await seal(await open(foreign), adv.stack.measurement)), 'ENCLAVE_RESTORE_SUPERSEDED');
  // The right keys, claimed to come from a measurement the config does not accept.
  const mine = await open(backup);
  await expectRefused(deliverRestore(adv.stack.chain, adv.contract, n.enclave, await seal(mine, keccak256(toBytes('unaccepted build')))), 'ENCLAVE_HANDOVER_MEASUREMENT');
  // The right keys, sealed for another request id (a replay): not this instance's request.
  await expectRefused(deliverRestore(adv.stack.chain, adv.contract, n.enclave, await seal(mine, adv.stack.measurement, requestId - 1n)), 'ENCLAVE_HANDOVER_UNAUTHORISED');
  // A tampered message does not open.
  const m = await seal(mine, adv.stack.measurement);
  await expectRefused(deliverRestore(adv.stack.chain, adv.contract, n.enclave, { ...m, ciphertext: `${m.ciphertext.slice(0, -2)}${m.ciphertext.endsWith('00') ? '01' : '00'}` as Hex }), 'ENCLAVE_HANDOVER_OPEN');
  // The right message but no copy of the state database while the chain has committed state.
  await expectRefused(deliverRestore(adv.stack.chain, adv.contract, n.enclave, m), 'ENCLAVE_RESTORE_NO_STATE');
  // Nor is an empty file in its place, or a database with no version in it (found by a red-team test): restoring
  // onto either would replay the whole history from nothing.
  const dbName = readdirSync(dbCopy).find((f) => f.endsWith('.db'))!;
  writeFileSync(join(n.dir, dbName), '');
  await expectRefused(deliverRestore(adv.stack.chain, adv.contract, n.enclave, m), 'ENCLAVE_RESTORE_NO_STATE');
  rmSync(join(n.dir, dbName));
  new SqliteBackend(join(n.dir, dbName)).close();
  await expectRefused(deliverRestore(adv.stack.chain, adv.contract, n.enclave, m), 'ENCLAVE_RESTORE_NO_STATE');
  for (const f of readdirSync(n.dir)) if (f.startsWith(dbName)) rmSync(join(n.dir, f));
  assert.equal((await n.enclave.call('status')).sessionId, null, 'nothing adopted');
  assert.deepEqual(dirDigest(n.dir), before, 'no file written');
});

test('round trip: every instance killed and its data dir deleted; restored from the backup and an older db copy, the new instance catches up, commits the next batch, outcomes match the model', async () => {
  assert.ok(n && dbCopy, 'runs after the previous tests');
  // One more batch after the db copy was taken: the copy is older than the committed state.
  await submit(adv, 'bob', { op: 'submit', computation: 'backup', value: 20 });
  assert.ok((await adv.commit(await adv.process(adv.stack.enclave, await adv.pending()))).ok);
  const committed = await adv.chainState();
  // Disaster: the only keyed instance dies and its data directory is gone. No instance holds the keys.
  await adv.stack.enclave.kill();
  rmSync(enclaveDir(adv), { recursive: true, force: true });
  // The operator puts the copy of the sealed state database into the newcomer's data directory.
  await n.enclave.kill();
  for (const f of readdirSync(dbCopy)) cpSync(join(dbCopy, f), join(n.dir, f));
  n.enclave.start();
  await n.enclave.call('init', { config: adv.stack.deployment.config });
  const id = (await requestHandover(opts, n.enclave)).requestId; // the restarted process drew a new handover key
  const message = await restoreMessage(restoreOpts(backup, id));
  const restored = await deliverRestore(adv.stack.chain, adv.contract, n.enclave, message);
  assert.equal(restored.sessionId, backup.sessionId);
  assert.equal(restored.signer, backup.signer);
  assert.equal(restored.stateRoot, committed.stateRoot);
  assert.ok(existsSync(join(n.dir, 'keys.sealed')), 'the restored keys are sealed in the newcomer\'s data dir');
  assert.notEqual((await n.enclave.call('status')).stateRoot, committed.stateRoot, 'the copy is older than the committed state');
  // A host over the restored instance follows the committed batch it lacks, then commits new requests.
  const host = new Host({ chain: adv.stack.chain, operator: adv.operator, contract: adv.contract, config: adv.stack.deployment.config, enclave: n.enclave, fromBlock: adv.stack.deployment.fromBlock, logger: quiet, takeover: { standbyMs: 0 } });
  await host.start();
  try {
    await submit(adv, 'carol', { op: 'submit', computation: 'backup', value: 30 });
    const res = await submit(adv, 'alice', { op: 'result', computation: 'backup' });
    await host.waitCommitted(res);
    await adv.assertHonestHistory();
    const out = (await adv.outputs('alice')).find((o) => o.seq === res.toString());
    assert.ok(out && out.ok, `alice's result request (seq ${res}) has an ok output`);
    assert.deepEqual(out.ok && out.result, { type: 'average', value: 20, count: 3 });
    assert.equal((await adv.chainState()).activeSessionId, committed.activeSessionId, 'the same session continues: no admin action, no new keys');
  } finally {
    await host.stop();
  }
});

test('a backup of a superseded session cannot fork the deployment: refused by the holder (CLI_RESTORE_SUPERSEDED) and by the newcomer (ENCLAVE_RESTORE_SUPERSEDED)', async () => {
  assert.ok(n, 'runs after the round trip');
  // The admin replaces the session with new keys (the restored instance is gone from this point on).
  await n.enclave.kill();
  const { enclave: fresh } = await newcomer();
  await adv.handshake(fresh);
  const { enclave: late, dir } = await newcomer();
  const id = (await requestHandover(opts, late)).requestId;
  await expectRefused(restoreMessage(restoreOpts(backup, id)), 'CLI_RESTORE_SUPERSEDED');
  // A holder who skips that check: the newcomer proves the active session's keys and refuses.
  const c = adv.stack.deployment.config;
  const handoverPubKey = await requestKey(id);
  const material = await hpkeOpen(recovery.privateKey, hexToBytes(backup.enc as Hex), HPKE_INFO.backup, hexToBytes(backupAad(BigInt(backup.chainId), backup.contract as Address, BigInt(backup.sessionId), backup.encPubKey as Hex, backup.signer as Address, backup.measurement as Hex, backup.recoveryKey as Hex)), hexToBytes(backup.ciphertext as Hex));
  const s = await hpkeSeal(hexToBytes(handoverPubKey), HPKE_INFO.handover, hexToBytes(handoverAad(BigInt(c.chainId), adv.contract, id, adv.stack.measurement, adv.stack.measurement, handoverPubKey)), material);
  const before = dirDigest(dir);
  await expectRefused(deliverRestore(adv.stack.chain, adv.contract, late, { requestId: id.toString(), enc: bytesToHex(s.enc), ciphertext: bytesToHex(s.ciphertext), exporterMeasurement: adv.stack.measurement }), 'ENCLAVE_RESTORE_SUPERSEDED');
  assert.equal((await late.call('status')).sessionId, null);
  assert.deepEqual(dirDigest(dir), before);
});
