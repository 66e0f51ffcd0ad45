/**
 * Malformed input to the on-chain DCAP verifier: truncated quotes, edited length and type fields, and malformed JSON
 * collateral that carries a genuine signature (re-signed with the test PKI's TCB Signing key). Each is refused with a
 * typed contract error that maps to the TypeScript verifier's code: never a panic, never an out-of-gas, never state.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { intelSgxRootCaDer, sim, verifyDcapQuote } from '@geode/attestation';
import { registerCollateral } from '@geode/contracts/dcap';
import { json, SGX_OK, TDX_OK, TDX_V5_OK } from '../../packages/attestation/test/dcap-fixtures.ts';
import { keyOf } from '../../packages/attestation/test/sim-edits.ts';
import { codeOf } from '../../packages/attestation/test/util.ts';
import { onchainEnv, onchainOutcome, refusal, type OnchainEnv } from './onchain.ts';

const NOW = 1_750_000_000;
let env: OnchainEnv;
let pki: sim.SimulationPki;

before(async () => {
  pki = await sim.createSimulationPki({ now: NOW, seed: new Uint8Array(32).fill(8) });
  env = await onchainEnv({ intel: intelSgxRootCaDer(), sim: pki.rootCaDer });
});

/** Deterministic pseudo-random generator (mulberry32) so failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const c of [SGX_OK, TDX_OK, TDX_V5_OK]) {
  test(`truncations and edited length/type fields: the same code on-chain as off-chain: ${c.name}`, async () => {
    await env.fresh(c.now - 1000);
    await registerCollateral(env.dc, env.deployments.intel.registry, json(c.collateral), intelSgxRootCaDer());
    await env.at(c.now);
    const q0 = c.quote();
    const rand = rng(c.now);
    const variants: [string, Uint8Array][] = [];
    for (const n of [0, 1, 47, 48, 53, 100, 431, 432, 435, 436, 600, 1000, 1013, 1014, 1100, q0.length - 100, q0.length - 1]) variants.push([`truncated to ${n}`, q0.slice(0, n)]);
    // Header fields (version, key type, TEE type), the v5 body descriptor, signature data length, QE auth data length
    // and certification data type/size: set to random values.
    const bodyEnd = q0[0] === 5 ? 54 + (q0[48] === 3 ? 648 : 584) : q0[4] === 0x81 ? 48 + 584 : 48 + 384;
    const fields: [string, number, number][] = [['version', 0, 2], ['key type', 2, 2], ['TEE type', 4, 4], ['signature data length', bodyEnd, 4], ['QE auth data length', bodyEnd + 4 + 128 + (q0[0] === 3 ? 0 : 6) + 384 + 64, 2]];
    if (q0[0] === 5) fields.push(['body type', 48, 2], ['body size', 50, 4]);
    for (const [name, off, len] of fields) {
      for (let k = 0; k < 4; k++) {
        const q = q0.slice();
        for (let i = 0; i < len; i++) q[off + i] = k === 0 ? 0xff : k === 1 ? 0 : Math.floor(rand() * 256);
        variants.push([`${name} = ${Buffer.from(q.subarray(off, off + len)).toString('hex')}`, q]);
      }
    }
    for (const [name, q] of variants) {
      const off = codeOf(() => verifyDcapQuote(q, json(c.collateral), { now: c.now, cache: null }));
      const on = await onchainOutcome(env, env.deployments.intel.verifier, q);
      assert.equal('code' in on ? on.code : 'no error', off, name);
    }
  });
}

test('malformed JSON collateral with a genuine signature is refused at registration like parseTcbInfo / parseQeIdentity refuse it', async () => {
  const resigned = (field: 'tcb_info' | 'qe_identity', text: string) => {
    const col = pki.collateral() as unknown as Record<string, string>;
    col[field] = text;
    col[`${field}_signature`] = sign('sha256', Buffer.from(text), { key: keyOf(pki.keys.tcbSigning), dsaEncoding: 'ieee-p1363' }).toString('hex');
    return col;
  };
  const base = pki.collateral() as unknown as Record<string, string>;
  const tcb = base.tcb_info;
  const qe = base.qe_identity;
  const cases: [string, Record<string, string>][] = [
    ['TCB Info: trailing garbage', resigned('tcb_info', `${tcb}x`)],
    ['TCB Info: truncated', resigned('tcb_info', tcb.slice(0, tcb.length - 2))],
    ['TCB Info: not an object', resigned('tcb_info', '[1,2,3]')],
    ['TCB Info: no tcbLevels', resigned('tcb_info', tcb.replace('"tcbLevels"', '"tcbLevelz"'))],
    ['TCB Info: bad status', resigned('tcb_info', tcb.replace(/"tcbStatus":"[A-Za-z]+"/, '"tcbStatus":"Fine"'))],
    ['TCB Info: FMSPC too short', resigned('tcb_info', tcb.replace(/"fmspc":"[0-9a-fA-F]+"/, '"fmspc":"0090"'))],
    ['TCB Info: bad date', resigned('tcb_info', tcb.replace(/"issueDate":"[^"]+"/, '"issueDate":"yesterday"'))],
    ['TCB Info: 15 SGX components', resigned('tcb_info', tcb.replace(/\{"svn":\d+[^}]*\},/, ''))],
    ['QE Identity: no mrsigner', resigned('qe_identity', qe.replace('"mrsigner"', '"mrsignet"'))],
    ['QE Identity: bad hex', resigned('qe_identity', qe.replace(/"mrsigner":"(..)/, '"mrsigner":"zz'))],
    ['QE Identity: unterminated string', resigned('qe_identity', qe.slice(0, qe.indexOf('"mrsigner":"') + 14))],
  ];
  for (const [name, col] of cases) {
    const off = codeOf(() => verifyDcapQuote(sim.buildSimQuote({ pki, mrEnclave: new Uint8Array(32), mrSigner: new Uint8Array(32), reportData: new Uint8Array(64) }), col as never, { now: NOW + 3600, rootCaDer: pki.rootCaDer, cache: null }));
    assert.equal(off, 'ATTEST_COLLATERAL_SIGNATURE', `${name} (off-chain)`);
    await env.fresh(NOW + 60);
    assert.equal(await refusal(registerCollateral(env.dc, env.deployments.sim.registry, col as never, pki.rootCaDer)), off, name);
  }
});
