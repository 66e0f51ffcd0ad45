// SEV-SNP peers in key handover and restore (issue 10 §1-2, docs/protocol.md#handover, #backup): the enclave runtime
// on SNP platforms opened through the real configfs-tsm code path over a fake tree (test/harness/tee/devices.ts), whose
// reports and certificate tables come from a test AMD PKI (test/harness/tee/snp.ts). The test is the host and plays
// the chain: FakeChain (packages/enclave/test/helpers.ts) produces signed headers and real EIP-1186 proofs the
// enclaves' light clients verify. GeodeCore's on-chain verifier cannot check SNP reports (a deployment with SNP
// evidence and no verifier is refused at deploy time), so the test writes the record GeodeCore.requestHandover
// would write (handoverRequests[id] = handoverRequestReportData(..)) after checking the report off-chain with
// verifyAttestation, as a verifier would. Every refusal is checked to change nothing in the refusing enclave.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bytesToHex, hexToBytes, keccak256, toBytes, type Address, type Hex, type PublicClient } from 'viem';
import {
  MAX_EVIDENCE_BYTES, SESSION_FIELD, SLOT, canonicalJson, handoverRequestKey, handoverRequestReportData, mappingSlot, recoveryKeySlotKey,
  sessionFieldKey, sessionKeysReportData, slotKey, type ConfigJson, type Params, type Result,
} from '@geode/protocol';
import { enclaveIdentityOf, verifyAttestation } from '@geode/attestation';
import { buildSimQuote, createSimulationPki, type SimulationPki } from '@geode/attestation/sim';
import { SNP_MAX_CERT_TABLE_BYTES, SNP_REPORT_LEN } from '@geode/attestation/snp';
import { snpEnclaveIdentity } from '@geode/attestation/evidence';
import { EnclaveRuntime, openConfigfsTsmPlatform, type Platform, type SnpPlatform } from '../../packages/enclave/src/index.ts';
import { SIM_MR_SIGNER } from '../../packages/enclave/src/platform/sim.ts';
import { CONTRACT, FakeChain, GENESIS, LC_SIGNER, sessionProofKeysFor, tmpDir } from '../../packages/enclave/test/helpers.ts';
import { counterApp } from '../../packages/enclave/test/fixtures/counter-app.ts';
import { generateRecoveryKey, parseRecoveryKey, restoreMessage, verifyNewcomerEvidence } from '../../packages/cli/src/backup.ts';
import { fakeConfigfsTsm } from '../harness/tee/devices.ts';
import { buildSnpReport, createSnpTestPki, testSnpMeasurement, type SnpTestPki } from '../harness/tee/snp.ts';
import { dirDigest } from '../harness/adversary.ts';

const NOW = 1_700_000_000; // FakeChain block timestamps are NOW + block number
let pki: SnpTestPki;
/** A second test AMD PKI: its VCEKs do not chain to `pki`'s ARK. */
let otherPki: SnpTestPki;
let simPki: SimulationPki;
const M = testSnpMeasurement('geode-app');
const IDENTITY = bytesToHex(snpEnclaveIdentity(M));
const POLICY = { teeTypes: ['sev-snp'], allowSimulation: true, acceptedStatuses: ['Verified'] };

function config(measurements: Hex[], policy: unknown): ConfigJson {
  return {
    chainId: '31337', contract: CONTRACT, measurements, attestationVerifier: '0x00000000000000000000000000000000000000aa',
    lcSigner: LC_SIGNER, lcGenesisHash: GENESIS, policyHash: keccak256(toBytes(canonicalJson(policy))), admin: '0x00000000000000000000000000000000000000ad',
  };
}

/**
 * An SNP platform through configfs-tsm whose reports (launch measurement `m`) are signed by `by`'s VCEK and come with
 * `by`'s certificate table. `trustArk` is the test double's substitute root (SnpPlatform.testArkDer); without it the
 * platform is exactly what a hardware bundle opens, trusting AMD's pinned ARKs only.
 */
