/**
 * Test helpers for the contracts: a fresh in-process EDR chain (Osaka, EIP-7951 P-256 precompile) with viem
 * clients, deploy/send helpers, simulated SGX DCAP v3 quotes, and revert-name assertions.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import edr from '@nomicfoundation/edr';
import { devAccounts } from '@geode/devnet';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  BaseError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  getAddress,
  custom,
  defineChain,
  hexToBytes,
  toHex,
  type Abi,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { GeodeCoreAbi, SimQuoteVerifierAbi } from '../src/index.ts';
import { REPO_ROOT, appArtifactsPath, contractApps } from '../src/build.ts';

const { EdrContext, l1ProviderFactory, l1GenesisState, l1HardforkFromString, ContractDecoder, precompileP256Verify, MineOrdering } = edr;

export const CHAIN_ID = 31337n;
export const chain = defineChain({
  id: Number(CHAIN_ID),
  name: 'geode-test',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1:0'] } },
});

/*
 * The chain is created here rather than with @geode/devnet's startDevnet(): that devnet currently runs EDR with
 * bailOnCallFailure=false, so a reverting eth_call *succeeds* with the revert data as its result, and its RpcError
 * carries EDR's data object ({ reason, data }) instead of the revert hex, so viem cannot decode custom errors.
 * Same EDR configuration otherwise (osaka, P-256 precompile).
 */
let ctxPromise: Promise<InstanceType<typeof EdrContext>> | undefined;
function context(): Promise<InstanceType<typeof EdrContext>> {
  ctxPromise ??= (async () => {
    const ctx = new EdrContext(); // one per process
    await ctx.registerProviderFactory('L1', l1ProviderFactory());
    return ctx;
  })();
  return ctxPromise;
}

/** JSON-RPC error with `data` = the revert bytes (0x hex) when the call reverted, as viem expects. */
class ChainRpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

/**
 * A fresh EDR chain (osaka, EIP-7951 P-256 precompile): viem public client and one wallet client per funded account.
 * `genesisTime` (unix seconds, default 1,700,000,000) lets a test move block time to dates before 2023 (fixtures).
 */
export async function startChain(opts: { genesisTime?: bigint } = {}) {
  const ctx = await context();
  const accounts = devAccounts(4).map((a) => privateKeyToAccount(a.privateKey));
  const provider = await ctx.createProvider(
    'L1',
    {
      allowBlocksWithSameTimestamp: true,
      allowUnlimitedContractSize: false,
      bailOnCallFailure: true,
      bailOnTransactionFailure: false,
      chainId: CHAIN_ID,
      coinbase: new Uint8Array(20),
      defaultTransactionGasLimit: 16_000_000n,
      genesisState: [
        ...l1GenesisState(l1HardforkFromString('osaka')),
        ...accounts.map((a) => ({ address: hexToBytes(a.address), balance: 10n ** 24n })),
      ],
      hardfork: 'osaka',
      initialBaseFeePerGas: 1_000_000_000n,
      minGasPrice: 0n,
      mining: { autoMine: true, memPool: { order: MineOrdering.Fifo } },
      network: { genesisBlockGasLimit: 60_000_000n, genesisBlockTime: opts.genesisTime ?? 1_700_000_000n },
      networkId: CHAIN_ID,
      observability: {},
      ownedAccounts: [],
      precompileOverrides: [precompileP256Verify()],
    },
    { enable: false, decodeConsoleLogInputsCallback: () => [], printLineCallback: () => {} },
    { subscriptionCallback: () => {} },
    new ContractDecoder(),
  );
  let id = 0;
  const request = async ({ method, params }: { method: string; params?: unknown }) => {
    const res = await provider.handleRequest(JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params: params ?? [] }));
    const msg = (typeof res.data === 'string' ? JSON.parse(res.data) : res.data) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    if (msg.error) {
      const d = msg.error.data as { data?: unknown } | string | undefined;
      const data = typeof d === 'object' && d !== null && 'data' in d ? d.data : d;
      // A revert with return data is reported like geth does (code 3, data = revert bytes) so viem decodes it.
      throw new ChainRpcError(typeof data === 'string' && data.startsWith('0x') ? 3 : msg.error.code, msg.error.message, data);
    }
    return msg.result;
  };
  const transport = custom({ request }, { retryCount: 0 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 5 });
  const wallets = accounts.map((account) => createWalletClient({ chain, transport, account }));
  return { publicClient, wallets, accounts, request };
}

export type Chain = Awaited<ReturnType<typeof startChain>>;
export type Wallet = Chain['wallets'][number];

/** Deploys `bytecode` with constructor `args`; returns the address. */
export async function deploy(c: Chain, wallet: Wallet, abi: Abi, bytecode: Hex, args: readonly unknown[]): Promise<Address> {
  const hash = await wallet.deployContract({ abi, bytecode, args } as never);
  const r = await c.publicClient.getTransactionReceipt({ hash });
  assert.equal(r.status, 'success');
  assert.ok(r.contractAddress);
  return getAddress(r.contractAddress);
}

/** Sends a contract call (automine) and returns the successful receipt. */
export async function send(c: Chain, wallet: Wallet, address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({ address, abi, functionName, args } as never);
  const r = await c.publicClient.getTransactionReceipt({ hash });
  assert.equal(r.status, 'success', `${functionName} reverted`);
  return r;
}

