/**
 * `geode attest verify <quote> --collateral <file> --onchain`: the DCAP verification run by the on-chain verifier
 * (packages/contracts/src/dcap) on an in-process devnet: deploy the registry (pinned to the Intel SGX Root CA) and the
 * verifier, register the collateral (anyone may), set the block timestamp to `now`, and verify the quote, reporting the
 * verdict and the gas spent. See docs/attestation.md#on-chain-dcap-verifier.
 */
import { createWalletClient, createPublicClient, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { devAccounts, devnetTransport, startDevnet } from '@geode/devnet';
import { intelSgxRootCaDer, parseCollateral } from '@geode/attestation';
import { deployDcapVerifier, OnchainDcapError, registerCollateral, verifyQuoteOnchain, type DcapCollateralInput, type OnchainVerdict } from '@geode/contracts/dcap';

/** Result of {@link verifyOnchain}: gas of the quote transaction and of all registrations, and the verdict. */
export interface OnchainAttestResult {
  /** Gas of the `verify(quote)` transaction (a platform new to the verifier: PCK chain verified and cached). */
  gasQuote: number;
  /** Gas of the same quote again (PCK chain cached). */
  gasQuoteCached: number;
  /** Sum of the registration transactions (certificates, CRLs, TCB Info, QE Identity). */
  gasRegistration: number;
  verdict: OnchainVerdict;
}

/**
 * Verifies `quote` on a fresh in-process devnet at block time `now` (unix seconds).
 * @param collateral dcap-qvl QuoteCollateralV3 JSON text.
 * @throws OnchainDcapError (ATTEST_* code) when the registry refuses the collateral or the verifier the quote.
 */
export async function verifyOnchain(quote: Uint8Array, collateral: string, now: number): Promise<OnchainAttestResult> {
  const key = devAccounts(1)[0];
  const account = privateKeyToAccount(key.privateKey);
  const devnet = await startDevnet({ genesisTime: BigInt(now - 3600), fund: [{ address: account.address, balance: 10n ** 24n }] });
  try {
    const transport = devnetTransport(devnet);
    const chain = { id: Number(devnet.chainId), name: 'geode-devnet', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [] } } } as const;
    const dc = {
      publicClient: createPublicClient({ chain, transport, pollingInterval: 5 }),
      wallet: createWalletClient({ chain, transport, account }),
    };
    const next = (t: number) => devnet.request({ method: 'evm_setNextBlockTimestamp', params: [`0x${t.toString(16)}` as Hex] });
    await next(now - 600);
    await devnet.request({ method: 'evm_mine' });
    const root = intelSgxRootCaDer();
    const col: DcapCollateralInput = parseCollateral(collateral);
    const d = await deployDcapVerifier(dc, root);
    const reg = await registerCollateral(dc, d.registry, col, root);
    await next(now);
    await devnet.request({ method: 'evm_mine' });
    await next(now);
    const first = await verifyQuoteOnchain(dc, d.verifier, quote);
    await next(now);
    const again = await verifyQuoteOnchain(dc, d.verifier, quote);
    return {
      gasQuote: Number(first.gas),
      gasQuoteCached: Number(again.gas),
      gasRegistration: reg.reduce((a, r) => a + Number(r.gas), 0),
      verdict: first.verdict,
    };
  } finally {
    await devnet.close();
  }
}

export { OnchainDcapError };
