import { parseEventLogs, type Account, type Address, type Hex, type PublicClient } from 'viem';
import {
  SLOT, handoverRequestKey, sessionFieldKey, slotKey, type Params, type Result, type StorageProofJson,
} from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts';
import type { ChainAccess } from './chain.ts';
import type { EnclaveProcess } from './enclave.ts';
import { ChainError } from './errors.ts';
import { retryStale } from './retry.ts';

/** What a host brings to a key handover (docs/protocol.md#handover); none of it is trusted by either enclave. */
export interface HandoverOptions {
  chain: ChainAccess;
  /** Account that pays for GeodeCore.requestHandover (anyone may; not the admin). */
  payer: Account;
  contract: Address;
  /**
   * Collateral of the peers' DCAP quotes (omit for SEV-SNP peers: their certificates travel in their evidence) and
   * the deployment's attestation policy JSON (its hash is in the config).
   */
  trust: { collateral?: Record<string, unknown>; policy: unknown };
}

/** What a completed handover produced (every artefact, so tests can replay or tamper with them). */
export interface HandoverTranscript {
  requestId: bigint;
  request: Result<'handoverRequest'>;
  message: Result<'handoverSend'>;
  received: Result<'handoverReceive'>;
}

/** eth_getProof of `keys` at `blockNumber`, in the protocol's JSON shape. */
export async function storageProof(pub: PublicClient, contract: Address, keys: Hex[], blockNumber: bigint): Promise<StorageProofJson> {
  const p = await pub.getProof({ address: contract, storageKeys: keys, blockNumber });
  return {
    address: p.address, balance: `0x${p.balance.toString(16)}`, nonce: `0x${p.nonce.toString(16)}`, codeHash: p.codeHash, storageHash: p.storageHash,
    accountProof: p.accountProof, storageProof: p.storageProof.map((s) => ({ key: s.key, value: `0x${s.value.toString(16)}`, proof: s.proof })),
  };
}

/**
 * Step 1 (newcomer): its attested handover key, recorded on-chain with GeodeCore.requestHandover. Returns the request
 * id and the enclave's answer. Throws ChainError when the transaction reverts (e.g. MeasurementNotAccepted).
 */
export async function requestHandover(o: HandoverOptions, newcomer: EnclaveProcess): Promise<{ requestId: bigint; request: Result<'handoverRequest'> }> {
  const request = await newcomer.call('handoverRequest');
  const pub = o.chain.publicClient;
  const hash = await o.chain.wallet(o.payer).writeContract({ address: o.contract, abi: GeodeCoreAbi, functionName: 'requestHandover', args: [request.quote as Hex, request.handoverPubKey as Hex], gas: 5_000_000n });
  const r = await pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (r.status !== 'success') throw new ChainError('requestHandover reverted', { details: { hash } });
  const ev = parseEventLogs({ abi: GeodeCoreAbi, logs: r.logs, eventName: 'HandoverRequested' })[0];
  if (!ev) throw new ChainError('requestHandover emitted no HandoverRequested event');
  return { requestId: (ev.args as { id: bigint }).id, request };
}

/** The handoverSend params for request `requestId` at the latest signed header (proof of the request and the active session id). */
export async function handoverSendParams(o: HandoverOptions, requestId: bigint, request: Result<'handoverRequest'>): Promise<Params<'handoverSend'>> {
  const h = await o.chain.getSignedHeader('latest');
  const proof = await storageProof(o.chain.publicClient, o.contract, [handoverRequestKey(requestId), slotKey(SLOT.activeSessionId)], h.number);
  return { requestId: requestId.toString(), quote: request.quote, handoverPubKey: request.handoverPubKey, header: { rlp: h.rlp, signature: h.signature }, proof, trust: o.trust, ...(h.beacon ? { beacon: h.beacon } : {}) };
}

/** The handoverReceive params for `message` at the latest signed header (proof of the request, the active session and its keys). */
export async function handoverReceiveParams(o: HandoverOptions, message: Result<'handoverSend'>): Promise<Params<'handoverReceive'>> {
  const pub = o.chain.publicClient;
  const h = await o.chain.getSignedHeader('latest');
  const active = BigInt((await pub.getStorageAt({ address: o.contract, slot: slotKey(SLOT.activeSessionId), blockNumber: h.number })) ?? '0x0');
  const keys = [handoverRequestKey(BigInt(message.requestId)), slotKey(SLOT.activeSessionId), sessionFieldKey(active, 'encPubKey'), sessionFieldKey(active, 'signer')];
  const proof = await storageProof(pub, o.contract, keys, h.number);
  return { requestId: message.requestId, enc: message.enc, ciphertext: message.ciphertext, quote: message.quote, header: { rlp: h.rlp, signature: h.signature }, proof, trust: o.trust, ...(h.beacon ? { beacon: h.beacon } : {}) };
}

/**
 * A whole handover: `newcomer` (configured, no keys) requests on-chain, `keyed` (holding the active session's keys)
 * checks and seals its keys to it, `newcomer` checks and adopts them. Retries a step whose header went stale while the
 * keyed instance's own host moved its light client (LC_STALE_HEADER), up to 5 times. Throws the enclaves' errors.
 */
export async function runHandover(o: HandoverOptions, keyed: EnclaveProcess, newcomer: EnclaveProcess): Promise<HandoverTranscript> {
  const { requestId, request } = await requestHandover(o, newcomer);
  const message = await retryStale(async () => keyed.call('handoverSend', await handoverSendParams(o, requestId, request)));
  const received = await retryStale(async () => newcomer.call('handoverReceive', await handoverReceiveParams(o, message)));
  return { requestId, request, message, received };
}