/** The ABIs of every app's contracts (discovered: apps/<app>/generated/artifacts.ts of each app with contracts). */
const APP_ABIS = (await Promise.all(contractApps().map(async (app) => Object.entries(await import(join(REPO_ROOT, appArtifactsPath(app)))).filter(([k]) => k.endsWith('Abi')).map(([, v]) => v as Abi)))).flat();

/** Every error of every Geode contract and app contract: reverts bubble up from the verifier through GeodeCore, and
 * viem does not decode constructor reverts, so the fallback decodes raw revert data against all of them. */
const ALL_ERRORS = [...GeodeCoreAbi, ...SimQuoteVerifierAbi, ...APP_ABIS.flat()].filter((x) => x.type === 'error') as Abi;

/** Asserts that `p` rejects with the custom error `errorName` (decoded by viem from the ABI, or from the raw revert data). */
export async function expectRevert(p: Promise<unknown>, errorName: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    let name: string | undefined;
    if (e instanceof BaseError) {
      const decoded = e.walk((x) => typeof (x as { data?: { errorName?: string } }).data?.errorName === 'string') as { data?: { errorName?: string } } | null;
      name = decoded?.data?.errorName;
      if (!name || name === 'Error') {
        const raw = (e.walk((x) => typeof (x as { raw?: unknown }).raw === 'string' || (typeof (x as { data?: unknown }).data === 'string' && ((x as { data: string }).data.startsWith('0x')))) ?? null) as { raw?: Hex; data?: Hex } | null;
        const data = raw?.raw ?? raw?.data;
        if (data && data.length >= 10) {
          try {
            name = decodeErrorResult({ abi: ALL_ERRORS, data }).errorName;
          } catch {
            name = `unknown selector ${data.slice(0, 10)}`;
          }
        }
      }
    }
    assert.equal(name, errorName, `expected revert ${errorName}, got ${name ?? (e as Error).message.split('\n')[0]}`);
    return;
  }
  assert.fail(`expected revert ${errorName}, but the call succeeded`);
}

// ---------------------------------------------------------------- simulated SGX DCAP v3 quotes

/** A P-256 simulation attestation key. */
export function simAttestationKey() {
  const sk = p256.utils.randomSecretKey();
  const pub = p256.getPublicKey(sk, false); // 0x04 || x || y
  return { sk, x: toHex(pub.subarray(1, 33)), y: toHex(pub.subarray(33, 65)), xy: pub.subarray(1) };
}
export type SimKey = ReturnType<typeof simAttestationKey>;

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/**
 * A quote in the SGX DCAP v3 layout (header 48, report body 384, u32 sig-data length at 432, r||s at 436,
 * attestation key x||y at 500, then a dummy tail) over random body bytes with the given MRENCLAVE and REPORTDATA,
 * signed with `key`. `mutate` edits the bytes before signing; `highS` replaces s with n - s.
 */
export function buildQuote(
  key: SimKey,
  mrEnclave: Hex,
  reportDataLo: Hex,
  reportDataHi: Hex = `0x${'00'.repeat(32)}`,
  opts: { mutate?: (q: Uint8Array) => void; highS?: boolean; tail?: number } = {},
): Uint8Array {
  const tail = opts.tail ?? 64;
  const q = new Uint8Array(564 + tail);
  q.set(randomBytes(432), 0);
  q[0] = 3; q[1] = 0; // version 3
  q[2] = 2; q[3] = 0; // ECDSA-256-with-P-256
  q.set(hexToBytes(mrEnclave), 112);
  q.set(hexToBytes(reportDataLo), 368);
  q.set(hexToBytes(reportDataHi), 400);
  new DataView(q.buffer).setUint32(432, 128 + tail, true);
  q.set(key.xy, 500);
  q.set(randomBytes(tail), 564);
  opts.mutate?.(q);
  const sig = p256.Signature.fromBytes(p256.sign(sha256(q.subarray(0, 432)), key.sk, { prehash: false }), 'compact');
  const n = p256.Point.CURVE().n;
  const s = opts.highS ? (sig.s > n / 2n ? sig.s : n - sig.s) : sig.s;
  q.set(hexToBytes(toHex(sig.r, { size: 32 })), 436);
  q.set(hexToBytes(toHex(s, { size: 32 })), 468);
  return q;
}

// ---------------------------------------------------------------- secp256k1 commitment signing

/** A session signing key: address and raw-digest signer (r || s || v, v = 27/28, low s). */
export function sessionSigner() {
  const sk = secp256k1.utils.randomSecretKey();
  const account = privateKeyToAccount(toHex(sk));
  const sign = (digest: Hex, opts: { highS?: boolean } = {}): Hex => {
    const rec = secp256k1.sign(hexToBytes(digest), sk, { prehash: false, format: 'recovered' });
    let r = rec.subarray(1, 33);
    let s = BigInt(toHex(rec.subarray(33, 65)));
    let v = rec[0] + 27;
    if (opts.highS) {
      s = secp256k1.Point.CURVE().n - s;
      v = v === 27 ? 28 : 27;
    }
    return `0x${toHex(r).slice(2)}${toHex(s, { size: 32 }).slice(2)}${v.toString(16)}` as Hex;
  };
  return { address: account.address as Address, sign };
}

export const randomHex32 = (): Hex => toHex(randomBytes(32));
export { type PrivateKeyAccount };
