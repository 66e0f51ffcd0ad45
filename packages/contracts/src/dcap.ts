/**
 * Host-side client of the on-chain DCAP verifier (packages/contracts/src/dcap/*.sol): deploys the collateral registry
 * and quote verifier, turns dcap-qvl `QuoteCollateralV3` collateral into registration transactions, runs a quote
 * through the contract, decodes the verdict, and maps the contracts' custom errors to the stable `ATTEST_*` codes of
 * packages/attestation's TypeScript verifier (docs/attestation.md#on-chain-dcap-verifier).
 *
 * Encodings: collateral strings as in dcap-qvl (CRLs and signatures hex without 0x, chains PEM, `tcb_info` /
 * `qe_identity` the exact signed JSON text); on-chain byte strings are 0x hex; times unix seconds.
 */
import { createHash } from 'node:crypto';
import {
  BaseError,
  decodeErrorResult,
  decodeFunctionResult,
  encodeFunctionData,
  keccak256,
  toBytes,
  toHex,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type WalletClient,
} from 'viem';
import type { QuoteCollateral } from '@geode/attestation';
import { defineError } from '@geode/protocol';
import {
  DcapCollateralRegistryAbi,
  DcapCollateralRegistryBytecode,
  DcapQuoteVerifierAbi,
  DcapQuoteVerifierBytecode,
} from './generated/artifacts.ts';

/** The dcap-qvl `QuoteCollateralV3` JSON the registry takes: @geode/attestation's QuoteCollateral, one definition. */
export type DcapCollateralInput = QuoteCollateral;

/** TCB status names by the contracts' status code (TcbCollateral.sol). */
export const DCAP_STATUS_NAMES = [
  'UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate',
  'OutOfDateConfigurationNeeded', 'Revoked',
] as const;

/** Bitmask of every non-revoked status: the `acceptedStatuses` that leaves the whole TCB policy to the caller. */
export const ALL_STATUSES_MASK = 0x3fn;

/** Thrown by {@link verifyQuoteOnchain} / {@link registerCollateral} when a contract reverts. */
export class OnchainDcapError extends defineError({
  docsPath: 'attestation.md#on-chain-dcap-verifier',
  build: (code: string, errorName: string, message: string, details: Record<string, unknown> = {}) => ({ code, message, details: { errorName, ...details } }),
}) {
  /** The verifier's Solidity custom error name (also `details.errorName`). */
  get errorName(): string {
    return this.details!.errorName as string;
  }
}

/** Chain handles: a public client and a wallet client with an account (automine devnet). */
export interface DcapChain {
  publicClient: PublicClient;
  wallet: WalletClient;
}

/** Addresses of a deployment. */
export interface DcapDeployment {
  registry: Address;
  verifier: Address;
}

const ALL_ERRORS = [...DcapCollateralRegistryAbi, ...DcapQuoteVerifierAbi].filter((x) => x.type === 'error') as Abi;