async function snpPlatform(m: Uint8Array, by: SnpTestPki, trustArk: Uint8Array | undefined = pki.arkDer): Promise<SnpPlatform> {
  const root = join(tmpDir(), 'tsm');
  const p = (await openConfigfsTsmPlatform({ tee: 'sev-snp', root, files: fakeConfigfsTsm({ root, provider: 'sev_guest', respond: (inblob) => ({ outblob: buildSnpReport(by, m, inblob), auxblob: by.certTable }) }) })) as SnpPlatform;
  return trustArk ? { ...p, testArkDer: trustArk } : p;
}

/** A simulated SGX platform (DCAP sim quotes) of identity `mr` trusting `simPki`'s root. */
function simPlatform(mr: Uint8Array): Platform {
  return {
    teeType: 'sgx-sim', simulated: true, measurement: mr, mrEnclave: mr, mrSigner: SIM_MR_SIGNER,
    sealing: { kind: 'simulated', sealingKey: () => new Uint8Array(32).fill(3) },
    simRootCaDer: () => simPki.rootCaDer,
    evidence: (rd) => ({ kind: 'dcap-quote', quote: buildSimQuote({ pki: simPki, mrEnclave: mr, mrSigner: SIM_MR_SIGNER, reportData: rd }) }),
  };
}

type Rt = EnclaveRuntime;
const call = async <M extends 'status' | 'handoverRequest' | 'handoverSend' | 'handoverReceive' | 'backupExport' | 'handoverRestore'>(rt: Rt, m: M, p: Params<M> = {} as Params<M>): Promise<Result<M>> => (await rt.handle(m, p)) as Result<M>;

/** A deployment on a FakeChain with an instance `keyed` holding active session 1 (its keys proven on-chain). */
async function deployment(platform: Platform, cfg: ConfigJson, recoveryKey?: Hex) {
  const chain = new FakeChain();
  if (recoveryKey) chain.set(BigInt(recoveryKeySlotKey()), BigInt(recoveryKey));
  const keyedDir = tmpDir();
  const keyed = new EnclaveRuntime(counterApp, { dataDir: keyedDir, platform, log: () => {} });
  const { configHash } = (await keyed.handle('init', { config: cfg })) as { configHash: Hex };
  const { nonce } = (await keyed.handle('sessionCreate', {})) as { nonce: Hex };
  chain.openSession(1n, nonce);
  const blk = await chain.mine();
  const keys = (await keyed.handle('sessionSetPubKey', { sessionId: '1', header: blk.header, proof: await blk.proof(sessionProofKeysFor(1n)) })) as { encPubKey: Hex; signer: Address; quote: Hex };
  // What GeodeCore.activateSession stores: the session's keys, then activeSessionId.
  const base = mappingSlot(1n, SLOT.sessions);
  chain.set(base + SESSION_FIELD.encPubKey, BigInt(keys.encPubKey));
  chain.set(base + SESSION_FIELD.signer, BigInt(keys.signer));
  chain.activate(1n);
  let nextId = 0n;
  const d = {
    chain, cfg, configHash, keyed, keyedDir, keys, nonce,
    /** A configured newcomer (no keys) on `p`. */
    async newcomer(p: Platform): Promise<{ rt: Rt; dir: string }> {
      const dir = tmpDir();
      const rt = new EnclaveRuntime(counterApp, { dataDir: dir, platform: p, log: () => {} });
      await rt.handle('init', { config: cfg });
      return { rt, dir };
    },
    /**
     * GeodeCore.requestHandover played by the test: `record` (default: what the contract derives from the evidence's
     * identity and `handoverPubKey`) is stored as handoverRequests[id]. Returns the id.
     */
    file(identity: Hex, handoverPubKey: Hex): bigint {
      const id = ++nextId;
      chain.set(BigInt(handoverRequestKey(id)), BigInt(handoverRequestReportData(31337n, CONTRACT, configHash, identity, handoverPubKey)));
      return id;
    },
    async sendParams(id: bigint, req: { quote: Hex; handoverPubKey: Hex }): Promise<Params<'handoverSend'>> {
      const blk = await chain.mine();
      return { requestId: id.toString(), quote: req.quote, handoverPubKey: req.handoverPubKey, header: blk.header, proof: await blk.proof([handoverRequestKey(id), slotKey(SLOT.activeSessionId)]), trust: { policy: POLICY } };
    },
    async receiveParams(msg: Result<'handoverSend'>): Promise<Params<'handoverReceive'>> {
      const blk = await chain.mine();
      const proof = await blk.proof([handoverRequestKey(BigInt(msg.requestId)), slotKey(SLOT.activeSessionId), sessionFieldKey(1n, 'encPubKey'), sessionFieldKey(1n, 'signer')]);
      return { requestId: msg.requestId, enc: msg.enc, ciphertext: msg.ciphertext, quote: msg.quote, header: blk.header, proof, trust: { policy: POLICY } };
    },
  };
  return d;
}
type Deployment = Awaited<ReturnType<typeof deployment>>;

