import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEventLog, encodeAbiParameters, keccak256, toHex, zeroAddress, type Address, type Hex } from 'viem';
import {
  ACC_ZERO,
  DOMAIN,
  MAX_PAYLOAD_BYTES,
  SESSION_STATUS,
  accumulatorStep,
  commitmentDigest,
  NO_PUBLIC_OUTPUTS,
  encodeOutputs,
  sessionCreateReportData,
  sessionKeysReportData,
  sessionSuccessionDigest,
  type BatchOutput,
} from '@geode/protocol';
import { GeodeCoreAbi, GeodeCoreBytecode, SimQuoteVerifierAbi } from '../src/index.ts';
import { CHAIN_ID, buildQuote, deploy, expectRevert, randomHex32, send, sessionSigner, startChain, type Chain } from './helpers.ts';
import { MR_A, MR_B, MR_OTHER, createSession, deployCore, expectedConfigHash, openSession, privatePayload, type Deployment, readCore as read, writeCore as write } from './fixtures.ts';

const abi = GeodeCoreAbi;
let c: Chain;
before(async () => {
  c = await startChain();
});


describe('SimQuoteVerifier', () => {
  let d: Deployment;
  before(async () => {
    d = await deployCore(c);
  });
  const verify = (q: Uint8Array | Hex) =>
    c.publicClient.readContract({ address: d.verifier, abi: SimQuoteVerifierAbi, functionName: 'verifyQuote', args: [typeof q === 'string' ? q : toHex(q)] });

  test('accepts a valid quote and returns mr_enclave and both halves of report data', async () => {
    const lo = randomHex32();
    const hi = randomHex32();
    assert.deepEqual(await verify(buildQuote(d.key, MR_A, lo, hi)), [MR_A, lo, hi]);
    // exactly 564 bytes (no tail) is enough
    assert.deepEqual(await verify(buildQuote(d.key, MR_B, lo, hi, { tail: 0 })), [MR_B, lo, hi]);
  });

  test('accepts a high-s signature (DCAP signatures are not low-s normalised)', async () => {
    const lo = randomHex32();
    assert.deepEqual(await verify(buildQuote(d.key, MR_A, lo, undefined, { highS: true })), [MR_A, lo, `0x${'00'.repeat(32)}`]);
  });

  test('refuses a quote from another attestation key', async () => {
    const { simAttestationKey } = await import('./helpers.ts');
    await expectRevert(verify(buildQuote(simAttestationKey(), MR_A, randomHex32())), 'UntrustedAttestationKey');
  });

  test('refuses a bad signature (body changed after signing, or signature bytes flipped)', async () => {
    const q = buildQuote(d.key, MR_A, randomHex32());
    const body = q.slice();
    body[200] ^= 1;
    await expectRevert(verify(body), 'InvalidQuoteSignature');
    const sig = q.slice();
    sig[440] ^= 1;
    await expectRevert(verify(sig), 'InvalidQuoteSignature');
    const zero = q.slice();
    zero.fill(0, 436, 500);
    await expectRevert(verify(zero), 'InvalidQuoteSignature');
  });

  test('refuses wrong version, wrong key type, short quote, malformed signature data length', async () => {
    await expectRevert(verify(buildQuote(d.key, MR_A, randomHex32(), undefined, { mutate: (q) => (q[0] = 4) })), 'UnsupportedQuoteVersion');
    await expectRevert(verify(buildQuote(d.key, MR_A, randomHex32(), undefined, { mutate: (q) => (q[1] = 3) })), 'UnsupportedQuoteVersion');
    await expectRevert(verify(buildQuote(d.key, MR_A, randomHex32(), undefined, { mutate: (q) => (q[2] = 3) })), 'UnsupportedAttestationKeyType');
    const q = buildQuote(d.key, MR_A, randomHex32(), undefined, { tail: 0 });
    await expectRevert(verify(q.subarray(0, 563)), 'QuoteTooShort');
    await expectRevert(verify('0x'), 'QuoteTooShort');
    await expectRevert(verify(buildQuote(d.key, MR_A, randomHex32(), undefined, { mutate: (x) => new DataView(x.buffer).setUint32(432, 10_000, true) })), 'MalformedSignatureData');
    await expectRevert(verify(buildQuote(d.key, MR_A, randomHex32(), undefined, { mutate: (x) => new DataView(x.buffer).setUint32(432, 127, true) })), 'MalformedSignatureData');
  });

  test('accepts quotes from the simulation TEE builder (@geode/attestation sim)', async () => {
    const sim = await import('@geode/attestation/sim');
    const pki = await sim.createSimulationPki({ now: 1_700_000_000, seed: new Uint8Array(32).fill(9) });
    const key = pki.attestationPublicKeyBytes;
    const v = await deploy(c, c.wallets[0], SimQuoteVerifierAbi, (await import('../src/index.ts')).SimQuoteVerifierBytecode, [toHex(key.subarray(0, 32)), toHex(key.subarray(32, 64))]);
    const reportData = new Uint8Array(64).map((_, i) => i + 1);
    const mr = new Uint8Array(32).fill(0xab);
    const quote = sim.buildSimQuote({ pki, mrEnclave: mr, mrSigner: new Uint8Array(32).fill(0xcd), reportData });
    const out = await c.publicClient.readContract({ address: v, abi: SimQuoteVerifierAbi, functionName: 'verifyQuote', args: [toHex(quote)] });
    assert.deepEqual(out, [toHex(mr), toHex(reportData.subarray(0, 32)), toHex(reportData.subarray(32))]);
  });
});

