/**
 * Differential test of the on-chain DCAP verifier (packages/contracts/src/dcap) against the TypeScript verifier
 * (packages/attestation/src/dcap/verify.ts): every DCAP fixture quote, at its pinned time set as the block timestamp,
 * gets the same verdict (status, advisories, FMSPC, PCE-ID, TEE type, version, debug, measurement, report data,
 * validity window) or the same refusal code; every quote and collateral mutation of the TypeScript mutation tests is
 * refused on-chain with the same code; moving block time out of the validity window refuses like `now` does.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from 'viem';
import { evaluatePolicy, intelSgxRootCaDer, parseQuote, verifyDcapQuote, type Verdict } from '@geode/attestation';
import { DcapQuoteVerifierAbi } from '@geode/contracts';
import { decodeRevert, deployDcapVerifier, OnchainDcapError, onchainErrorCode, registerCollateral, TDX_POLICY, tdxMeasurement, verifyQuoteOnchain } from '@geode/contracts/dcap';
import {
  COLLATERAL_MUTATIONS,
  DCAP_CASES,
  json,
  QUOTE_MUTATION_CODES,
  quoteRegions,
  SGX_OK,
  TDX_OK,
  TDX_V5_OK,
  type DcapCase,
} from '../../packages/attestation/test/dcap-fixtures.ts';
import { codeOf } from '../../packages/attestation/test/util.ts';
import { onchainEnv, onchainOutcome, refusal, unix, type OnchainEnv } from './onchain.ts';

const ROOT = intelSgxRootCaDer();
let env: OnchainEnv;
let verifier: `0x${string}`;
let registry: `0x${string}`;

before(async () => {
  env = await onchainEnv({ intel: ROOT });
  ({ verifier, registry } = env.deployments.intel);
});

/** Fresh state at `now - 1000`, the case's collateral registered, then block time `now`. */
async function registered(c: DcapCase, now = c.now): Promise<void> {
  await env.fresh(now - 1000);
  await registerCollateral(env.dc, registry, json(c.collateral), ROOT);
  await env.at(now);
}

function offchain(c: DcapCase, now = c.now): Verdict | { code: string } {
  try {
    return verifyDcapQuote(c.quote(), json(c.collateral), { now, cache: null });
  } catch (e) {
    return { code: (e as { code: string }).code };
  }
}

test('every DCAP fixture quote: the on-chain verdict equals the TypeScript verdict at the fixture time', async () => {
  const cases = [...DCAP_CASES].sort((a, b) => a.now - b.now);
  let verified = 0;
  for (const c of cases) {
    await registered(c);
    const off = offchain(c);
    const on = await onchainOutcome(env, verifier, c.quote());
    if ('code' in off) {
      assert.ok('code' in on, `${c.name}: on-chain accepted what the TypeScript verifier refused (${off.code})`);
      assert.equal(on.code, off.code, c.name);
      continue;
    }
    assert.ok(!('code' in on), `${c.name}: refused on-chain with ${'code' in on ? `${on.code} (${on.errorName})` : ''}`);
    verified++;
    const m = off.measurements;
    assert.equal(on.status, off.status, c.name);
    assert.deepEqual([...on.advisoryIds].sort(), off.advisoryIds, c.name);
    assert.equal(on.teeType, off.teeType, c.name);
    assert.equal(on.version, off.version, c.name);
    assert.equal(on.fmspc, off.fmspc, c.name);
    assert.equal(on.pceId, off.pceId, c.name);
    assert.equal(on.debug, off.debug, c.name);
    assert.equal(on.reportData, `0x${m.reportData}`, c.name);
    const want = off.teeType === 'sgx' ? `0x${m.mrEnclave}` : tdxMeasurement(Buffer.from(m.mrTd as string, 'hex'), (m.rtmrs as string[]).map((r) => Buffer.from(r, 'hex')));
    assert.equal(on.measurement, want, c.name);
    assert.equal(on.validFrom, unix(off.validFrom as string), `${c.name} validFrom`);
    assert.equal(on.validUntil, unix(off.validUntil as string), `${c.name} validUntil`);
    const q = parseQuote(c.quote());
    assert.equal(on.reportBody, `0x${Buffer.from(c.quote().subarray(q.signedBytes.length - (q.body.kind === 'sgx' ? 384 : q.body.kind === 'td10' ? 584 : 648), q.signedBytes.length)).toString('hex')}`);
    // The transaction caches the PCK chain; the cached path gives the same verdict.
    await env.next(c.now);
    const tx = await verifyQuoteOnchain(env.dc, verifier, c.quote());
    assert.equal(tx.verdict.pckCached, false);
    const again = await onchainOutcome(env, verifier, c.quote());
    assert.ok(!('code' in again) && again.pckCached && again.status === on.status, c.name);
  }
  assert.equal(verified, 5, 'the five verifying fixtures (SGX v3 x2, TDX v4, TDX v5 x2) verified');
});