/** The identity a verifier derives from evidence under the test root (what the on-chain record is built from). */
async function identityOf(quote: Hex, ark = pki.arkDer): Promise<Hex> {
  return bytesToHex(enclaveIdentityOf(await verifyAttestation(hexToBytes(quote), { now: NOW, roots: { amdArkDer: ark } })));
}

/** `rt`'s status and data directory, to show a refusal changed nothing. */
async function snapshot(rt: Rt, dir: string) {
  return { status: await call(rt, 'status'), files: dirDigest(dir) };
}

/** `p` is refused with `code` (and, for ENCLAVE_HANDOVER_EVIDENCE, the attestation error `cause`), changing nothing in `rt`. */
async function refused(d: { rt: Rt; dir: string }, p: Promise<unknown>, code: string, cause?: string): Promise<void> {
  const before = await snapshot(d.rt, d.dir);
  await assert.rejects(p, (e: { code?: string; details?: { code?: string } }) => {
    assert.equal(e.code, code);
    if (cause) assert.equal(e.details?.code, cause);
    return true;
  });
  assert.deepEqual(await snapshot(d.rt, d.dir), before, 'a refusal changes nothing');
}

let dep: Deployment;
let holder: { rt: Rt; dir: string };

before(async () => {
  pki = await createSnpTestPki(NOW - 86_400, 30);
  otherPki = await createSnpTestPki(NOW - 86_400, 30);
  simPki = await createSimulationPki({ now: NOW - 86_400, validityDays: 30, seed: new Uint8Array(32).fill(5) });
  dep = await deployment(await snpPlatform(M, pki), config([IDENTITY], POLICY));
  holder = { rt: dep.keyed, dir: dep.keyedDir };
});

test('SNP handover: an SNP newcomer gets the active session\'s keys from an SNP holder; both check the other\'s report and certificate table', async () => {
  // The session's own evidence carries the certificate table too: a client verifies it with nothing else.
  const session = await verifyAttestation(hexToBytes(dep.keys.quote), { now: NOW, roots: { amdArkDer: pki.arkDer } });
  assert.equal(session.teeType, 'sev-snp');
  assert.equal(session.measurements.reportData, sessionKeysReportData(31337n, CONTRACT, dep.nonce, dep.keys.encPubKey, dep.keys.signer).slice(2) + '00'.repeat(32));
  const b = await dep.newcomer(await snpPlatform(M, pki));
  const req = await call(b.rt, 'handoverRequest');
  assert.ok(hexToBytes(req.quote as Hex).length > SNP_REPORT_LEN, 'the request evidence is the report followed by its certificate table');
  const id = dep.file(await identityOf(req.quote as Hex), req.handoverPubKey as Hex);
  const msg = await call(dep.keyed, 'handoverSend', await dep.sendParams(id, req as { quote: Hex; handoverPubKey: Hex }));
  assert.ok(hexToBytes(msg.quote as Hex).length > SNP_REPORT_LEN, 'the sender\'s evidence carries its table too');
  const got = await call(b.rt, 'handoverReceive', await dep.receiveParams(msg));
  assert.deepEqual(got, { sessionId: '1', encPubKey: dep.keys.encPubKey, signer: dep.keys.signer });
  const st = await call(b.rt, 'status');
  assert.equal(st.teeType, 'sev-snp');
  assert.equal(st.sessionId, '1');
  assert.equal(st.encPubKey, dep.keys.encPubKey);
});
