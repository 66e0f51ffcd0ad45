import { hexToBytes, parseEther, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { chainAccessFromUrl, type ChainAccess } from '@geode/host';
import { GeodeClient, verifyActiveSession, type Identity, type TrustedSession } from '@geode/client';
import { GeodeCoreAbi } from '@geode/contracts';
import { readDevInfo, type DevInfo } from './home.ts';
import { CliIdentityUnfundedError, CliTimeoutError } from './errors.ts';
import { parseCollateral, parsePolicy } from '@geode/attestation';

/** A connection to a running `geode dev`: chain access, contract and its verified session. */
export interface Connection {
  info: DevInfo;
  chain: ChainAccess;
  contract: Address;
  session: TrustedSession;
  client(identity: Identity): GeodeClient;
  /** Wait until the contract's committedSeq >= seq (polls the chain). Throws CliTimeoutError. */
  waitCommitted(seq: bigint, timeoutS: number): Promise<void>;
  close(): Promise<void>;
}

/** Connect using dev.json in `home` (or --rpc to override the URL). Verifies the enclave session before returning. */
export async function connect(home: string, opts: { rpc?: string } = {}): Promise<Connection> {
  const info = readDevInfo(home);
  const chain = await chainAccessFromUrl(opts.rpc ?? info.rpcUrl, { trustedRpc: info.trustedRpc });
  if (info.trustedRpc) process.stderr.write('WARNING: this deployment trusts its RPC node (--insecure-trusted-rpc): no light client protects the enclave.\n');
  const contract = info.contract as Address;
  const session = await verifyActiveSession({
    publicClient: chain.publicClient, chainId: chain.chainId, contract,
    collateral: parseCollateral(info.collateral), rootCaDer: hexToBytes(info.simRootCaDer as Hex), policy: parsePolicy(info.policy), now: Math.floor(Date.now() / 1000), allowTrustedRpc: info.trustedRpc,
  });
  return {
    info, chain, contract, session,
    client: (identity) => new GeodeClient({ publicClient: chain.publicClient, wallet: chain.wallet, chainId: chain.chainId, contract, identity, session }),
    async waitCommitted(seq, timeoutS) {
      const end = Date.now() + timeoutS * 1000;
      for (;;) {
        const c = (await chain.publicClient.readContract({ address: contract, abi: GeodeCoreAbi, functionName: 'committedSeq' })) as bigint;
        if (c >= seq) return;
        if (Date.now() > end) throw new CliTimeoutError(`Processing of request ${seq}`, timeoutS);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    close: () => chain.close(),
  };
}

/** Devnet only: send ETH from the dev faucet account to `to` so it can pay for transactions. */
export async function fundFromFaucet(chain: ChainAccess, faucetKey: Hex, to: Address, value = parseEther('100')): Promise<void> {
  const w = chain.wallet(privateKeyToAccount(faucetKey));
  const hash = await w.sendTransaction({ to, value });
  await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
}

/**
 * Refuse to send as an identity whose account has a zero balance on the connected chain (the symptom of a
 * restarted `geode dev`: the node would answer "Missing or invalid parameters"). Throws CliIdentityUnfundedError,
 * whose message names `geode identity register`.
 */
export async function requireFunded(chain: ChainAccess, identity: Identity): Promise<void> {
  const balance = await chain.publicClient.getBalance({ address: identity.address as Address });
  if (balance === 0n) throw new CliIdentityUnfundedError(identity.name, identity.address);
}
