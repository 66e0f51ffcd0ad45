import { type Account, type Address, type Hex } from 'viem';
import {
  SLOT, handoverRequestKey, recoveryKeySlotKey, sessionFieldKey, slotKey, type Params, type Result,
} from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts';
import type { ChainAccess } from './chain.ts';
import type { EnclaveProcess } from './enclave.ts';
import { ChainError } from './errors.ts';
import { storageProof } from './handover.ts';
import { retryStale } from './retry.ts';

/**
 * Host plumbing of backup and restore (docs/protocol.md#backup): the transactions and the proofs the enclaves check.
 * None of it is trusted by an enclave; the recovery-key holder's checks are @geode/cli's (restoreMessage).
 */

/**
 * GeodeCore.setRecoveryKey(key) from `admin` (the deployment's admin), before the first session. `key` is an X25519
 * public key, 0x bytes32. Throws ChainError when it reverts (NotAdmin, RecoveryKeyFixed, ZeroRecoveryKey).
 */
export async function setRecoveryKey(chain: ChainAccess, admin: Account, contract: Address, key: Hex): Promise<void> {
  const pub = chain.publicClient;
  try {
    await pub.simulateContract({ account: admin, address: contract, abi: GeodeCoreAbi, functionName: 'setRecoveryKey', args: [key] });
  } catch (e) {
    throw new ChainError('setRecoveryKey was refused (only the admin may call it, before the first session, with a non-zero key)', { cause: e });
  }
  const hash = await chain.wallet(admin).writeContract({ address: contract, abi: GeodeCoreAbi, functionName: 'setRecoveryKey', args: [key], gas: 200_000n });
  const r = await pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (r.status !== 'success') throw new ChainError('setRecoveryKey reverted', { details: { hash } });
}

/** The backupExport params at the latest signed header: a proof of `recoveryKey` and `activeSessionId`. */
export async function backupExportParams(chain: ChainAccess, contract: Address): Promise<Params<'backupExport'>> {
  const h = await chain.getSignedHeader('latest');
  const proof = await storageProof(chain.publicClient, contract, [recoveryKeySlotKey(), slotKey(SLOT.activeSessionId)], h.number);
  return { header: { rlp: h.rlp, signature: h.signature }, proof, ...(h.beacon ? { beacon: h.beacon } : {}) };
}

/** Ask the keyed `enclave` for a backup file (protocol backupFile). Throws the enclave's refusal (e.g. ENCLAVE_BACKUP_NO_RECOVERY_KEY). */
export async function exportBackup(chain: ChainAccess, contract: Address, enclave: EnclaveProcess): Promise<Result<'backupExport'>> {
  return retryStale(async () => enclave.call('backupExport', await backupExportParams(chain, contract)));
}

/** A restore message: key material re-sealed to a newcomer's handover key by the recovery-key holder. */
export interface RestoreMessage {
  requestId: string;
  enc: Hex;
  ciphertext: Hex;
  /** Measurement of the instance that exported the backup (in the message's HPKE additional data). */
  exporterMeasurement: Hex;
}

/**
 * The handoverRestore params for `message` at the latest signed header: a proof of the request, the active session,
 * its encPubKey and signer, and the committed stateRoot.
 */
export async function handoverRestoreParams(chain: ChainAccess, contract: Address, message: RestoreMessage): Promise<Params<'handoverRestore'>> {
  const pub = chain.publicClient;
  const h = await chain.getSignedHeader('latest');
  const active = BigInt((await pub.getStorageAt({ address: contract, slot: slotKey(SLOT.activeSessionId), blockNumber: h.number })) ?? '0x0');
  const keys = [handoverRequestKey(BigInt(message.requestId)), slotKey(SLOT.activeSessionId), slotKey(SLOT.stateRoot), sessionFieldKey(active, 'encPubKey'), sessionFieldKey(active, 'signer')];
  const proof = await storageProof(pub, contract, keys, h.number);
  return { ...message, header: { rlp: h.rlp, signature: h.signature }, proof, ...(h.beacon ? { beacon: h.beacon } : {}) };
}

/** Deliver `message` to the newcomer (handoverRestore). Returns its answer; throws its refusal. */
export async function deliverRestore(chain: ChainAccess, contract: Address, newcomer: EnclaveProcess, message: RestoreMessage): Promise<Result<'handoverRestore'>> {
  return retryStale(async () => newcomer.call('handoverRestore', await handoverRestoreParams(chain, contract, message)));
}