for (const c of [SGX_OK, TDX_OK, TDX_V5_OK]) {
  test(`quote and PCK chain mutations are refused on-chain with the TypeScript codes: ${c.name}`, async () => {
    await registered(c);
    const check = async (label: string) => {
      for (const [name, at] of Object.entries(quoteRegions(c.quote()))) {
        const q = c.quote();
        q[at] ^= 0x01;
        assert.equal(codeOf(() => verifyDcapQuote(q, json(c.collateral), { now: c.now, cache: null })), QUOTE_MUTATION_CODES[name], name);
        const on = await onchainOutcome(env, verifier, q);
        assert.equal('code' in on ? on.code : 'accepted', QUOTE_MUTATION_CODES[name], `${name} (${label})`);
      }
    };
    await check('PCK chain not cached');
    await env.next(c.now);
    await verifyQuoteOnchain(env.dc, verifier, c.quote());
    await check('PCK chain cached');
    // A base64 character inside the leaf's signature: a new platform whose chain does not verify.
    const q = c.quote();
    const cd = parseQuote(q).signatureData.qe.certification;
    const i = cd.data.byteOffset - q.byteOffset + (cd.pemChain as string).indexOf('-----END CERTIFICATE-----') - 10;
    q[i] = q[i] === 0x41 ? 0x42 : 0x41;
    const on = await onchainOutcome(env, verifier, q);
    assert.equal('code' in on ? on.code : 'accepted', 'ATTEST_CHAIN_INVALID');
  });
}

for (const c of [SGX_OK, TDX_OK]) {
  test(`collateral mutations are refused at registration with the TypeScript codes: ${c.name}`, async () => {
    await registered(c);
    const s = await env.snapshot();
    for (const [name, mutate, code] of COLLATERAL_MUTATIONS) {
      await s.restore();
      const col = json(c.collateral);
      mutate(col);
      assert.equal(codeOf(() => verifyDcapQuote(c.quote(), col, { now: c.now, cache: null })), code, name);
      assert.equal(await refusal(registerCollateral(env.dc, registry, col, ROOT)), code, name);
    }
  });
}

for (const c of [SGX_OK, TDX_OK]) {
  test(`block time outside the validity window is refused like the TypeScript 'now': ${c.name}`, async () => {
    const v = offchain(c) as Verdict;
    for (const t of [unix(v.validFrom as string) - 1, unix(v.validUntil as string) + 1]) {
      const off = offchain(c, t);
      assert.ok('code' in off && /EXPIRED/.test(off.code), `${t}`);
      await registered(c, t);
      const on = await onchainOutcome(env, verifier, c.quote());
      assert.equal('code' in on ? on.code : 'accepted', off.code, `at ${new Date(t * 1000).toISOString()}`);
    }
  });
}

