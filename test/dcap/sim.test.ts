/**
 * The on-chain DCAP verifier with a test PKI (packages/attestation/src/sim: real-layout SGX quotes and collateral
 * under the Geode simulation root, pinned here as the deployment's root): a whole GeodeCore handshake through it;
 * verifier paths no real fixture reaches, each the same outcome as the TypeScript verifier (re-signed TCB Info / QE
 * Identity, a revoked PCK certificate, debug); collateral and chains of another root refused; and a real Intel
 * fixture quote that passes every signature and collateral check and is then refused for its report data alone.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeEventLog, hexToBytes, keccak256, toBytes, toHex, type Address, type Hex } from 'viem';
import { intelSgxRootCaDer, sim, verifyDcapQuote, type Verdict } from '@geode/attestation';
import { DcapQuoteVerifierAbi, GeodeCoreAbi, GeodeCoreBytecode } from '@geode/contracts';
import { registerCollateral, verifyQuoteOnchain } from '@geode/contracts/dcap';
import { SESSION_STATUS, sessionCreateReportData, sessionKeysReportData } from '@geode/protocol';
import { json, SGX_OK } from '../../packages/attestation/test/dcap-fixtures.ts';
import { resign, withRevokedPckLeaf } from '../../packages/attestation/test/sim-edits.ts';
import { CHAIN_ID, deploy, expectRevert, send } from '../../packages/contracts/test/helpers.ts';
import { onchainEnv, onchainOutcome, refusal, type OnchainEnv } from './onchain.ts';

const NOW = 1_750_000_000;
const AT = NOW + 3600;
const INTEL = intelSgxRootCaDer();
const MR: Hex = keccak256(toBytes('dcap handshake enclave'));
let env: OnchainEnv;
let pki: sim.SimulationPki;

before(async () => {
  pki = await sim.createSimulationPki({ now: NOW, seed: new Uint8Array(32).fill(5) });
  env = await onchainEnv({ sim: pki.rootCaDer, intel: INTEL });
});

const quoteOf = (reportData: Uint8Array = new Uint8Array(64).fill(3), attributes?: Uint8Array) =>
  sim.buildSimQuote({ pki, mrEnclave: hexToBytes(MR), mrSigner: new Uint8Array(32).fill(2), reportData, attributes });

/** Fresh chain state at NOW + 60 with `col` registered under the simulation root, block time AT. */
async function withCollateral(col: Record<string, string> = pki.collateral() as never): Promise<void> {
  await env.fresh(NOW + 60);
  await registerCollateral(env.dc, env.deployments.sim.registry, col as never, pki.rootCaDer);
  await env.at(AT);
}

async function deployCoreWith(verifier: Address, measurement: Hex): Promise<Address> {
  const w = env.chain.wallets[0];
  return deploy(env.chain, w, GeodeCoreAbi, GeodeCoreBytecode, [[measurement], verifier, env.chain.accounts[5].address, toHex(randomBytes(32)), toHex(randomBytes(32))]);
}

const read = <T>(core: Address, functionName: string, args: readonly unknown[] = []) =>
  env.chain.publicClient.readContract({ address: core, abi: GeodeCoreAbi, functionName, args } as never) as Promise<T>;

const rd64 = (lo: Hex) => {
  const r = new Uint8Array(64);
  r.set(hexToBytes(lo));
  return r;
};

