import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';
import { hexToBytes, numberToHex, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { blockSigningDigest, encodeHeaderRlp, type RpcBlockHeader } from '@geode/protocol';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { DEFAULT_BLOCK_SIGNER_KEY } from './accounts.ts';
import { DevnetClosedError, DevnetStartError, UnknownBlockError } from './errors.ts';

/** Options of startDevnet. All optional; defaults give a reproducible chain. */
export interface DevnetOptions {
  /** EIP-155 chain id. Default 31337. */
  chainId?: bigint;
  /** Genesis block timestamp, unix seconds. Pinned (default 1_700_000_000) so the genesis hash is reproducible. */
  genesisTime?: bigint;
  /** secp256k1 private key (0x hex) of the block signer. Default: the public dev key DEFAULT_BLOCK_SIGNER_KEY. */
  blockSignerKey?: Hex;
  /** Accounts funded at genesis (address, wei). */
  fund?: { address: Address; balance: bigint }[];
  /** Mine a block per transaction (default true). */
  autoMine?: boolean;
  /**
   * Also mine a block every this many milliseconds, with or without transactions (the slot clock of the devnet's
   * beacon chain, beacon.ts: its finality needs blocks after a request's). Default: none.
   */
  blockIntervalMs?: number;
  /**
   * How often, in milliseconds, the devnet polls its subscriptions (its own new-heads one and every WebSocket
   * client's) so that EDR keeps them: like Hardhat, EDR drops a filter nobody polled for five minutes, and a
   * subscription is a filter (NomicFoundation/hardhat#2053). Default 60,000; tests shorten it.
   */
  keepAliveMs?: number;
}

/** A header the devnet signed: RLP, hash, number and the 65-byte r||s||v signature over blockSigningDigest. */
export interface SignedHeader {
  number: bigint;
  hash: Hex;
  rlp: Hex;
  signature: Hex;
}

/** EIP-1193 style request function (what viem's `custom()` transport takes). */
export type RequestFn = (args: { method: string; params?: unknown[] | object }) => Promise<unknown>;

/** JSON-RPC error raised by the in-process provider; `code` is the JSON-RPC error code (EIP-1474). */
export class RpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
    this.name = 'RpcError';
  }
}

