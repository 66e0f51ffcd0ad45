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
import { EnclaveRuntime, openConfigfsTsmPlatform, type Platform, type SnpPlatform } from '@geode/enclave';
import { SIM_MR_SIGNER } from '@geode/enclave/sim';
import { CONTRACT, FakeChain, GENESIS, LC_SIGNER, sessionProofKeysFor, tmpDir } from '../../packages/enclave/test/helpers.ts';
import { counterApp } from '../../packages/enclave/test/fixtures/counter-app.ts';
import { generateRecoveryKey, parseRecoveryKey, restoreMessage, verifyNewcomerEvidence } from '@geode/cli';
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
async function snpPlatform(m: Uint8Array, by: SnpTestPki, trustArk: Uint8Array | null = pki.arkDer): Promise<SnpPlatform> {
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

/**
 * A deployment on a FakeChain with an instance `keyed` holding active session 1 (its keys proven on-chain). `trust`
 * is what its hosts pass as handoverTrust (the policy whose hash `cfg` holds; DCAP collateral for DCAP peers).
 */
async function deployment(platform: Platform, cfg: ConfigJson, trust: { policy: unknown; collateral?: Record<string, unknown> } = { policy: POLICY }, recoveryKey?: Hex) {
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
      return { requestId: id.toString(), quote: req.quote, handoverPubKey: req.handoverPubKey, header: blk.header, proof: await blk.proof([handoverRequestKey(id), slotKey(SLOT.activeSessionId)]), trust };
    },
    async restoreParams(msg: { requestId: string; enc: string; ciphertext: string; exporterMeasurement: string }): Promise<Params<'handoverRestore'>> {
      const blk = await chain.mine();
      const proof = await blk.proof([handoverRequestKey(BigInt(msg.requestId)), slotKey(SLOT.activeSessionId), slotKey(SLOT.stateRoot), sessionFieldKey(1n, 'encPubKey'), sessionFieldKey(1n, 'signer')]);
      return { ...msg, header: blk.header, proof };
    },
    async receiveParams(msg: Result<'handoverSend'>): Promise<Params<'handoverReceive'>> {
      const blk = await chain.mine();
      const proof = await blk.proof([handoverRequestKey(BigInt(msg.requestId)), slotKey(SLOT.activeSessionId), sessionFieldKey(1n, 'encPubKey'), sessionFieldKey(1n, 'signer')]);
      return { requestId: msg.requestId, enc: msg.enc, ciphertext: msg.ciphertext, quote: msg.quote, header: blk.header, proof, trust };
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

/** A newcomer on `p` with its handover request filed on `d`'s chain (as GeodeCore would record it). */
async function filed(d: Deployment, p: Platform, ark = pki.arkDer) {
  const n = await d.newcomer(p);
  const req = (await call(n.rt, 'handoverRequest')) as { quote: Hex; handoverPubKey: Hex };
  const identity = p.teeType === 'sev-snp' ? await identityOf(req.quote, ark) : bytesToHex(p.measurement);
  return { ...n, req, id: d.file(identity, req.handoverPubKey) };
}

const flip = (h: Hex, at: number): Hex => { const b = hexToBytes(h); b[at]! ^= 1; return bytesToHex(b); };

test('SNP holder refuses: unaccepted measurement, report data not bound, VCEK of another PKI, flipped signature, missing or oversized certificate table, unknown evidence', async () => {
  // A newcomer of another launch measurement, recorded on-chain under that identity.
  const other = await filed(dep, await snpPlatform(testSnpMeasurement('another build'), pki));
  await refused(holder, call(dep.keyed, 'handoverSend', await dep.sendParams(other.id, other.req)), 'ENCLAVE_HANDOVER_MEASUREMENT');
  // The host records and passes its own handover key: the newcomer's REPORT_DATA binds another key.
  const n = await filed(dep, await snpPlatform(M, pki));
  const attackerKey = keccak256(toBytes('attacker handover key'));
  const swapped = dep.file(IDENTITY, attackerKey);
  await refused(holder, call(dep.keyed, 'handoverSend', await dep.sendParams(swapped, { quote: n.req.quote, handoverPubKey: attackerKey })), 'ENCLAVE_HANDOVER_BINDING');
  // A chip of a second test PKI: its VCEK -> ASK -> ARK chain ends at an ARK this platform does not trust.
  const foreign = await filed(dep, await snpPlatform(M, otherPki), otherPki.arkDer);
  await refused(holder, call(dep.keyed, 'handoverSend', await dep.sendParams(foreign.id, foreign.req)), 'ENCLAVE_HANDOVER_EVIDENCE', 'ATTEST_CHAIN_INVALID');
  // One bit of the report's signature (r at 0x2A0) flipped.
  await refused(holder, call(dep.keyed, 'handoverSend', await dep.sendParams(n.id, { ...n.req, quote: flip(n.req.quote, 0x2a0) })), 'ENCLAVE_HANDOVER_EVIDENCE', 'ATTEST_SNP_SIGNATURE');
  // The report without its certificate table: there is no VCEK to check it with.
  const bare = bytesToHex(hexToBytes(n.req.quote).subarray(0, SNP_REPORT_LEN));
  await refused(holder, call(dep.keyed, 'handoverSend', await dep.sendParams(n.id, { ...n.req, quote: bare })), 'ENCLAVE_HANDOVER_EVIDENCE', 'ATTEST_COLLATERAL_MISSING');
  // A table over SNP_MAX_CERT_TABLE_BYTES is refused before it is parsed; evidence over the transport cap never reaches the check.
  const big = new Uint8Array(SNP_REPORT_LEN + SNP_MAX_CERT_TABLE_BYTES + 1);
  big.set(hexToBytes(n.req.quote));
  await refused(holder, call(dep.keyed, 'handoverSend', await dep.sendParams(n.id, { ...n.req, quote: bytesToHex(big) })), 'ENCLAVE_HANDOVER_EVIDENCE', 'ATTEST_DECODE');
  const huge = new Uint8Array(MAX_EVIDENCE_BYTES + 1);
  huge.set(hexToBytes(n.req.quote));
  await refused(holder, call(dep.keyed, 'handoverSend', await dep.sendParams(n.id, { ...n.req, quote: bytesToHex(huge) })), 'ENCLAVE_BAD_MESSAGE');
  // Bytes that are neither a DCAP quote nor an SNP report (a report whose VERSION field is 0).
  const junk = hexToBytes(n.req.quote);
  junk.fill(0, 0, 4);
  await refused(holder, call(dep.keyed, 'handoverSend', await dep.sendParams(n.id, { ...n.req, quote: bytesToHex(junk) })), 'ENCLAVE_HANDOVER_EVIDENCE', 'ATTEST_UNSUPPORTED_EVIDENCE');
  // The honest request still goes through afterwards: nothing above changed the holder.
  const msg = await call(dep.keyed, 'handoverSend', await dep.sendParams(n.id, n.req));
  assert.equal((await call(n.rt, 'handoverReceive', await dep.receiveParams(msg))).sessionId, '1');
});

test('SNP newcomer refuses the sender\'s evidence: flipped signature, no certificate table, evidence that binds another message', async () => {
  const n = await filed(dep, await snpPlatform(M, pki));
  const msg = await call(dep.keyed, 'handoverSend', await dep.sendParams(n.id, n.req));
  await refused(n, call(n.rt, 'handoverReceive', await dep.receiveParams({ ...msg, quote: flip(msg.quote as Hex, 0x2e8) })), 'ENCLAVE_HANDOVER_EVIDENCE', 'ATTEST_SNP_SIGNATURE');
  await refused(n, call(n.rt, 'handoverReceive', await dep.receiveParams({ ...msg, quote: bytesToHex(hexToBytes(msg.quote as Hex).subarray(0, SNP_REPORT_LEN)) })), 'ENCLAVE_HANDOVER_EVIDENCE', 'ATTEST_COLLATERAL_MISSING');
  // A genuine report of an accepted instance (the newcomer's own request), but over other report data.
  await refused(n, call(n.rt, 'handoverReceive', await dep.receiveParams({ ...msg, quote: n.req.quote })), 'ENCLAVE_HANDOVER_BINDING');
  assert.equal((await call(n.rt, 'handoverReceive', await dep.receiveParams(msg))).sessionId, '1');
});

test('the roots are the platform\'s: a holder opened as on hardware trusts only AMD\'s pinned ARKs and refuses the test PKI', async () => {
  const hw = await deployment(await snpPlatform(M, pki, null), config([IDENTITY], POLICY));
  const n = await filed(hw, await snpPlatform(M, pki));
  // Nothing the host passes names a root: handoverTrust is { collateral?, policy }, and an extra field is dropped.
  const p = { ...(await hw.sendParams(n.id, n.req)), trust: { policy: POLICY, roots: { amdArkDer: bytesToHex(pki.arkDer) } } };
  await refused({ rt: hw.keyed, dir: hw.keyedDir }, call(hw.keyed, 'handoverSend', p), 'ENCLAVE_HANDOVER_EVIDENCE', 'ATTEST_CHAIN_INVALID');
});

test('a DCAP quote where SEV-SNP is expected, and an SEV-SNP report where DCAP is expected, are refused', async () => {
  // SNP holder, newcomer quote: a simulated SGX quote claiming the accepted identity and binding the request.
  const key = keccak256(toBytes('dcap newcomer key'));
  const rd = new Uint8Array(64);
  rd.set(hexToBytes(handoverRequestReportData(31337n, CONTRACT, dep.configHash, IDENTITY, key)));
  const sgx = bytesToHex(buildSimQuote({ pki: simPki, mrEnclave: hexToBytes(IDENTITY), mrSigner: SIM_MR_SIGNER, reportData: rd }));
  const id = dep.file(IDENTITY, key);
  const p = { ...(await dep.sendParams(id, { quote: sgx, handoverPubKey: key })), trust: { policy: POLICY, collateral: { ...simPki.collateral() } } };
  // An SNP platform verifies DCAP quotes under Intel's pinned root only: the simulation PKI's collateral (its root
  // CA's CRL) is the first thing that does not verify under it.
  await refused(holder, call(dep.keyed, 'handoverSend', p), 'ENCLAVE_HANDOVER_EVIDENCE', 'ATTEST_CRL_INVALID');
  // DCAP (simulated SGX) holder whose policy and config accept both TEE types and both identities: the SNP report
  // still fails, since a simulator trusts AMD's pinned ARKs only, never a test ARK.
  const mrSim = hexToBytes(keccak256(toBytes('sim enclave')));
  const both = { teeTypes: ['sgx', 'sev-snp'], allowSimulation: true };
  const sim = await deployment(simPlatform(mrSim), config([bytesToHex(mrSim), IDENTITY], both), { policy: both, collateral: { ...simPki.collateral() } });
  const n = await filed(sim, await snpPlatform(M, pki));
  await refused({ rt: sim.keyed, dir: sim.keyedDir }, call(sim.keyed, 'handoverSend', await sim.sendParams(n.id, n.req)), 'ENCLAVE_HANDOVER_EVIDENCE', 'ATTEST_CHAIN_INVALID');
});

/**
 * The reads restoreMessage makes (GeodeCore views, eth_getStorageAt, HandoverRequested logs), answered from the
 * FakeChain's storage and the requests the test filed: a chain-read test double standing in for an RPC endpoint.
 */
function chainReads(d: Deployment, requests: Map<bigint, { mrEnclave: Hex; handoverPubKey: Hex; quote: Hex }>): PublicClient {
  const word = (slot: bigint): Hex => `0x${d.chain.get(slot).toString(16).padStart(64, '0')}`;
  const reads = {
    async readContract({ functionName }: { functionName: string }): Promise<unknown> {
      if (functionName === 'recoveryKey') return word(BigInt(recoveryKeySlotKey()));
      if (functionName === 'configHash') return d.configHash;
      if (functionName === 'activeSession') {
        const id = d.chain.get(SLOT.activeSessionId);
        const base = mappingSlot(id, SLOT.sessions);
        return [id, { encPubKey: word(base + SESSION_FIELD.encPubKey), signer: `0x${d.chain.get(base + SESSION_FIELD.signer).toString(16).padStart(40, '0')}` }];
      }
      throw new Error(`chainReads: no ${functionName}`);
    },
    async getStorageAt({ slot }: { slot: Hex }): Promise<Hex> { return word(BigInt(slot)); },
    async getContractEvents({ args }: { args: { id: bigint } }): Promise<unknown[]> {
      const r = requests.get(args.id);
      return r ? [{ args: { id: args.id, ...r } }] : [];
    },
  };
  return reads as unknown as PublicClient;
}

test('restore with SEV-SNP evidence: the holder checks the SNP newcomer as an enclave would, the newcomer imports the keys', async () => {
  const recovery = parseRecoveryKey(await generateRecoveryKey());
  const r = await deployment(await snpPlatform(M, pki), config([IDENTITY], POLICY), { policy: POLICY }, recovery.publicKey);
  const blk = await r.chain.mine();
  const backup = await call(r.keyed, 'backupExport', { header: blk.header, proof: await blk.proof([recoveryKeySlotKey(), slotKey(SLOT.activeSessionId)]) });
  assert.equal(backup.measurement, IDENTITY);
  // Every instance is gone; a new SNP instance files a handover request.
  const requests = new Map<bigint, { mrEnclave: Hex; handoverPubKey: Hex; quote: Hex }>();
  const d = await filed(r, await snpPlatform(M, pki));
  requests.set(d.id, { mrEnclave: IDENTITY, handoverPubKey: d.req.handoverPubKey, quote: d.req.quote });
  const opts = {
    publicClient: chainReads(r, requests), chainId: 31337n, contract: CONTRACT, config: r.cfg, policy: POLICY, amdArkDer: pki.arkDer,
    backup, recoveryKey: recovery, requestId: d.id, now: NOW + 100,
  };
  // The holder's refusals: AMD's pinned ARKs (no test root given) do not accept the test chip; an unaccepted measurement.
  await assert.rejects(restoreMessage({ ...opts, amdArkDer: undefined }), (e: { code?: string; details?: { code?: string } }) => e.code === 'CLI_RESTORE_EVIDENCE' && e.details?.code === 'ATTEST_CHAIN_INVALID');
  const other = await filed(r, await snpPlatform(testSnpMeasurement('another build'), pki));
  requests.set(other.id, { mrEnclave: IDENTITY, handoverPubKey: other.req.handoverPubKey, quote: other.req.quote });
  await assert.rejects(restoreMessage({ ...opts, requestId: other.id }), { code: 'CLI_RESTORE_MEASUREMENT' });
  // The evidence with its certificate table cut off, and one with a flipped signature.
  requests.set(d.id, { mrEnclave: IDENTITY, handoverPubKey: d.req.handoverPubKey, quote: bytesToHex(hexToBytes(d.req.quote).subarray(0, SNP_REPORT_LEN)) });
  await assert.rejects(restoreMessage(opts), (e: { code?: string; details?: { code?: string } }) => e.code === 'CLI_RESTORE_EVIDENCE' && e.details?.code === 'ATTEST_COLLATERAL_MISSING');
  requests.set(d.id, { mrEnclave: IDENTITY, handoverPubKey: d.req.handoverPubKey, quote: flip(d.req.quote, 0x2a0) });
  await assert.rejects(restoreMessage(opts), (e: { code?: string; details?: { code?: string } }) => e.code === 'CLI_RESTORE_EVIDENCE' && e.details?.code === 'ATTEST_SNP_SIGNATURE');
  // The same check as the enclave's, on its own.
  assert.deepEqual(verifyNewcomerEvidence(hexToBytes(d.req.quote), { policy: POLICY, measurements: [IDENTITY], roots: { amdArkDer: pki.arkDer }, now: NOW }).identity, IDENTITY);
  // Honest: the holder re-seals to the newcomer's attested key; the newcomer checks the rest by proof and adopts the keys.
  requests.set(d.id, { mrEnclave: IDENTITY, handoverPubKey: d.req.handoverPubKey, quote: d.req.quote });
  const message = await restoreMessage(opts);
  const got = await call(d.rt, 'handoverRestore', await r.restoreParams(message));
  assert.deepEqual(got, { sessionId: '1', encPubKey: r.keys.encPubKey, signer: r.keys.signer, stateRoot: `0x${'00'.repeat(32)}` });
  assert.equal((await call(d.rt, 'status')).teeType, 'sev-snp');
});
