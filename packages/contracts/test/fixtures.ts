/** Shared deployment fixtures for the contract tests: verifier + core (or app) and a session handshake. */
import assert from 'node:assert/strict';
import { keccak256, toBytes, toHex, type Abi, type Address, type Hex } from 'viem';
import { configHash, sessionCreateReportData, sessionKeysReportData } from '@geode/protocol';
import { GeodeCoreAbi, GeodeCoreBytecode, SimQuoteVerifierAbi, SimQuoteVerifierBytecode } from '../src/index.ts';
import { CHAIN_ID, buildQuote, deploy, randomHex32, send, sessionSigner, simAttestationKey, type Chain, type SimKey, type Wallet } from './helpers.ts';

export const MR_A: Hex = keccak256(toBytes('enclave A'));
export const MR_B: Hex = keccak256(toBytes('enclave B'));
export const MR_OTHER: Hex = keccak256(toBytes('not accepted'));

export interface Deployment {
  c: Chain;
  key: SimKey;
  verifier: Address;
  core: Address;
  abi: Abi;
  measurements: Hex[];
  lcSigner: Address;
  lcGenesisHash: Hex;
  policyHash: Hex;
  admin: Address;
}

/** Deploys a SimQuoteVerifier (new key unless given) and a GeodeCore-derived contract. */
export async function deployCore(
  c: Chain,
  opts: { key?: SimKey; abi?: Abi; bytecode?: Hex; measurements?: Hex[]; wallet?: Wallet; admin?: Address } = {},
): Promise<Deployment> {
  const wallet = opts.wallet ?? c.wallets[0];
  const key = opts.key ?? simAttestationKey();
  const verifier = await deploy(c, wallet, SimQuoteVerifierAbi, SimQuoteVerifierBytecode, [key.x, key.y]);
  const measurements = opts.measurements ?? [MR_A, MR_B];
  const lcSigner = c.accounts[5].address;
  const lcGenesisHash = randomHex32();
  const policyHash = randomHex32();
  const abi = opts.abi ?? GeodeCoreAbi;
  // The deploying wallet is the admin unless told otherwise (it opens the first session in these tests).
  const admin = opts.admin ?? wallet.account.address;
  const core = await deploy(c, wallet, abi, opts.bytecode ?? GeodeCoreBytecode, [measurements, verifier, lcSigner, lcGenesisHash, policyHash, admin]);
  return { c, key, verifier, core, abi, measurements, lcSigner, lcGenesisHash, policyHash, admin };
}

/** The protocol-side config hash of a deployment. */
export function expectedConfigHash(d: Deployment): Hex {
  return configHash({
    chainId: CHAIN_ID,
    contract: d.core,
    measurements: d.measurements,
    attestationVerifier: d.verifier,
    lcSigner: d.lcSigner,
    lcGenesisHash: d.lcGenesisHash,
    policyHash: d.policyHash,
    admin: d.admin,
  });
}

/** SessionCreate with a correctly bound quote; returns the session id and nonce. */
export async function createSession(d: Deployment, mr: Hex = MR_A, wallet: Wallet = d.c.wallets[0]) {
  const nonce = randomHex32();
  const quote = buildQuote(d.key, mr, sessionCreateReportData(CHAIN_ID, d.core, expectedConfigHash(d), nonce));
  const receipt = await send(d.c, wallet, d.core, d.abi, 'sessionCreate', [toHex(quote), nonce]);
  const id = (await d.c.publicClient.readContract({ address: d.core, abi: d.abi, functionName: 'sessionCount' })) as bigint;
  return { id, nonce, receipt };
}

/**
 * Full handshake: SessionCreate + SessionSetPubKey (from `wallet`, default the admin wallet 0), with fresh keys or the
 * given ones (a restarted instance re-activating its keys). Returns the session id, its signer and HPKE key.
 */
export async function openSession(d: Deployment, mr: Hex = MR_A, keys?: { signer: ReturnType<typeof sessionSigner>; encPubKey: Hex }, wallet: Wallet = d.c.wallets[0]) {
  const { id, nonce } = await createSession(d, mr);
  const signer = keys?.signer ?? sessionSigner();
  const encPubKey = keys?.encPubKey ?? randomHex32();
  const quote = buildQuote(d.key, mr, sessionKeysReportData(CHAIN_ID, d.core, nonce, encPubKey, signer.address));
  await send(d.c, wallet, d.core, d.abi, 'sessionSetPubKey', [id, toHex(quote), encPubKey, signer.address]);
  const active = (await d.c.publicClient.readContract({ address: d.core, abi: d.abi, functionName: 'activeSessionId' })) as bigint;
  assert.equal(active, id);
  return { id, nonce, signer, encPubKey };
}

/** A syntactically valid private payload: 0x01 || enc(32) || ciphertext(len - 33). */
export function privatePayload(len = 49 + 16): Hex {
  const b = new Uint8Array(len);
  b[0] = 0x01;
  for (let i = 1; i < len; i++) b[i] = (i * 31) & 0xff;
  return toHex(b);
}

/** Read a GeodeCore view of deployment `d` (the core ABI, by name: the tests name functions across versions). */
export const readCore = <T>(d: Deployment, functionName: string, args: readonly unknown[] = []) =>
  d.c.publicClient.readContract({ address: d.core, abi: GeodeCoreAbi, functionName, args } as never) as Promise<T>;

/** Send a GeodeCore transaction to deployment `d` from `wallet` (default: the chain's first wallet). */
export const writeCore = (d: Deployment, functionName: string, args: readonly unknown[], wallet: Wallet = d.c.wallets[0]) =>
  wallet.writeContract({ address: d.core, abi: GeodeCoreAbi, functionName, args } as never);