describe('GeodeCore config and protocol hashes', () => {
  let d: Deployment;
  before(async () => {
    d = await deployCore(c);
  });

  test('configHash equals @geode/protocol configHash; config views return the constructor values', async () => {
    assert.equal(await read<Hex>(d, 'configHash'), expectedConfigHash(d));
    assert.deepEqual(await read(d, 'measurements'), d.measurements);
    assert.equal(await read(d, 'isAcceptedMeasurement', [MR_A]), true);
    assert.equal(await read(d, 'isAcceptedMeasurement', [MR_B]), true);
    assert.equal(await read(d, 'isAcceptedMeasurement', [MR_OTHER]), false);
    assert.equal(await read(d, 'verifier'), d.verifier);
    assert.equal(await read(d, 'lcSigner'), d.lcSigner);
    assert.equal(await read(d, 'lcGenesisHash'), d.lcGenesisHash);
    assert.equal(await read(d, 'policyHash'), d.policyHash);
    assert.equal(await read(d, 'deployChainId'), CHAIN_ID);
    assert.equal(await read(d, 'stateRoot'), ACC_ZERO);
    assert.equal(await read(d, 'accumulator'), ACC_ZERO);
    assert.equal(await read(d, 'MAX_PAYLOAD_BYTES'), BigInt(MAX_PAYLOAD_BYTES));
  });

  test('domain constants equal DOMAIN', async () => {
    assert.equal(await read(d, 'DOMAIN_CONFIG'), DOMAIN.config);
    assert.equal(await read(d, 'DOMAIN_SESSION_CREATE'), DOMAIN.sessionCreate);
    assert.equal(await read(d, 'DOMAIN_SESSION_KEYS'), DOMAIN.sessionKeys);
    assert.equal(await read(d, 'DOMAIN_COMMITMENT'), DOMAIN.commitment);
    assert.equal(await read(d, 'DOMAIN_SESSION_SUCCESSION'), DOMAIN.sessionSuccession);
  });

  test('configHash depends on measurement order (packed hash) and matches for a single measurement', async () => {
    const d2 = await deployCore(c, { key: d.key, measurements: [MR_B, MR_A] });
    assert.equal(await read(d2, 'configHash'), expectedConfigHash(d2));
    assert.notEqual(expectedConfigHash(d2), expectedConfigHash({ ...d2, measurements: [MR_A, MR_B] }));
    const d3 = await deployCore(c, { key: d.key, measurements: [MR_OTHER] });
    assert.equal(await read(d3, 'configHash'), expectedConfigHash(d3));
  });

  test('report-data and commitment-digest views equal the protocol functions', async () => {
    const cfg = expectedConfigHash(d);
    const nonce = randomHex32();
    const enc = randomHex32();
    const signer = sessionSigner().address;
    assert.equal(await read(d, 'sessionCreateReportData', [nonce]), sessionCreateReportData(CHAIN_ID, d.core, cfg, nonce));
    assert.equal(await read(d, 'sessionKeysReportData', [nonce, enc, signer]), sessionKeysReportData(CHAIN_ID, d.core, nonce, enc, signer));
    const cm = { chainId: CHAIN_ID, contract: d.core, sessionId: 7n, from: 3n, to: 9n, accTo: randomHex32(), prevRoot: randomHex32(), newRoot: randomHex32(), outputsHash: randomHex32(), publicOutputsHash: randomHex32() };
    assert.equal(await read(d, 'commitmentDigest', [cm.sessionId, cm.from, cm.to, cm.accTo, cm.prevRoot, cm.newRoot, cm.outputsHash, cm.publicOutputsHash]), commitmentDigest(cm));
  });

  test('constructor refuses no measurements, duplicate measurements, a verifier without code', async () => {
    const args = (m: Hex[], v: Address, admin: Address = c.accounts[0].address) => [m, v, zeroAddress, randomHex32(), randomHex32(), admin];
    const dep = (a: unknown[]) => c.wallets[0].deployContract({ abi, bytecode: GeodeCoreBytecode, args: a } as never);
    await expectRevert(dep(args([], d.verifier)), 'NoMeasurements');
    await expectRevert(dep(args([MR_A, MR_B, MR_A], d.verifier)), 'DuplicateMeasurement');
    await expectRevert(dep(args([MR_A], c.accounts[1].address)), 'VerifierNotContract');
    await expectRevert(dep(args([MR_A], d.verifier, zeroAddress)), 'ZeroAdmin');
  });
});