test('a whole handshake (SessionCreate, SessionSetPubKey) through the DCAP verifier with test-PKI quotes', async () => {
  await withCollateral();
  const core = await deployCoreWith(env.deployments.sim.verifier, MR);
  const cfg = await read<Hex>(core, 'configHash');
  const nonce = toHex(randomBytes(32));
  const w = env.chain.wallets[0];
  const createQuote = quoteOf(rd64(sessionCreateReportData(CHAIN_ID, core, cfg, nonce)));
  const r1 = await send(env.chain, w, core, GeodeCoreAbi, 'sessionCreate', [toHex(createQuote), nonce]);
  const created = r1.logs.map((l) => { try { return decodeEventLog({ abi: GeodeCoreAbi, ...l }); } catch { return undefined; } }).find((e) => e?.eventName === 'SessionCreated');
  assert.ok(created, 'SessionCreated emitted');
  const id = (created.args as { sessionId: bigint }).sessionId;
  const enc = toHex(randomBytes(32));
  const signer = env.chain.accounts[1].address;
  const keysQuote = quoteOf(rd64(sessionKeysReportData(CHAIN_ID, core, nonce, enc, signer)));
  const r2 = await send(env.chain, w, core, GeodeCoreAbi, 'sessionSetPubKey', [id, toHex(keysQuote), enc, signer]);
  assert.equal(await read<bigint>(core, 'activeSessionId'), id);
  const s = await read<{ status: bigint; signer: Address; encPubKey: Hex; mrEnclave: Hex }>(core, 'session', [id]);
  assert.equal(s.status, SESSION_STATUS.active);
  assert.equal(s.signer, signer);
  assert.equal(s.encPubKey, enc);
  assert.equal(s.mrEnclave, MR);
  // The first quote paid for the new platform (PCK chain), the second found it cached.
  assert.ok(r2.gasUsed < r1.gasUsed, `${r2.gasUsed} < ${r1.gasUsed}`);
  // The same quote bytes with another report data is refused by the core, not the verifier.
  await expectRevert(w.writeContract({ address: core, abi: GeodeCoreAbi, functionName: 'sessionCreate', args: [toHex(quoteOf()), toHex(randomBytes(32))] } as never), 'ReportDataMismatch');
});

test('test-PKI verifier paths: the same outcome on-chain as the TypeScript verifier', async () => {
  type Level = { tcbStatus: string; advisoryIDs?: string[]; tcb: Record<string, unknown> };
  const q = quoteOf();
  const cases: [string, Record<string, string>, string?][] = [
    ['baseline', pki.collateral() as never],
    ['TCB Revoked', resign(pki, 'tcb_info', (j) => (j.tcbLevels as Level[]).forEach((l) => (l.tcbStatus = 'Revoked')))],
    ['SWHardeningNeeded + advisories', resign(pki, 'tcb_info', (j) => (j.tcbLevels as Level[]).forEach((l) => Object.assign(l, { tcbStatus: 'SWHardeningNeeded', advisoryIDs: ['INTEL-SA-00615', 'INTEL-SA-00001'] })))],
    ['PCE-ID mismatch', resign(pki, 'tcb_info', (j) => (j.pceId = '0001'))],
    ['TCB level above the platform', resign(pki, 'tcb_info', (j) => (j.tcbLevels as Level[]).forEach((l) => (l.tcb.pcesvn = 99)))],
    ['QE MRSIGNER', resign(pki, 'qe_identity', (j) => (j.mrsigner = 'AB'.repeat(32)))],
    ['QE ISVPRODID', resign(pki, 'qe_identity', (j) => (j.isvprodid = 7))],
    ['QE masked ATTRIBUTES', resign(pki, 'qe_identity', (j) => Object.assign(j, { attributes: 'FF'.repeat(16), attributesMask: 'FF'.repeat(16) }))],
    ['QE ISVSVN below every level', resign(pki, 'qe_identity', (j) => (j.tcbLevels as Level[]).forEach((l) => (l.tcb.isvsvn = 200)))],
    ['QE OutOfDate converges', resign(pki, 'qe_identity', (j) => (j.tcbLevels as Level[]).forEach((l) => Object.assign(l, { tcbStatus: 'OutOfDate', advisoryIDs: ['INTEL-SA-00999'] })))],
    ['QE Revoked', resign(pki, 'qe_identity', (j) => (j.tcbLevels as Level[]).forEach((l) => (l.tcbStatus = 'Revoked')))],
    ['revoked PCK certificate', withRevokedPckLeaf(pki, q, NOW)],
    // On-chain the TCB Info is selected by the PCK's FMSPC and the QE Identity by the quote's TEE type, so collateral
    // for another platform or QE is not found rather than found and mismatching.
    ['TCB Info of another FMSPC', resign(pki, 'tcb_info', (j) => (j.fmspc = '00AA00000000')), 'ATTEST_COLLATERAL_MISSING'],
    ['QE Identity of the TD_QE', resign(pki, 'qe_identity', (j) => (j.id = 'TD_QE')), 'ATTEST_COLLATERAL_MISSING'],
  ];
  for (const [name, col, onchainCode] of cases) {
    let off: Verdict | { code: string };
    try {
      off = verifyDcapQuote(q, col as never, { now: AT, rootCaDer: pki.rootCaDer, cache: null });
    } catch (e) {
      off = { code: (e as { code: string }).code };
    }
    await withCollateral(col);
    const on = await onchainOutcome(env, env.deployments.sim.verifier, q);
    if ('code' in off || onchainCode) {
      assert.ok('code' in on, `${name}: accepted on-chain`);
      assert.equal(on.code, onchainCode ?? (off as { code: string }).code, name);
      if (onchainCode) assert.ok('code' in off, `${name}: the TypeScript verifier refuses too`);
    } else {
      assert.ok(!('code' in on), `${name}: refused on-chain (${'code' in on ? on.code : ''})`);
      assert.equal(on.status, off.status, name);
      assert.deepEqual([...on.advisoryIds].sort(), off.advisoryIds, name);
      assert.equal(on.measurement, MR, name);
    }
  }
});