/** A running embedded devnet. */
export interface Devnet {
  readonly chainId: bigint;
  readonly genesisHash: Hex;
  /** Address of the block-signer key: with genesisHash, the dev light client's trust anchor. */
  readonly blockSigner: Address;
  /** EIP-1193 request. Also answers `geode_getSignedHeader` [number hex | "latest"] and `geode_devnetInfo`. */
  readonly request: RequestFn;
  /** Subscribe to new heads (push, called once per mined block, in order). Returns the unsubscribe function. */
  onNewHead(cb: (head: { number: bigint; hash: Hex }) => void): () => void;
  /** The signed header of block `number` (or the latest). Throws UnknownBlockError for unmined blocks. */
  getSignedHeader(number: bigint | 'latest'): Promise<SignedHeader>;
  /** Stop accepting requests. The EDR instance is released with the process. */
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
let edrContext: { ctx: unknown; ready: Promise<void> } | undefined;

type EdrModule = typeof import('@nomicfoundation/edr');

function loadEdr(): EdrModule {
  try {
    return require('@nomicfoundation/edr') as EdrModule;
  } catch (e) {
    throw new DevnetStartError('could not load @nomicfoundation/edr', e);
  }
}

/**
 * Start an in-process EVM devnet on Hardhat's EDR (hardfork osaka: P-256 precompile EIP-7951 at 0x100).
 * Every mined block's hash is signed by the block-signer key (on first request, then cached; see docs/protocol.md).
 * Throws DevnetStartError if EDR cannot load.
 */
export async function startDevnet(opts: DevnetOptions = {}): Promise<Devnet> {
  const edr = loadEdr();
  const chainId = opts.chainId ?? 31337n;
  const signerKey = opts.blockSignerKey ?? DEFAULT_BLOCK_SIGNER_KEY;
  const signer = privateKeyToAccount(signerKey);
  const signerSecret = hexToBytes(signerKey);
  if (!edrContext) {
    // EDR allows one context per process.
    const ctx = new edr.EdrContext();
    edrContext = { ctx, ready: ctx.registerProviderFactory('L1', edr.l1ProviderFactory()) };
  }
  await edrContext.ready;
  const ctx = edrContext.ctx as InstanceType<EdrModule['EdrContext']>;

  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const signatures = new Map<bigint, { hash: Hex; signature: Hex }>();
  const headers = new Map<bigint, RpcBlockHeader & { hash?: Hex }>();
  let headsFilter: bigint | undefined;
  const wsRoutes = new Map<bigint, (result: unknown) => void>();

  // Headers are recorded as blocks arrive (push); each is signed when first asked for, then cached. Signing is a
  // pure-JS secp256k1 operation (~2 ms here) and the light client needs one signed header per batch, not per block.
  // lastHead: the highest block announced to onNewHead listeners, each once and in order. A head that arrives with a
  // gap before it (a lost subscription, or heads arriving while a catch-up runs) is announced by catchUp, which reads
  // the missing ones from the chain first.
  let lastHead = -1n;
  let catching: Promise<void> | undefined;
  const announce = (number: bigint, hash: Hex) => {
    lastHead = number;
    emitter.emit('head', { number, hash });
  };
  const record = (h: RpcBlockHeader & { hash: Hex }) => {
    const number = BigInt(h.number);
    headers.set(number, h);
    if (number === lastHead + 1n && !catching) announce(number, h.hash);
    else if (number > lastHead + 1n || catching) void catchUp().catch(() => undefined);
  };
  const sign = (number: bigint): { hash: Hex; signature: Hex } | undefined => {
    const cached = signatures.get(number);
    if (cached) return cached;
    const h = headers.get(number);
    if (!h?.hash) return undefined;
    const digest = blockSigningDigest(chainId, number, h.hash);
    const sig = secp256k1.sign(hexToBytes(digest), signerSecret, { prehash: false, format: 'recovered' });
    // noble 'recovered' format is recovery(1) || r(32) || s(32); Ethereum wants r || s || v (27/28).
    const out = new Uint8Array(65);
    out.set(sig.subarray(1, 65), 0);
    out[64] = 27 + sig[0]!;
    const entry = { hash: h.hash as Hex, signature: `0x${Buffer.from(out).toString('hex')}` as Hex };
    signatures.set(number, entry);
    return entry;
  };

  let provider: Awaited<ReturnType<typeof ctx.createProvider>>;
  try {
    const fund = (opts.fund ?? []).map((f) => ({ address: hexToBytes(f.address), balance: f.balance }));
    provider = await ctx.createProvider(
      'L1',
      {
        allowBlocksWithSameTimestamp: true,
        allowUnlimitedContractSize: false,
        // eth_call must report reverts as JSON-RPC errors (as real nodes do) so clients can decode custom errors.
        bailOnCallFailure: true,
        bailOnTransactionFailure: false,
        chainId,
        coinbase: new Uint8Array(20),
        defaultTransactionGasLimit: 16_000_000n,
        genesisState: [...edr.l1GenesisState(edr.l1HardforkFromString('osaka')), ...fund],
        hardfork: 'osaka',
        initialBaseFeePerGas: 1_000_000_000n,
        minGasPrice: 0n,
        mining: { autoMine: opts.autoMine ?? true, ...(opts.blockIntervalMs ? { interval: BigInt(opts.blockIntervalMs) } : {}), memPool: { order: edr.MineOrdering.Fifo } },
        network: { genesisBlockGasLimit: 60_000_000n, genesisBlockTime: opts.genesisTime ?? 1_700_000_000n },
        networkId: chainId,
        observability: {},
        ownedAccounts: [],
        precompileOverrides: [edr.precompileP256Verify()],
      },
      { enable: false, decodeConsoleLogInputsCallback: () => [], printLineCallback: () => {} },
      {
        subscriptionCallback: (ev) => {
          if (ev.filterId === headsFilter) record(ev.result as RpcBlockHeader & { hash: Hex });
          else wsRoutes.get(ev.filterId)?.(ev.result);
        },
      },
      new edr.ContractDecoder(),
    );
  } catch (e) {
    throw new DevnetStartError(e instanceof Error ? e.message : String(e), e);
  }

  let closed = false;
  const raw = async (method: string, params: unknown = []): Promise<unknown> => {
    const res = await provider.handleRequest(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
    const data = (typeof res.data === 'string' ? JSON.parse(res.data) : res.data) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    if (data.error) {
      // EDR reports reverts as {data: {reason, data: 0x...}}; nodes (geth, EIP-1474 practice) use code 3 and
      // the revert bytes as `data`, which is what viem decodes custom errors from.
      const inner = (data.error.data as { data?: unknown } | undefined)?.data;
      if (typeof inner === 'string' && inner.startsWith('0x')) throw new RpcError(3, 'execution reverted', inner);
      throw new RpcError(data.error.code, data.error.message, data.error.data);
    }
    return data.result;
  };

  /** Block `number`'s header from EDR (a mined block the subscription did not deliver), recorded; or undefined. */
  const fetchHeader = async (number: bigint): Promise<(RpcBlockHeader & { hash: Hex }) | undefined> => {
    const b = (await raw('eth_getBlockByNumber', [numberToHex(number), false])) as (RpcBlockHeader & { hash: Hex }) | null;
    if (!b) return undefined;
    headers.set(number, b); // not announced here: onNewHead listeners get heads in order, from catchUp
    return b;
  };
  /**
   * Announce, in order, every mined block after the last one announced (after a subscription was lost, or a head that
   * came with a gap); one run at a time, and it looks again at the chain's height until nothing is left.
   */
  const catchUp = (): Promise<void> =>
    (catching ??= (async () => {
      try {
        for (;;) {
          const latest = BigInt((await raw('eth_blockNumber')) as Hex);
          if (lastHead >= latest) return;
          for (let n = lastHead + 1n; n <= latest; n++) {
            const h = headers.get(n) ?? (await fetchHeader(n));
            if (!h?.hash) return;
            announce(n, h.hash);
          }
        }
      } finally {
        catching = undefined;
      }
    })());

  // Subscribed only now: record() may call catchUp for a head that comes with a gap.
  headsFilter = BigInt((await raw('eth_subscribe', ['newHeads'])) as Hex);
  const genesis = (await raw('eth_getBlockByNumber', ['0x0', false])) as RpcBlockHeader & { hash: Hex };
  record(genesis);

  const getSignedHeader = async (n: bigint | 'latest'): Promise<SignedHeader> => {
    const number = n === 'latest' ? BigInt((await raw('eth_blockNumber')) as Hex) : n;
    // A block the subscription did not deliver (lost, or not delivered yet) is read from EDR: never "unknown" once mined.
    if (!headers.has(number)) await fetchHeader(number);
    const s = sign(number);
    const h = headers.get(number);
    if (!s || !h) throw new UnknownBlockError(n === 'latest' ? 'latest' : number.toString());
    return { number, hash: s.hash, rlp: encodeHeaderRlp(h), signature: s.signature };
  };

  const request: RequestFn = async ({ method, params }) => {
    if (closed) throw new DevnetClosedError();
    if (method === 'geode_getSignedHeader') {
      const p = (Array.isArray(params) ? params[0] : undefined) as string | undefined;
      const h = await getSignedHeader(p === undefined || p === 'latest' ? 'latest' : BigInt(p));
      return { number: numberToHex(h.number), hash: h.hash, rlp: h.rlp, signature: h.signature };
    }
    if (method === 'geode_devnetInfo') {
      return { chainId: numberToHex(chainId), genesisHash: genesis.hash, blockSigner: signer.address };
    }
    return raw(method, params ?? []);
  };

  // Keep the subscriptions alive (DevnetOptions.keepAliveMs). Polling drains what EDR also queued on the filter (its
  // notifications went to subscriptionCallback already). A new-heads subscription found gone is made again, and the
  // heads it missed are announced, so onNewHead and getSignedHeader never stall.
  const keepAlive = async (): Promise<void> => {
    if (closed) return;
    for (const id of wsRoutes.keys()) await raw('eth_getFilterChanges', [numberToHex(id)]).catch(() => undefined);
    // EDR answers null for a filter it does not hold (expired or removed).
    const alive = headsFilter !== undefined && (await raw('eth_getFilterChanges', [numberToHex(headsFilter)]).then((c) => c !== null, () => false));
    if (alive || closed) return;
    headsFilter = BigInt((await raw('eth_subscribe', ['newHeads'])) as Hex);
    await catchUp();
  };
  let keepAliveRun: Promise<void> = Promise.resolve();
  const keepAliveTimer = setInterval(() => {
    keepAliveRun = keepAliveRun.then(keepAlive).catch(() => undefined);
  }, opts.keepAliveMs ?? 60_000);
  keepAliveTimer.unref();

  const devnet: Devnet & { _subscribe(params: unknown[], route: (r: unknown) => void): Promise<Hex>; _unsubscribe(id: Hex): Promise<void> } = {
    chainId,
    genesisHash: genesis.hash,
    blockSigner: signer.address,
    request,
    onNewHead(cb) {
      emitter.on('head', cb);
      return () => emitter.off('head', cb);
    },
    getSignedHeader,
    async close() {
      closed = true;
      clearInterval(keepAliveTimer);
      // Interval mining runs inside EDR: stop it so a closed devnet mines no more.
      if (opts.blockIntervalMs) await raw('evm_setIntervalMining', [0]).catch(() => undefined);
      emitter.removeAllListeners();
    },
    // Used by the WebSocket server to route eth_subscribe notifications to their socket.
    async _subscribe(params, route) {
      const id = (await raw('eth_subscribe', params)) as Hex;
      wsRoutes.set(BigInt(id), route);
      return id;
    },
    async _unsubscribe(id) {
      wsRoutes.delete(BigInt(id));
      await raw('eth_unsubscribe', [id]).catch(() => undefined);
    },
  };
  return devnet;
}