test('older collateral cannot replace newer collateral; the same item again is a no-op', async () => {
  // The TDX v5 sample's collateral (2026) then the TDX v4 collateral of another FMSPC (2025): CRLs are older.
  const newer = json('dcap-qvl/tdx_quote_outdated_collateral.json');
  const older = json(TDX_OK.collateral);
  await env.fresh(TDX_V5_OK.now - 1000);
  await registerCollateral(env.dc, registry, newer, ROOT);
  await registerCollateral(env.dc, registry, newer, ROOT);
  assert.equal(await refusal(registerCollateral(env.dc, registry, older, ROOT)), 'ATTEST_COLLATERAL_EXPIRED');
});

test('verifyQuote policy (debug, MRSERVICETD, SEPT_VE_DISABLE) refuses what evaluatePolicy refuses, on every verifying fixture', async () => {
  const all = ['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded'];
  let refused = 0;
  for (const c of [...DCAP_CASES].sort((a, b) => a.now - b.now)) {
    const off = offchain(c);
    if ('code' in off) continue;
    const offCode = codeOf(() => evaluatePolicy(off, { acceptedStatuses: all as never, allowedAdvisoryIds: ['*'] }, { now: c.now }));
    await registered(c);
    await env.next(c.now);
    const onCode = await refusal(
      env.chain.publicClient
        .simulateContract({ address: verifier, abi: DcapQuoteVerifierAbi, functionName: 'verifyQuote', args: [toHex(c.quote())], account: env.chain.accounts[0] })
        .catch((e) => {
          const r = decodeRevert(e);
          throw r ? new OnchainDcapError(onchainErrorCode(r.errorName, 'verify'), r.errorName, r.errorName) : e;
        }),
    );
    assert.equal(onCode, offCode, c.name);
    if (onCode !== 'no error') refused++;
  }
  assert.ok(refused >= 1, 'alibaba_quote_5 (non-zero MRSERVICETD) is refused by both');
});

test('verifyQuote advisory policy: an empty list refuses every advisory evaluatePolicy refuses; listing the IDs accepts them', async () => {
  const all = ['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded'];
  const tolerant = TDX_POLICY.allowServiceTd | TDX_POLICY.allowSeptVe;
  // registered() rewinds the chain, so each verifier is deployed after it, over the shared registry.
  const call = (v: `0x${string}`, q: Uint8Array) =>
    refusal(
      env.chain.publicClient
        .simulateContract({ address: v, abi: DcapQuoteVerifierAbi, functionName: 'verifyQuote', args: [toHex(q)], account: env.chain.accounts[0] })
        .catch((e) => {
          const r = decodeRevert(e);
          throw r ? new OnchainDcapError(onchainErrorCode(r.errorName, 'verify'), r.errorName, r.errorName) : e;
        }),
    );
  let refused = 0;
  for (const c of [...DCAP_CASES].sort((a, b) => a.now - b.now)) {
    const off = offchain(c);
    if ('code' in off || off.debug) continue;
    const lenient = { acceptedStatuses: all as never, allowMrServiceTd: true, tdx: { requireSeptVeDisable: false } };
    const offCode = codeOf(() => evaluatePolicy(off, { ...lenient, allowedAdvisoryIds: [] } as never, { now: c.now }));
    // Registered a minute early so that the two deployments' blocks stay before the fixture time checked below.
    await registered(c, c.now - 60);
    const strict = (await deployDcapVerifier(env.dc, ROOT, { allowedAdvisoryIds: [], tdxPolicy: tolerant, registry })).verifier;
    const listed = (await deployDcapVerifier(env.dc, ROOT, { allowedAdvisoryIds: off.advisoryIds, tdxPolicy: tolerant, registry })).verifier;
    await env.next(c.now);
    assert.equal(await call(strict, c.quote()), offCode, c.name);
    if (offCode === 'POLICY_ADVISORY') {
      refused++;
      // Exactly the verdict's IDs tolerated: accepted.
      assert.equal(await call(listed, c.quote()), 'no error', `${c.name} with ${off.advisoryIds.join(',')} listed`);
    }
  }
  assert.ok(refused >= 1, 'at least one fixture carries advisories');
});