describe('handshake', () => {
  test('sessionCreate opens a pending session bound to the nonce and emits SessionCreated', async () => {
    const d = await deployCore(c);
    const { id, nonce, receipt } = await createSession(d, MR_B);
    assert.equal(id, 1n);
    const s = await read<{ nonce: Hex; status: bigint; mrEnclave: Hex; signer: Address }>(d, 'session', [id]);
    assert.equal(s.nonce, nonce);
    assert.equal(s.status, SESSION_STATUS.pending);
    assert.equal(s.mrEnclave, MR_B);
    assert.equal(s.signer, zeroAddress);
    assert.equal(await read(d, 'usedNonce', [nonce]), true);
    assert.equal(await read(d, 'activeSessionId'), 0n);
    const ev = decodeEventLog({ abi, ...receipt.logs[0]! });
    assert.equal(ev.eventName, 'SessionCreated');
    assert.equal((ev.args as { sessionId: bigint }).sessionId, 1n);
    assert.equal((ev.args as { nonce: Hex }).nonce, nonce);
  });

  test('sessionCreate refuses an unaccepted measurement', async () => {
    const d = await deployCore(c);
    const nonce = randomHex32();
    const q = buildQuote(d.key, MR_OTHER, sessionCreateReportData(CHAIN_ID, d.core, expectedConfigHash(d), nonce));
    await expectRevert(write(d, 'sessionCreate', [toHex(q), nonce]), 'MeasurementNotAccepted');
  });

  test('sessionCreate refuses report data bound to another chain id, contract, config hash or nonce, or non-zero hi', async () => {
    const d = await deployCore(c);
    const cfg = expectedConfigHash(d);
    const nonce = randomHex32();
    const bad: Hex[] = [
      sessionCreateReportData(CHAIN_ID + 1n, d.core, cfg, nonce),
      sessionCreateReportData(CHAIN_ID, d.verifier, cfg, nonce),
      sessionCreateReportData(CHAIN_ID, d.core, randomHex32(), nonce),
      sessionCreateReportData(CHAIN_ID, d.core, cfg, randomHex32()),
    ];
    for (const rd of bad) await expectRevert(write(d, 'sessionCreate', [toHex(buildQuote(d.key, MR_A, rd)), nonce]), 'ReportDataMismatch');
    const good = sessionCreateReportData(CHAIN_ID, d.core, cfg, nonce);
    await expectRevert(write(d, 'sessionCreate', [toHex(buildQuote(d.key, MR_A, good, randomHex32())), nonce]), 'ReportDataMismatch');
    // a quote for this contract, replayed against another deployment with the same verifier key
    const other = await deployCore(c, { key: d.key });
    await expectRevert(write(other, 'sessionCreate', [toHex(buildQuote(d.key, MR_A, good)), nonce]), 'ReportDataMismatch');
    await send(c, c.wallets[0], d.core, abi, 'sessionCreate', [toHex(buildQuote(d.key, MR_A, good)), nonce]);
  });

  test('sessionCreate refuses a reused nonce and an invalid quote', async () => {
    const d = await deployCore(c);
    const { nonce } = await createSession(d);
    const q = buildQuote(d.key, MR_A, sessionCreateReportData(CHAIN_ID, d.core, expectedConfigHash(d), nonce));
    await expectRevert(write(d, 'sessionCreate', [toHex(q), nonce]), 'NonceAlreadyUsed');
    const nonce2 = randomHex32();
    const q2 = buildQuote(d.key, MR_A, sessionCreateReportData(CHAIN_ID, d.core, expectedConfigHash(d), nonce2));
    q2[300] ^= 1;
    await expectRevert(write(d, 'sessionCreate', [toHex(q2), nonce2]), 'InvalidQuoteSignature');
  });

  test('sessionSetPubKey activates, stores keys, and supersedes the previous session', async () => {
    const d = await deployCore(c);
    const s1 = await openSession(d);
    const got = await read<{ encPubKey: Hex; signer: Address; status: bigint }>(d, 'session', [s1.id]);
    assert.equal(got.encPubKey, s1.encPubKey);
    assert.equal(got.signer, s1.signer.address);
    assert.equal(got.status, SESSION_STATUS.active);
    const s2 = await openSession(d, MR_B);
    assert.equal(s2.id, 2n);
    assert.equal((await read<{ status: bigint }>(d, 'session', [s1.id])).status, SESSION_STATUS.superseded);
    const [activeId, active] = await read<[bigint, { signer: Address; status: bigint }]>(d, 'activeSession');
    assert.equal(activeId, 2n);
    assert.equal(active.signer, s2.signer.address);
    assert.equal(active.status, SESSION_STATUS.active);
  });

  test('sessionSetPubKey refuses wrong binding (nonce, key, signer, chain, contract), other measurement, zero signer', async () => {
    const d = await deployCore(c);
    const { id, nonce } = await createSession(d);
    const enc = randomHex32();
    const signer = sessionSigner().address;
    const other = sessionSigner().address;
    const bad: Hex[] = [
      sessionKeysReportData(CHAIN_ID, d.core, randomHex32(), enc, signer),
      sessionKeysReportData(CHAIN_ID, d.core, nonce, randomHex32(), signer),
      sessionKeysReportData(CHAIN_ID, d.core, nonce, enc, other),
      sessionKeysReportData(CHAIN_ID + 1n, d.core, nonce, enc, signer),
      sessionKeysReportData(CHAIN_ID, d.verifier, nonce, enc, signer),
    ];
    for (const rd of bad) await expectRevert(write(d, 'sessionSetPubKey', [id, toHex(buildQuote(d.key, MR_A, rd)), enc, signer]), 'ReportDataMismatch');
    const good = sessionKeysReportData(CHAIN_ID, d.core, nonce, enc, signer);
    await expectRevert(write(d, 'sessionSetPubKey', [id, toHex(buildQuote(d.key, MR_A, good, randomHex32())), enc, signer]), 'ReportDataMismatch');
    await expectRevert(write(d, 'sessionSetPubKey', [id, toHex(buildQuote(d.key, MR_B, good)), enc, signer]), 'MeasurementMismatch');
    const zeroRd = sessionKeysReportData(CHAIN_ID, d.core, nonce, enc, zeroAddress);
    await expectRevert(write(d, 'sessionSetPubKey', [id, toHex(buildQuote(d.key, MR_A, zeroRd)), enc, zeroAddress]), 'ZeroSigner');
    await send(c, c.wallets[0], d.core, abi, 'sessionSetPubKey', [id, toHex(buildQuote(d.key, MR_A, good)), enc, signer]);
  });

  test('sessionSetPubKey refuses a non-pending session (unknown, already active, superseded) and a stale pending one', async () => {
    const d = await deployCore(c);
    const enc = randomHex32();
    const signer = sessionSigner().address;
    const q = (nonce: Hex) => toHex(buildQuote(d.key, MR_A, sessionKeysReportData(CHAIN_ID, d.core, nonce, enc, signer)));
    await expectRevert(write(d, 'sessionSetPubKey', [5n, q(ACC_ZERO), enc, signer]), 'SessionNotPending');
    const stale = await createSession(d); // id 1, stays pending
    const s2 = await openSession(d); // id 2, active
    await expectRevert(write(d, 'sessionSetPubKey', [s2.id, q(s2.nonce), enc, signer]), 'SessionNotPending');
    await expectRevert(write(d, 'sessionSetPubKey', [stale.id, q(stale.nonce), enc, signer]), 'StaleSession');
    await openSession(d); // id 3 supersedes 2
    await expectRevert(write(d, 'sessionSetPubKey', [s2.id, q(s2.nonce), enc, signer]), 'SessionNotPending');
  });
});