/** DER certificates of a PEM text, in order (RFC 7468 CERTIFICATE blocks). */
export function pemCertificates(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g)) {
    out.push(new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

const hex0x = (h: string): Hex => (h.startsWith('0x') ? h.toLowerCase() : `0x${h.toLowerCase()}`) as Hex;
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** One registration transaction. */
export interface RegistrationStep {
  /** Human label, e.g. "TCB Info". */
  what: 'certificate' | 'Root CA CRL' | 'PCK CRL' | 'TCB Info' | 'QE Identity';
  functionName: 'registerCertificate' | 'registerRootCrl' | 'registerPckCrl' | 'registerTcbInfo' | 'registerQeIdentity';
  args: readonly unknown[];
}

/**
 * The registry transactions that register `col`: every non-root certificate of the three issuer chains (deduplicated),
 * the Root CA CRL, the PCK CRL (issuer = first certificate of `pck_crl_issuer_chain`), TCB Info and QE Identity (signer =
 * first certificate of their issuer chains; signature hex r || s split into two words).
 * @throws OnchainDcapError ATTEST_COLLATERAL_MISSING when an issuer chain holds no certificate or a signature is not
 *   64 bytes.
 */
export function registrationSteps(col: DcapCollateralInput, rootDer: Uint8Array): RegistrationStep[] {
  const steps: RegistrationStep[] = [];
  const seen = new Set<string>();
  const first = (pem: string, what: string): Uint8Array => {
    const certs = pemCertificates(pem);
    if (certs.length === 0) throw new OnchainDcapError('ATTEST_COLLATERAL_MISSING', 'registrationSteps', `${what} holds no certificate: fetch the collateral again`);
    for (const c of certs) {
      const h = keccak256(c);
      if (sameBytes(c, rootDer) || seen.has(h)) continue;
      seen.add(h);
      steps.push({ what: 'certificate', functionName: 'registerCertificate', args: [toHex(c)] });
    }
    return certs[0];
  };
  const sig = (h: string, what: string): [Hex, Hex] => {
    const s = h.replace(/^0x/, '');
    if (!/^[0-9a-fA-F]{128}$/.test(s)) throw new OnchainDcapError('ATTEST_COLLATERAL_MISSING', 'registrationSteps', `${what} signature must be 64 bytes of hex (r || s)`);
    return [hex0x(s.slice(0, 64)), hex0x(s.slice(64))];
  };
  const pckCa = first(col.pck_crl_issuer_chain, 'pck_crl_issuer_chain');
  const tcbSigner = first(col.tcb_info_issuer_chain, 'tcb_info_issuer_chain');
  const qeSigner = first(col.qe_identity_issuer_chain, 'qe_identity_issuer_chain');
  steps.push({ what: 'Root CA CRL', functionName: 'registerRootCrl', args: [hex0x(col.root_ca_crl)] });
  steps.push({ what: 'PCK CRL', functionName: 'registerPckCrl', args: [hex0x(col.pck_crl), keccak256(pckCa)] });
  steps.push({ what: 'TCB Info', functionName: 'registerTcbInfo', args: [toHex(Buffer.from(col.tcb_info, 'utf8')), ...sig(col.tcb_info_signature, 'TCB Info'), keccak256(tcbSigner)] });
  steps.push({ what: 'QE Identity', functionName: 'registerQeIdentity', args: [toHex(Buffer.from(col.qe_identity, 'utf8')), ...sig(col.qe_identity_signature, 'QE Identity'), keccak256(qeSigner)] });
  return steps;
}

/** Which contract call an error came from; decides the code of errors shared by several steps (DER, JSON). */
export type OnchainStage = 'verify' | RegistrationStep['functionName'];

const CODES: Record<string, string> = {
  QuoteMalformed: 'ATTEST_DECODE',
  UnsupportedQuote: 'ATTEST_UNSUPPORTED_VERSION',
  PckChainInvalid: 'ATTEST_CHAIN_INVALID',
  PemMalformed: 'ATTEST_CHAIN_INVALID',
  PckExtensionInvalid: 'ATTEST_CHAIN_INVALID',
  NotIssuedByRoot: 'ATTEST_CHAIN_INVALID',
  RootNotSelfSigned: 'ATTEST_CHAIN_INVALID',
  IssuerNotCa: 'ATTEST_CHAIN_INVALID',
  CertificateExpired: 'ATTEST_CERT_EXPIRED',
  CollateralExpired: 'ATTEST_COLLATERAL_EXPIRED',
  CertificateRevoked: 'ATTEST_CERT_REVOKED',
  RootRevoked: 'ATTEST_CERT_REVOKED',
  CollateralNotRegistered: 'ATTEST_COLLATERAL_MISSING',
  IssuerNotRegistered: 'ATTEST_COLLATERAL_MISSING',
  PckCrlNotRegistered: 'ATTEST_CRL_INVALID',
  CrlSignatureInvalid: 'ATTEST_CRL_INVALID',
  StaleCollateral: 'ATTEST_COLLATERAL_EXPIRED',
  QeReportSignatureInvalid: 'ATTEST_QE_REPORT_SIGNATURE',
  QeReportDataMismatch: 'ATTEST_QE_REPORT_DATA',
  QuoteSignatureInvalid: 'ATTEST_QUOTE_SIGNATURE',
  CollateralSignatureInvalid: 'ATTEST_COLLATERAL_SIGNATURE',
  CollateralFieldInvalid: 'ATTEST_COLLATERAL_SIGNATURE',
  JsonMalformed: 'ATTEST_COLLATERAL_SIGNATURE',
  QeIdentityMismatch: 'ATTEST_QE_IDENTITY_MISMATCH',
  PceIdMismatch: 'ATTEST_PCEID_MISMATCH',
  TcbLevelNotFound: 'ATTEST_TCB_LEVEL_NOT_FOUND',
  TdxModuleMismatch: 'ATTEST_TDX_MODULE_MISMATCH',
  TcbRevoked: 'ATTEST_TCB_REVOKED',
  DebugEnclaveRefused: 'POLICY_DEBUG',
  TcbStatusNotAccepted: 'POLICY_TCB_STATUS',
  ServiceTdNotAccepted: 'POLICY_MR_SERVICETD',
  SeptVeDisableRequired: 'POLICY_TD_ATTRIBUTES',
  AdvisoryNotAllowed: 'POLICY_ADVISORY',
};

/**
 * The `ATTEST_*` / `POLICY_*` code of a contract error. DER errors mean a bad CRL in CRL registration and a bad
 * certificate elsewhere; X509.UnsupportedKey likewise.
 */
export function onchainErrorCode(errorName: string, stage: OnchainStage): string {
  if (errorName === 'DerMalformed' || errorName === 'UnsupportedKey') {
    return stage === 'registerRootCrl' || stage === 'registerPckCrl' ? 'ATTEST_CRL_INVALID' : 'ATTEST_CHAIN_INVALID';
  }
  return CODES[errorName] ?? 'CHAIN_REVERTED';
}

/** Decodes a viem error into the contract's custom error name and args (undefined when it is not a revert). */
export function decodeRevert(e: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  if (!(e instanceof BaseError)) return undefined;
  const decoded = e.walk((x) => typeof (x as { data?: { errorName?: string } }).data?.errorName === 'string') as { data?: { errorName: string; args?: readonly unknown[] } } | null;
  if (decoded?.data && decoded.data.errorName !== 'Error') return { errorName: decoded.data.errorName, args: decoded.data.args ?? [] };
  const raw = e.walk((x) => typeof (x as { data?: unknown }).data === 'string' && ((x as { data: string }).data.startsWith('0x'))) as { data?: Hex } | null;
  const data = raw?.data;
  if (data && data.length >= 10) {
    try {
      const r = decodeErrorResult({ abi: ALL_ERRORS, data });
      return { errorName: r.errorName, args: (r.args ?? []) as readonly unknown[] };
    } catch {
      return { errorName: `unknown selector ${data.slice(0, 10)}`, args: [] };
    }
  }
  return undefined;
}

function toOnchainError(e: unknown, stage: OnchainStage): unknown {
  const r = decodeRevert(e);
  if (!r) return e;
  const args = r.args.map((a) => (typeof a === 'bigint' ? a.toString() : a));
  return new OnchainDcapError(onchainErrorCode(r.errorName, stage), r.errorName, `The on-chain DCAP ${stage === 'verify' ? 'verifier' : 'registry'} refused (${r.errorName}${args.length ? ` ${JSON.stringify(args)}` : ''}): see docs/attestation.md#on-chain-dcap-verifier`, { stage, args });
}

async function sendAndWait(c: DcapChain, to: Address, abi: Abi, functionName: string, args: readonly unknown[], stage: OnchainStage): Promise<bigint> {
  const data = encodeFunctionData({ abi, functionName, args });
  const account = c.wallet.account;
  if (!account) throw new TypeError('DcapChain.wallet needs an account');
  try {
    // Simulate first: a reverting transaction is reported with its decoded custom error.
    await c.publicClient.call({ account, to, data });
  } catch (e) {
    throw toOnchainError(e, stage);
  }
  const hash = await c.wallet.sendTransaction({ account, to, data, chain: c.wallet.chain, gas: 15_000_000n });
  const r = await c.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 5 });
  if (r.status !== 'success') throw new OnchainDcapError('CHAIN_REVERTED', 'unknown', `${functionName} reverted when mined`, { hash });
  return r.gasUsed;
}