test('verifyQuote policy: a debug enclave and a TCB status outside the accepted set are refused', async () => {
  await withCollateral();
  const debugAttrs = new Uint8Array(16);
  debugAttrs[0] = 0x07; // INIT | DEBUG | MODE64BIT
  const dbg = quoteOf(undefined, debugAttrs);
  const verdict = await onchainOutcome(env, env.deployments.sim.verifier, dbg);
  assert.ok(!('code' in verdict) && verdict.debug);
  const verifyQuote = (q: Uint8Array) => env.chain.publicClient.simulateContract({ address: env.deployments.sim.verifier, abi: DcapQuoteVerifierAbi, functionName: 'verifyQuote', args: [toHex(q)], account: env.chain.accounts[0] });
  await expectRevert(verifyQuote(dbg), 'DebugEnclaveRefused');
  // A verifier that accepts only OutOfDate refuses the UpToDate simulation platform.
  const strict = await deploy(env.chain, env.chain.wallets[0], DcapQuoteVerifierAbi, (await import('@geode/contracts')).DcapQuoteVerifierBytecode, [env.deployments.sim.registry, 1n << 4n, 0n, []]);
  await expectRevert(env.chain.publicClient.simulateContract({ address: strict, abi: DcapQuoteVerifierAbi, functionName: 'verifyQuote', args: [toHex(quoteOf())], account: env.chain.accounts[0] }), 'TcbStatusNotAccepted');
  const ok = await verifyQuote(quoteOf());
  assert.equal(ok.result[0], MR);
});

test('collateral and PCK chains of another root are refused', async () => {
  // Simulation collateral offered to the Intel-pinned registry, Intel collateral to the simulation-pinned one.
  await env.fresh(NOW + 60);
  assert.equal(await refusal(registerCollateral(env.dc, env.deployments.intel.registry, pki.collateral(), INTEL)), 'ATTEST_CHAIN_INVALID');
  assert.equal(await refusal(registerCollateral(env.dc, env.deployments.sim.registry, json(SGX_OK.collateral), pki.rootCaDer)), 'ATTEST_CHAIN_INVALID');
  // A test-PKI quote before the Intel-pinned verifier, whose collateral is all registered and current.
  const late = await sim.createSimulationPki({ now: SGX_OK.now - 3600, seed: new Uint8Array(32).fill(6) });
  await env.fresh(SGX_OK.now - 1000);
  await registerCollateral(env.dc, env.deployments.intel.registry, json(SGX_OK.collateral), INTEL);
  await env.at(SGX_OK.now);
  const q = sim.buildSimQuote({ pki: late, mrEnclave: hexToBytes(MR), mrSigner: new Uint8Array(32), reportData: new Uint8Array(64) });
  const on = await onchainOutcome(env, env.deployments.intel.verifier, q);
  assert.equal('code' in on ? on.code : 'accepted', 'ATTEST_CHAIN_INVALID');
});

test('a real Intel fixture quote passes every signature and collateral check, then is refused for its report data alone', async () => {
  await env.fresh(SGX_OK.now - 1000);
  const { verifier, registry } = env.deployments.intel;
  await registerCollateral(env.dc, registry, json(SGX_OK.collateral), INTEL);
  const core = await deployCoreWith(verifier, '0x33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb');
  await env.next(SGX_OK.now);
  const passed = await verifyQuoteOnchain(env.dc, verifier, SGX_OK.quote());
  assert.equal(passed.verdict.status, 'ConfigurationAndSWHardeningNeeded');
  await env.next(SGX_OK.now);
  await expectRevert(env.chain.wallets[0].writeContract({ address: core, abi: GeodeCoreAbi, functionName: 'sessionCreate', args: [toHex(SGX_OK.quote()), toHex(randomBytes(32))] } as never), 'ReportDataMismatch');
});