describe('session succession (who may activate which keys)', () => {
  const quoteFor = (d: Deployment, nonce: Hex, enc: Hex, signer: Address) => toHex(buildQuote(d.key, MR_A, sessionKeysReportData(CHAIN_ID, d.core, nonce, enc, signer)));
  /** An active session with one pending request, and a pending session with other keys and their quote. */
  async function pendingRekey(d: Deployment) {
    const s1 = await openSession(d);
    await send(c, c.wallets[2], d.core, abi, 'submitRequest', [privatePayload()]);
    const enc = randomHex32();
    const signer = sessionSigner();
    const { id, nonce } = await createSession(d);
    return { s1, enc, signer, id, nonce, q: quoteFor(d, nonce, enc, signer.address) };
  }
  /** Commit request 1 under session s1 (from a non-admin wallet): nothing is pending afterwards. */
  async function commitFirst(d: Deployment, s1: Awaited<ReturnType<typeof openSession>>) {
    const acc = await read<Hex>(d, 'accAt', [1n]);
    const root = randomHex32();
    const digest = commitmentDigest({ chainId: CHAIN_ID, contract: d.core, sessionId: s1.id, from: 1n, to: 1n, accTo: acc, prevRoot: ACC_ZERO, newRoot: root, outputsHash: keccak256('0x'), publicOutputsHash: keccak256(NO_PUBLIC_OUTPUTS) });
    await send(c, c.wallets[3], d.core, abi, 'commitBatch', [1n, 1n, acc, ACC_ZERO, root, '0x', NO_PUBLIC_OUTPUTS, s1.signer.sign(digest)]);
  }

  test('the first session only by the admin, even with public requests pending', async () => {
    const d = await deployCore(c);
    assert.equal(await read(d, 'admin'), c.accounts[0].address);
    await send(c, c.wallets[1], d.core, abi, 'registerOutputKey', [randomHex32()]); // requestCount 1, nothing committed
    const { id, nonce } = await createSession(d, MR_A, c.wallets[1]); // anyone may create a pending session
    const enc = randomHex32();
    const signer = sessionSigner().address;
    await expectRevert(write(d, 'sessionSetPubKey', [id, quoteFor(d, nonce, enc, signer), enc, signer], c.wallets[1]), 'NotAdmin');
    await send(c, c.wallets[0], d.core, abi, 'sessionSetPubKey', [id, quoteFor(d, nonce, enc, signer), enc, signer]);
    assert.equal(await read(d, 'activeSessionId'), id);
  });

  test('the active keys again (a restarted instance) by anyone, requests pending or not', async () => {
    const d = await deployCore(c);
    const s1 = await openSession(d);
    await send(c, c.wallets[2], d.core, abi, 'submitRequest', [privatePayload()]);
    const s2 = await openSession(d, MR_A, s1, c.wallets[3]);
    assert.equal(s2.id, 2n);
    assert.equal((await read<{ status: bigint }>(d, 'session', [1n])).status, SESSION_STATUS.superseded);
  });

  test('other keys: NotAdmin for anyone else; RequestsPending for the admin until committedSeq == requestCount', async () => {
    const d = await deployCore(c);
    const { s1, enc, signer, id, nonce, q } = await pendingRekey(d);
    await expectRevert(write(d, 'sessionSetPubKey', [id, q, enc, signer.address], c.wallets[3]), 'NotAdmin');
    await expectRevert(write(d, 'sessionSetPubKey', [id, q, enc, signer.address]), 'RequestsPending');
    // same signer with another HPKE key (or the reverse) is other keys too
    const otherEnc = randomHex32();
    await expectRevert(write(d, 'sessionSetPubKey', [id, quoteFor(d, nonce, otherEnc, s1.signer.address), otherEnc, s1.signer.address], c.wallets[3]), 'NotAdmin');
    // commit request 1 under s1; then the admin may re-key
    await commitFirst(d, s1);
    await expectRevert(write(d, 'sessionSetPubKey', [id, q, enc, signer.address], c.wallets[3]), 'NotAdmin');
    await send(c, c.wallets[0], d.core, abi, 'sessionSetPubKey', [id, q, enc, signer.address]);
    assert.equal(await read(d, 'activeSessionId'), id);
  });

  test('succession signature: the active signer hands over to other keys, by anyone, only with nothing pending', async () => {
    const d = await deployCore(c);
    const none = await createSession(d);
    const e0 = randomHex32();
    const k0 = sessionSigner();
    await expectRevert(write(d, 'sessionSetPubKeyBySuccession', [none.id, quoteFor(d, none.nonce, e0, k0.address), e0, k0.address, k0.sign(ACC_ZERO)], c.wallets[3]), 'NoActiveSession');
    const { s1, enc, signer, id, nonce, q } = await pendingRekey(d);
    const digest = sessionSuccessionDigest(CHAIN_ID, d.core, id, enc, signer.address);
    assert.equal(await read(d, 'sessionSuccessionDigest', [id, enc, signer.address]), digest);
    const by = (sig: Hex, wallet = c.wallets[3]) => write(d, 'sessionSetPubKeyBySuccession', [id, q, enc, signer.address, sig], wallet);
    await expectRevert(by(signer.sign(digest)), 'WrongSigner'); // the new keys cannot vouch for themselves
    await expectRevert(by(s1.signer.sign(sessionSuccessionDigest(CHAIN_ID, d.core, id + 1n, enc, signer.address))), 'WrongSigner');
    await expectRevert(by(s1.signer.sign(digest)), 'RequestsPending');
    await commitFirst(d, s1);
    await send(c, c.wallets[3], d.core, abi, 'sessionSetPubKeyBySuccession', [id, q, enc, signer.address, s1.signer.sign(digest)]);
    assert.equal(await read(d, 'activeSessionId'), id);
    assert.equal((await read<{ signer: Address }>(d, 'session', [id])).signer, signer.address);
  });
});

