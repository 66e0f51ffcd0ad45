import { createClient, createPublicClient, createWalletClient, custom, http, rpcSchema, webSocket, type Account, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { encodeHeaderRlp, UNSIGNED_HEADER_SIGNATURE, type BeaconSyncJson, type RpcBlockHeader, type SignedHeaderJson } from '@geode/protocol';
import { keccak256 } from 'viem';
import { ChainError } from './errors.ts';
import { ethereumHeaders, type BeaconSource } from './beacon.ts';
import type { EthereumAnchorJson } from '@geode/protocol';

/**
 * Everything the host and clients need from a chain: viem clients, signed headers for the light client,
 * and a push stream of new heads.
 */
export interface ChainAccess {
  chainId: bigint;
  publicClient: PublicClient;
  /** A wallet client for `account` on the same transport. */
  wallet(account: Account): WalletClient<Transport, Chain, Account>;
  /**
   * The devnet-signed header of block `n` ('latest' for the head). On an Ethereum light-client deployment: the
   * latest *finalized* header (waiting until it reaches `n`), with the `beacon` data proving it and `ack()` to call
   * once the enclave accepted it.
   */
  getSignedHeader(n: bigint | 'latest'): Promise<SignedHeaderJson & { number: bigint; hash: Hex; beacon?: BeaconSyncJson; ack?: () => void; nack?: () => void }>;
  /** Push notification per new block (in-process callback or eth_subscribe over WebSocket; polling over HTTP). */
  onNewHead(cb: (number: bigint) => void): () => void;
  /** Release sockets and timers. */
  close(): Promise<void>;
}

/**
 * The JSON-RPC methods a Geode devnet serves besides Ethereum's (packages/devnet/src/surface.ts), as a viem RPC
 * schema: `geode_getSignedHeader(blockTag | 0x-quantity)` -> the header RLP and the block signer's signature over it
 * (docs/protocol.md#headers); `geode_devnetInfo()` -> the light-client anchor (block signer, genesis hash).
 */
export type GeodeRpcSchema = [
  { Method: 'geode_getSignedHeader'; Parameters: ['latest' | Hex]; ReturnType: { number: Hex; hash: Hex; rlp: Hex; signature: Hex } },
  { Method: 'geode_devnetInfo'; Parameters?: undefined; ReturnType: { blockSigner: Hex; genesisHash: Hex } },
];

/** A viem client typed for the Geode methods, over `publicClient`'s transport (which does its own retries). */
function geodeRpc(publicClient: PublicClient) {
  return createClient({ transport: custom({ request: publicClient.request }, { retryCount: 0 }), rpcSchema: rpcSchema<GeodeRpcSchema>() });
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
  /**
   * INSECURE: for EVM networks without a Geode light client. Headers are rebuilt from eth_getBlockByNumber and
   * carry the zero signature; the enclave must have been deployed with the trusted-RPC anchor to accept them.
   */
  trustedRpc?: boolean;
  /**
   * Ethereum sync-committee deployments: headers are the finalized ones, proven by this Beacon API's data (beacon.ts);
   * `pollMs` is how often finality is polled while a header waits for it (default 12 s, one mainnet slot).
   */
  ethereum?: { anchor: EthereumAnchorJson; beacon: BeaconSource; pollMs?: number };
}): ChainAccess {
  const chain = chainFor(opts.chainId);
  const publicClient = createPublicClient({ chain, transport: opts.transport, cacheTime: 0, pollingInterval: opts.pollMs ?? 100 }) as PublicClient;
  const geode = geodeRpc(publicClient);
  const finalized = opts.ethereum ? ethereumHeaders({ ...opts.ethereum, publicClient }) : undefined;
  const unsignedHeader = async (n: bigint | 'latest') => {
    const b = (await publicClient.request({ method: 'eth_getBlockByNumber', params: [n === 'latest' ? 'latest' : `0x${n.toString(16)}`, false] })) as unknown as RpcBlockHeader & { hash: Hex; number: Hex };
    if (!b) throw new ChainError(`Block ${n} does not exist`);
    const rlp = encodeHeaderRlp(b);
    if (keccak256(rlp) !== b.hash) throw new ChainError(`The header of block ${b.number} does not hash to its block hash: this network's header format is not supported`);
    return { number: BigInt(b.number), hash: b.hash, rlp, signature: UNSIGNED_HEADER_SIGNATURE as Hex };
  };
  const getSignedHeader = async (n: bigint | 'latest') => {
    if (finalized) return finalized(n === 'latest' ? undefined : n);
    if (opts.trustedRpc) return unsignedHeader(n);
    let r: GeodeRpcSchema[0]['ReturnType'];
    try {
      r = await geode.request({ method: 'geode_getSignedHeader', params: [n === 'latest' ? 'latest' : `0x${n.toString(16)}`] });
    } catch (e) {
      // Only a missing method means "not a Geode devnet"; any other failure (an unknown block, a dropped connection)
      // is reported as what it is, so that nobody is sent looking for the wrong cause.
      if (rpcErrorCode(e) === -32601) throw new ChainError('The RPC endpoint does not serve geode_getSignedHeader (is it a Geode devnet? other networks need a real light client or --insecure-trusted-rpc)', { cause: e });
      throw new ChainError(`geode_getSignedHeader(${n}) failed: ${(e as { details?: string }).details || (e as { shortMessage?: string }).shortMessage || (e instanceof Error ? e.message : String(e))}`, { cause: e });
    }
    return { number: BigInt(r.number), hash: r.hash, rlp: r.rlp, signature: r.signature } as Awaited<ReturnType<ChainAccess['getSignedHeader']>>;
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

/** The light-client anchor a Geode devnet publishes (geode_devnetInfo), or null for other endpoints. */
export async function devnetAnchor(chain: ChainAccess): Promise<{ blockSigner: Hex; genesisHash: Hex } | null> {
  try {
    return await geodeRpc(chain.publicClient).request({ method: 'geode_devnetInfo' });
  } catch {
    return null;
  }
}

/**
 * ChainAccess for an RPC URL (http(s):// or ws(s)://). Reads the chain id from the endpoint.
 * `trustedRpc` (INSECURE) serves unsigned headers rebuilt from the RPC's blocks; see chainAccessFromTransport.
 */
export async function chainAccessFromUrl(url: string, opts: { trustedRpc?: boolean; ethereum?: { anchor: EthereumAnchorJson; beacon: BeaconSource; pollMs?: number } } = {}): Promise<ChainAccess> {
  const transport = url.startsWith('ws') ? webSocket(url, { retryCount: 3 }) : http(url, { retryCount: 1, batch: false, timeout: 5_000 });
  const probe = createPublicClient({ transport });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (e) {
    throw new ChainError(`Cannot reach ${url}`, { cause: e });
  }
  return chainAccessFromTransport({ chainId: BigInt(chainId), transport, trustedRpc: opts.trustedRpc, ethereum: opts.ethereum });
}

/** The JSON-RPC error code (EIP-1474) of `e` or of an error in its cause chain (viem wraps them), or undefined. */
function rpcErrorCode(e: unknown): number | undefined {
  for (let x: unknown = e, i = 0; x && typeof x === 'object' && i < 8; x = (x as { cause?: unknown }).cause, i++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}