async function deployOne(c: DcapChain, abi: Abi, bytecode: Hex, args: readonly unknown[]): Promise<{ address: Address; gas: bigint }> {
  const account = c.wallet.account;
  if (!account) throw new TypeError('DcapChain.wallet needs an account');
  const hash = await c.wallet.deployContract({ abi, bytecode, args, account, chain: c.wallet.chain, gas: 15_000_000n });
  const r = await c.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 5 });
  if (r.status !== 'success' || !r.contractAddress) throw new OnchainDcapError('CHAIN_REVERTED', 'deploy', 'Deploying the DCAP contracts failed: is the chain Osaka (EIP-7951 P256VERIFY at 0x100)?');
  return { address: r.contractAddress, gas: r.gasUsed };
}

/** `tdxPolicy` bits of the verifier (DcapQuoteVerifier.ALLOW_SERVICE_TD / ALLOW_SEPT_VE). */
export const TDX_POLICY = { allowServiceTd: 1n, allowSeptVe: 2n } as const;

/**
 * Deploys a registry pinned to `rootDer` (sha256 of it is the trust anchor) and a verifier reading it.
 * @param opts.acceptedStatuses bitmask of TCB statuses `verifyQuote` accepts (default {@link ALL_STATUSES_MASK}).
 * @param opts.tdxPolicy {@link TDX_POLICY} bits (default 0: MRSERVICETD must be zero, SEPT_VE_DISABLE set).
 * @param opts.allowedAdvisoryIds advisory IDs (e.g. "INTEL-SA-00837") `verifyQuote` tolerates; "*" tolerates any.
 *   Default ["*"]: like the default `acceptedStatuses`, it leaves the advisory judgement to the caller; a production
 *   deployment lists exactly what its policy accepts (an empty list tolerates none).
 * @param opts.registry reuse this already deployed registry instead of deploying one (`rootDer` is then ignored).
 */