describe('requests', () => {
  test('submitRequest refuses without an active session (pending is not enough)', async () => {
    const d = await deployCore(c);
    await expectRevert(write(d, 'submitRequest', [privatePayload()]), 'NoActiveSession');
    await createSession(d);
    await expectRevert(write(d, 'submitRequest', [privatePayload()]), 'NoActiveSession');
  });

  test('submitRequest refuses empty, too short, oversized and non-private payloads; accepts 49 and 16384 bytes', async () => {
    const d = await deployCore(c);
    await openSession(d);
    await expectRevert(write(d, 'submitRequest', ['0x']), 'InvalidPayloadLength');
    await expectRevert(write(d, 'submitRequest', [privatePayload(48)]), 'InvalidPayloadLength');
    await expectRevert(write(d, 'submitRequest', [privatePayload(1)]), 'InvalidPayloadLength');
    await expectRevert(write(d, 'submitRequest', [privatePayload(MAX_PAYLOAD_BYTES + 1)]), 'InvalidPayloadLength');
    const pub = toHex(new Uint8Array(100).fill(2));
    await expectRevert(write(d, 'submitRequest', [pub]), 'InvalidPayloadKind');
    await expectRevert(write(d, 'submitRequest', [`0x00${privatePayload().slice(4)}`]), 'InvalidPayloadKind');
    await send(c, c.wallets[0], d.core, abi, 'submitRequest', [privatePayload(49)]);
    await send(c, c.wallets[0], d.core, abi, 'submitRequest', [privatePayload(MAX_PAYLOAD_BYTES)]);
    assert.equal(await read(d, 'requestCount'), 2n);
  });

  test('accumulator and accAt follow accumulatorStep; RequestSubmitted carries seq, sender, session, payload', async () => {
    const d = await deployCore(c);
    const s = await openSession(d);
    let acc: Hex = ACC_ZERO;
    const accs: Hex[] = [];
    for (let i = 0; i < 4; i++) {
      const wallet = c.wallets[i % 3]!;
      const payload = privatePayload(60 + i);
      const r = await send(c, wallet, d.core, abi, 'submitRequest', [payload]);
      acc = accumulatorStep(acc, BigInt(i + 1), wallet.account.address, s.id, keccak256(payload));
      accs.push(acc);
      const ev = decodeEventLog({ abi, ...r.logs[0]! });
      assert.equal(ev.eventName, 'RequestSubmitted');
      assert.deepEqual(ev.args, { seq: BigInt(i + 1), sender: wallet.account.address, sessionId: s.id, payload });
    }
    assert.equal(await read(d, 'accumulator'), acc);
    assert.equal(await read(d, 'requestCount'), 4n);
    for (let i = 0; i < 4; i++) assert.equal(await read(d, 'accAt', [BigInt(i + 1)]), accs[i]);
    assert.equal(await read(d, 'accAt', [5n]), ACC_ZERO);
  });

  test('registerOutputKey appends 0x02 || abi.encode("geode.register-key", abi.encode(key)) (no session needed)', async () => {
    const d = await deployCore(c);
    const key = randomHex32();
    const r = await send(c, c.wallets[1], d.core, abi, 'registerOutputKey', [key]);
    const payload = `0x02${encodeAbiParameters([{ type: 'string' }, { type: 'bytes' }], ['geode.register-key', encodeAbiParameters([{ type: 'bytes32' }], [key])]).slice(2)}` as Hex;
    const ev = decodeEventLog({ abi, ...r.logs[0]! });
    assert.deepEqual(ev.args, { seq: 1n, sender: c.wallets[1].account.address, sessionId: 0n, payload });
    assert.equal(await read(d, 'accumulator'), accumulatorStep(ACC_ZERO, 1n, c.wallets[1].account.address, 0n, keccak256(payload)));
    await expectRevert(write(d, 'registerOutputKey', [ACC_ZERO]), 'ZeroOutputKey');
  });
});

