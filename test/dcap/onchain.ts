/**
 * Shared set-up of the on-chain DCAP tests: one in-process EDR chain per test file (genesis in 2020 so block time can
 * be moved to any fixture date), the registry + verifier deployed once per trust root, and `fresh(t)` to return to
 * the just-deployed state with block time t (evm_revert to a snapshot), so each case costs its registrations only.
 */
import { startChain, type Chain } from '../../packages/contracts/test/helpers.ts';
import { deployDcapVerifier, OnchainDcapError, verifyQuoteOnchain, type DcapChain, type DcapDeployment, type OnchainVerdict } from '@geode/contracts/dcap';

export interface OnchainEnv {
  chain: Chain;
  dc: DcapChain;
  /** Deployments by name (one per pinned root). */
  deployments: Record<string, DcapDeployment>;
  /** Reverts to the state after deployment and mines a block at unix time `t`. */
  fresh(t: number): Promise<void>;
  /** Mines a block at unix time `t` (>= the latest block's). */
  at(t: number): Promise<void>;
  /** The next block (e.g. the next transaction's) gets unix time `t` (>= the latest block's). */
  next(t: number): Promise<void>;
  /** Snapshot of the current state; `restore` returns to it (and re-arms it). */
  snapshot(): Promise<{ restore(): Promise<void> }>;
}

/** Starts the chain and deploys one registry + verifier per entry of `roots` (DER). */
export async function onchainEnv(roots: Record<string, Uint8Array>): Promise<OnchainEnv> {
  const chain = await startChain({ genesisTime: 1_600_000_000n });
  const dc: DcapChain = { publicClient: chain.publicClient as never, wallet: chain.wallets[0] as never };
  const deployments: Record<string, DcapDeployment> = {};
  for (const [name, der] of Object.entries(roots)) deployments[name] = await deployDcapVerifier(dc, der);
  const next = async (t: number) => {
    await chain.request({ method: 'evm_setNextBlockTimestamp', params: [`0x${t.toString(16)}`] });
  };
  const at = async (t: number) => {
    await next(t);
    await chain.request({ method: 'evm_mine' });
  };
  const snapshot = async () => {
    let id = await chain.request({ method: 'evm_snapshot' });
    return {
      restore: async () => {
        await chain.request({ method: 'evm_revert', params: [id] });
        id = await chain.request({ method: 'evm_snapshot' });
      },
    };
  };
  const base = await snapshot();
  return {
    chain,
    dc,
    deployments,
    at,
    next,
    snapshot,
    fresh: async (t) => {
      await base.restore();
      await at(t);
    },
  };
}

/** The verdict of `verify(quote)` by eth_call at the latest block, or the ATTEST_* code it was refused with. */
export async function onchainOutcome(env: OnchainEnv, verifier: `0x${string}`, quote: Uint8Array): Promise<OnchainVerdict | { code: string; errorName: string }> {
  try {
    return (await verifyQuoteOnchain(env.dc, verifier, quote, { send: false })).verdict;
  } catch (e) {
    if (e instanceof OnchainDcapError) return { code: e.code, errorName: e.errorName };
    throw e;
  }
}

/** The code `p` is refused with (OnchainDcapError), or "no error". */
export async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OnchainDcapError) return e.code;
    throw e;
  }
  return 'no error';
}

/** Unix seconds of an ISO date. */
export const unix = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
