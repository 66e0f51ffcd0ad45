import { createPublicClient, createWalletClient, http, webSocket, type Account, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import type { SignedHeaderJson } from '@geode/protocol';
import { ChainError } from './errors.ts';

/**
 * Everything the host and clients need from a chain: viem clients, signed headers for the light client,
 * and a push stream of new heads.
 */
export interface ChainAccess {
  chainId: bigint;
  publicClient: PublicClient;
  /** A wallet client for `account` on the same transport. */
  wallet(account: Account): WalletClient<Transport, Chain, Account>;
  /** The devnet-signed header of block `n` ('latest' for the head). */
  getSignedHeader(n: bigint | 'latest'): Promise<SignedHeaderJson & { number: bigint; hash: Hex }>;
  /** Push notification per new block (in-process callback or eth_subscribe over WebSocket; polling over HTTP). */
  onNewHead(cb: (number: bigint) => void): () => void;
  /** Release sockets and timers. */
  close(): Promise<void>;
}

/** A viem Chain object for a chain id (only the id matters for signing: EIP-155). */
export function chainFor(chainId: bigint, rpcUrl = 'http://127.0.0.1:8545'): Chain {
  return {
    id: Number(chainId),
    name: `geode-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  };
}

/** Build ChainAccess from any viem transport plus the Geode header methods it answers. */
export function chainAccessFromTransport(opts: {
  chainId: bigint;
  transport: Transport;
  /** In-process push source; when absent, `eth_subscribe newHeads` is used on WebSocket transports and polling (pollMs) otherwise. */
  onNewHead?: (cb: (head: { number: bigint }) => void) => () => void;
  pollMs?: number;
  close?: () => Promise<void>;
}): ChainAccess {
  const chain = chainFor(opts.chainId);
  const publicClient = createPublicClient({ chain, transport: opts.transport, cacheTime: 0, pollingInterval: opts.pollMs ?? 100 }) as PublicClient;
  const getSignedHeader = async (n: bigint | 'latest') => {
    let r: { number: Hex; hash: Hex; rlp: Hex; signature: Hex };
    try {
      r = (await publicClient.request({ method: 'geode_getSignedHeader' as never, params: [n === 'latest' ? 'latest' : `0x${n.toString(16)}`] as never })) as typeof r;
    } catch (e) {
      throw new ChainError('The RPC endpoint does not serve geode_getSignedHeader (is it a Geode devnet? other networks need a real light client or --insecure-trusted-rpc)', { cause: e });
    }
    return { number: BigInt(r.number), hash: r.hash, rlp: r.rlp, signature: r.signature };
  };
  const onNewHead = (cb: (n: bigint) => void) => {
    if (opts.onNewHead) return opts.onNewHead((h) => cb(h.number));
    const unwatch = publicClient.watchBlockNumber({ onBlockNumber: (n) => cb(n), emitMissed: false, poll: undefined });
    return unwatch;
  };
  return {
    chainId: opts.chainId,
    publicClient,
    wallet: (account) => createWalletClient({ account, chain, transport: opts.transport }),
    getSignedHeader,
    onNewHead,
    close: opts.close ?? (async () => undefined),
  };
}

/** ChainAccess for an RPC URL (http(s):// or ws(s)://). Reads the chain id from the endpoint. */
export async function chainAccessFromUrl(url: string): Promise<ChainAccess> {
  const transport = url.startsWith('ws') ? webSocket(url, { retryCount: 3 }) : http(url, { retryCount: 2, batch: false });
  const probe = createPublicClient({ transport });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (e) {
    throw new ChainError(`Cannot reach ${url}`, { cause: e });
  }
  return chainAccessFromTransport({ chainId: BigInt(chainId), transport });
}