describe('commitBatch', () => {
  const outputsFor = (n: number, to: bigint): Hex =>
    encodeOutputs(Array.from({ length: n }, (_, i): BatchOutput => ({ recipient: c.accounts[i % 4]!.address, seq: to, ciphertext: privatePayload(80).replace('0x01', '0x') as Hex })));

  async function withRequests(n: number) {
    const d = await deployCore(c);
    const s = await openSession(d);
    for (let i = 0; i < n; i++) await send(c, c.wallets[0], d.core, abi, 'submitRequest', [privatePayload()]);
    return { d, s };
  }
  const digestFor = (d: Deployment, sessionId: bigint, from: bigint, to: bigint, accTo: Hex, prevRoot: Hex, newRoot: Hex, outputs: Hex) =>
    commitmentDigest({ chainId: CHAIN_ID, contract: d.core, sessionId, from, to, accTo, prevRoot, newRoot, outputsHash: keccak256(outputs), publicOutputsHash: keccak256(NO_PUBLIC_OUTPUTS) });

  test('accepts a correct commitment exactly once and emits BatchCommitted; refuses the replay', async () => {
    const { d, s } = await withRequests(3);
    const accTo = await read<Hex>(d, 'accAt', [2n]);
    const newRoot = randomHex32();
    const outputs = outputsFor(2, 2n);
    const sig = s.signer.sign(digestFor(d, s.id, 1n, 2n, accTo, ACC_ZERO, newRoot, outputs));
    const r = await send(c, c.wallets[1], d.core, abi, 'commitBatch', [1n, 2n, accTo, ACC_ZERO, newRoot, outputs, NO_PUBLIC_OUTPUTS, sig]);
    const ev = decodeEventLog({ abi, ...r.logs[0]! });
    assert.equal(ev.eventName, 'BatchCommitted');
    assert.deepEqual(ev.args, { sessionId: s.id, from: 1n, to: 2n, accTo, prevRoot: ACC_ZERO, newRoot, outputsHash: keccak256(outputs), outputs });
    assert.equal(await read(d, 'committedSeq'), 2n);
    assert.equal(await read(d, 'stateRoot'), newRoot);
    await expectRevert(write(d, 'commitBatch', [1n, 2n, accTo, ACC_ZERO, newRoot, outputs, NO_PUBLIC_OUTPUTS, sig]), 'UnexpectedBatchStart');
    // the next batch continues from 3 and from the new root
    const acc3 = await read<Hex>(d, 'accAt', [3n]);
    const root3 = randomHex32();
    const empty = encodeOutputs([]);
    await send(c, c.wallets[1], d.core, abi, 'commitBatch', [3n, 3n, acc3, newRoot, root3, empty, NO_PUBLIC_OUTPUTS, s.signer.sign(digestFor(d, s.id, 3n, 3n, acc3, newRoot, root3, empty))]);
    assert.equal(await read(d, 'committedSeq'), 3n);
  });

  test('refuses wrong from, to beyond requestCount or before from, wrong accTo, stale prevRoot', async () => {
    const { d, s } = await withRequests(3);
    const acc2 = await read<Hex>(d, 'accAt', [2n]);
    const root = randomHex32();
    const outputs = outputsFor(1, 1n);
    const commit = (from: bigint, to: bigint, accTo: Hex, prevRoot: Hex) =>
      write(d, 'commitBatch', [from, to, accTo, prevRoot, root, outputs, NO_PUBLIC_OUTPUTS, s.signer.sign(digestFor(d, s.id, from, to, accTo, prevRoot, root, outputs))]);
    await expectRevert(commit(2n, 2n, acc2, ACC_ZERO), 'UnexpectedBatchStart');
    await expectRevert(commit(0n, 2n, acc2, ACC_ZERO), 'UnexpectedBatchStart');
    await expectRevert(commit(1n, 4n, ACC_ZERO, ACC_ZERO), 'BatchOutOfRange');
    await expectRevert(commit(1n, 0n, ACC_ZERO, ACC_ZERO), 'BatchOutOfRange');
    await expectRevert(commit(1n, 2n, await read<Hex>(d, 'accAt', [3n]), ACC_ZERO), 'AccumulatorMismatch');
    await expectRevert(commit(1n, 2n, randomHex32(), ACC_ZERO), 'AccumulatorMismatch');
    await expectRevert(commit(1n, 2n, acc2, randomHex32()), 'StaleStateRoot');
    await commit(1n, 2n, acc2, ACC_ZERO);
  });

  test('refuses a wrong signer, a high-s signature, a bad length, a digest over other outputs, a superseded session', async () => {
    const { d, s } = await withRequests(2);
    const acc = await read<Hex>(d, 'accAt', [2n]);
    const root = randomHex32();
    const outputs = outputsFor(3, 2n);
    const digest = digestFor(d, s.id, 1n, 2n, acc, ACC_ZERO, root, outputs);
    const commit = (sig: Hex, outs: Hex = outputs) => write(d, 'commitBatch', [1n, 2n, acc, ACC_ZERO, root, outs, NO_PUBLIC_OUTPUTS, sig]);
    await expectRevert(commit(sessionSigner().sign(digest)), 'WrongSigner');
    await expectRevert(commit(s.signer.sign(digest, { highS: true })), 'MalformedSignature');
    await expectRevert(commit(s.signer.sign(digest).slice(0, 130) as Hex), 'InvalidSignatureLength');
    await expectRevert(commit(`${s.signer.sign(digest).slice(0, 130)}1d` as Hex), 'MalformedSignature');
    await expectRevert(commit(s.signer.sign(digest), outputsFor(2, 2n)), 'WrongSigner');
    // digest bound to another session id / chain id / contract
    await expectRevert(commit(s.signer.sign(digestFor(d, s.id + 1n, 1n, 2n, acc, ACC_ZERO, root, outputs))), 'WrongSigner');
    await expectRevert(commit(s.signer.sign(commitmentDigest({ chainId: CHAIN_ID + 1n, contract: d.core, sessionId: s.id, from: 1n, to: 2n, accTo: acc, prevRoot: ACC_ZERO, newRoot: root, outputsHash: keccak256(outputs), publicOutputsHash: keccak256(NO_PUBLIC_OUTPUTS) }))), 'WrongSigner');
    // an EIP-191-prefixed signature is not accepted
    const { hashMessage } = await import('viem');
    await expectRevert(commit(s.signer.sign(hashMessage({ raw: digest }))), 'WrongSigner');
    // after a re-handshake (same keys, new session id) the old session's signature is refused
    const sig = s.signer.sign(digest);
    const s2 = await openSession(d, MR_B, s);
    await expectRevert(commit(sig), 'WrongSigner');
    const digest2 = digestFor(d, s2.id, 1n, 2n, acc, ACC_ZERO, root, outputs);
    const sig2 = s2.signer.sign(digest2);
    // v given as 0/1 is accepted as well as 27/28
    await send(c, c.wallets[0], d.core, abi, 'commitBatch', [1n, 2n, acc, ACC_ZERO, root, outputs, NO_PUBLIC_OUTPUTS, `${sig2.slice(0, 130)}${(parseInt(sig2.slice(130), 16) - 27).toString(16).padStart(2, '0')}`]);
    assert.equal(await read(d, 'committedSeq'), 2n);
  });

  test('commitBatch refuses without an active session', async () => {
    const d = await deployCore(c);
    await expectRevert(write(d, 'commitBatch', [1n, 1n, ACC_ZERO, ACC_ZERO, ACC_ZERO, '0x', NO_PUBLIC_OUTPUTS, '0x']), 'NoActiveSession');
  });

  test('gas: submitRequest and commitBatch with 1, 10, 100 outputs', async (t) => {
    const { d, s } = await withRequests(0);
    const gas: Record<string, bigint> = {};
    const r1 = await send(c, c.wallets[0], d.core, abi, 'submitRequest', [privatePayload(49 + 16)]);
    gas['submitRequest (1st, 65-byte payload)'] = r1.gasUsed;
    const r2 = await send(c, c.wallets[1], d.core, abi, 'submitRequest', [privatePayload(49 + 16)]);
    gas['submitRequest (65-byte payload)'] = r2.gasUsed;
    const r3 = await send(c, c.wallets[1], d.core, abi, 'submitRequest', [privatePayload(1024)]);
    gas['submitRequest (1 KiB payload)'] = r3.gasUsed;
    for (let i = 0; i < 3; i++) await send(c, c.wallets[0], d.core, abi, 'submitRequest', [privatePayload()]);
    let from = 1n;
    let root: Hex = ACC_ZERO;
    for (const [n, to] of [[1, 2n], [10, 4n], [100, 6n]] as const) {
      const acc = await read<Hex>(d, 'accAt', [to]);
      const newRoot = randomHex32();
      const outputs = outputsFor(n, to); // each ciphertext 79 bytes (32-byte enc + 47-byte ct)
      const sig = s.signer.sign(digestFor(d, s.id, from, to, acc, root, newRoot, outputs));
      const r = await send(c, c.wallets[1], d.core, abi, 'commitBatch', [from, to, acc, root, newRoot, outputs, NO_PUBLIC_OUTPUTS, sig]);
      gas[`commitBatch (${n} outputs, ${(outputs.length - 2) / 2} bytes)`] = r.gasUsed;
      from = to + 1n;
      root = newRoot;
    }
    for (const [k, v] of Object.entries(gas)) t.diagnostic(`${k}: ${v} gas`);
    assert.ok(gas['submitRequest (65-byte payload)']! < 150_000n);
  });
});