export async function deployDcapVerifier(
  c: DcapChain,
  rootDer: Uint8Array,
  opts: { acceptedStatuses?: bigint; tdxPolicy?: bigint; allowedAdvisoryIds?: readonly string[]; registry?: Address } = {},
): Promise<DcapDeployment & { gas: bigint }> {
  const reg = opts.registry ? { address: opts.registry, gas: 0n } : await deployOne(c, DcapCollateralRegistryAbi as Abi, DcapCollateralRegistryBytecode, [toHex(rootDer)]);
  const advisories = (opts.allowedAdvisoryIds ?? ['*']).map((id) => keccak256(toBytes(id)));
  const ver = await deployOne(c, DcapQuoteVerifierAbi as Abi, DcapQuoteVerifierBytecode, [reg.address, opts.acceptedStatuses ?? ALL_STATUSES_MASK, opts.tdxPolicy ?? 0n, advisories]);
  return { registry: reg.address, verifier: ver.address, gas: reg.gas + ver.gas };
}

/** Gas of each registration transaction. */
export interface RegistrationGas {
  what: RegistrationStep['what'];
  gas: bigint;
}

/**
 * Registers `col` with the registry (anyone may). Each step is simulated first.
 * @throws OnchainDcapError with the code of the refused item (e.g. ATTEST_COLLATERAL_SIGNATURE for altered TCB Info).
 */
export async function registerCollateral(c: DcapChain, registry: Address, col: DcapCollateralInput, rootDer: Uint8Array): Promise<RegistrationGas[]> {
  const out: RegistrationGas[] = [];
  for (const s of registrationSteps(col, rootDer)) {
    out.push({ what: s.what, gas: await sendAndWait(c, registry, DcapCollateralRegistryAbi as Abi, s.functionName, s.args, s.functionName) });
  }
  return out;
}

/** A decoded on-chain verdict (hex 0x-prefixed, times unix seconds). */
export interface OnchainVerdict {
  version: number;
  teeType: 'sgx' | 'tdx';
  status: (typeof DCAP_STATUS_NAMES)[number];
  advisoryIds: string[];
  fmspc: string;
  pceId: string;
  debug: boolean;
  measurement: Hex;
  reportData: Hex;
  validFrom: number;
  validUntil: number;
  reportBody: Hex;
  pckCached: boolean;
}

/**
 * Runs `verify(quote)` on the verifier: eth_call for the verdict, then the transaction (which caches the PCK chain)
 * for its gas. Executes at the next block's timestamp (set it with evm_setNextBlockTimestamp on a devnet).
 * @throws OnchainDcapError with the matching ATTEST_* code when the contract refuses the quote.
 */
export async function verifyQuoteOnchain(c: DcapChain, verifier: Address, quote: Uint8Array, opts: { send?: boolean } = {}): Promise<{ verdict: OnchainVerdict; gas?: bigint }> {
  const data = encodeFunctionData({ abi: DcapQuoteVerifierAbi, functionName: 'verify', args: [toHex(quote)] });
  const account = c.wallet.account;
  if (!account) throw new TypeError('DcapChain.wallet needs an account');
  let ret: Hex | undefined;
  try {
    ret = (await c.publicClient.call({ account, to: verifier, data })).data;
  } catch (e) {
    throw toOnchainError(e, 'verify');
  }
  const v = decodeFunctionResult({ abi: DcapQuoteVerifierAbi, functionName: 'verify', data: ret as Hex });
  const verdict: OnchainVerdict = {
    version: v.version,
    teeType: v.teeType === 0x81 ? 'tdx' : 'sgx',
    status: DCAP_STATUS_NAMES[v.status],
    advisoryIds: [...v.advisoryIds],
    fmspc: v.fmspc.slice(2),
    pceId: v.pceId.slice(2),
    debug: v.debug,
    measurement: v.measurement,
    reportData: `${v.reportDataLo}${v.reportDataHi.slice(2)}` as Hex,
    validFrom: Number(v.validFrom),
    validUntil: Number(v.validUntil),
    reportBody: v.reportBody,
    pckCached: v.pckCached,
  };
  if (opts.send === false) return { verdict };
  const gas = await sendAndWait(c, verifier, DcapQuoteVerifierAbi as Abi, 'verify', [toHex(quote)], 'verify');
  return { verdict, gas };
}

/** The `measurement` the verifier reports for a TDX quote body: sha256(MRTD || RTMR0..3) (0x hex). */
export function tdxMeasurement(mrTd: Uint8Array, rtmrs: Uint8Array[]): Hex {
  const h = createHash('sha256').update(mrTd);
  for (const r of rtmrs) h.update(r);
  return `0x${h.digest('hex')}`;
}
