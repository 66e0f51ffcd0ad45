// A deployment for a hardware TEE whose evidence no configured on-chain verifier checks is refused before any
// transaction (docs/attestation.md#on-chain-verifiers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Abi, Account } from 'viem';
import { DEPLOY_TEES, deployGeodeApp, requireVerifierFor, type ChainAccess } from '../src/index.ts';

/** A chain that fails the test if the deployment touches it at all. */
const untouchable = new Proxy({}, { get: (_t, p) => { throw new Error(`the refused deployment touched the chain (${String(p)})`); } }) as ChainAccess;

test('requireVerifierFor: the default SimQuoteVerifier checks only sgx-sim; each hardware TEE is refused naming what is missing', () => {
  requireVerifierFor('sgx-sim');
  for (const tee of DEPLOY_TEES.filter((t) => t !== 'sgx-sim')) {
    assert.throws(() => requireVerifierFor(tee), (e: any) => {
      assert.equal(e.code, 'HOST_NO_ATTESTATION_VERIFIER');
      assert.equal(e.docsPath, 'attestation.md#on-chain-verifiers');
      assert.match(e.message, new RegExp(`SimQuoteVerifier\\) checks sgx-sim, not ${tee} evidence`));
      assert.match(e.message, tee === 'sev-snp' ? /SEV-SNP report verifier/ : new RegExp(`DCAP verifier for ${tee.toUpperCase()}`));
      return true;
    });
  }
  // A configured verifier that checks the TEE lets it through; one that checks other evidence does not.
  requireVerifierFor('tdx', { name: 'DcapQuoteVerifier', checks: ['sgx', 'tdx'] });
  assert.throws(() => requireVerifierFor('sev-snp', { name: 'DcapQuoteVerifier', checks: ['sgx', 'tdx'] }), { code: 'HOST_NO_ATTESTATION_VERIFIER' });
  assert.throws(() => requireVerifierFor('nitro' as never), TypeError);
});

test('deployGeodeApp for TDX with only the sim verifier sends nothing and throws HOST_NO_ATTESTATION_VERIFIER', async () => {
  await assert.rejects(deployGeodeApp({
    chain: untouchable, deployer: {} as Account, app: { abi: [] as Abi, bytecode: '0x' }, measurements: [`0x${'11'.repeat(32)}`],
    tee: 'tdx', anchor: { signer: `0x${'22'.repeat(20)}`, genesisHash: `0x${'33'.repeat(32)}` }, policyHash: `0x${'44'.repeat(32)}`,
  }), { code: 'HOST_NO_ATTESTATION_VERIFIER' });
});
