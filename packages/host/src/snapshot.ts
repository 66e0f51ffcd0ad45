import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { ROOT_ZERO, SLOT, slotKey, type Params, type Result } from '@geode/protocol';
import type { ChainAccess } from './chain.ts';
import type { EnclaveProcess } from './enclave.ts';
import { runHandover, storageProof, type HandoverOptions, type HandoverTranscript } from './handover.ts';
import { retryStale } from './retry.ts';

/** What a state snapshot moved from a keyed instance to a newcomer (docs/protocol.md#snapshot). */
export interface SnapshotTransfer {
  exported: Result<'stateExport'>;
  imported: Result<'stateImport'>;
}

/** The storage keys a snapshot export and import prove: stateRoot, committedSeq, activeSessionId. */
const proofKeys = (): Hex[] => [slotKey(SLOT.stateRoot), slotKey(SLOT.committedSeq), slotKey(SLOT.activeSessionId)];

/** Header and proof of the committed state at `block` ('latest' or a number), the params stateExport and stateImport share. */
export async function committedStateParams(chain: ChainAccess, contract: Address, block: bigint | 'latest'): Promise<Params<'stateImport'> & Params<'stateExport'>> {
  const h = await chain.getSignedHeader(block);
  const proof = await storageProof(chain.publicClient, contract, proofKeys(), h.number);
  const stateRoot = (await chain.publicClient.getStorageAt({ address: contract, slot: slotKey(SLOT.stateRoot), blockNumber: h.number })) ?? ROOT_ZERO;
  return { root: stateRoot, header: { rlp: h.rlp, signature: h.signature }, proof, ...(h.beacon ? { beacon: h.beacon } : {}) };
}

/**
 * Move the state from `keyed` to `newcomer` (which already holds the keys, by handover): `keyed` exports the committed
 * state at the latest block into a snapshot file sealed for the newcomer's measurement, the host moves the file from
 * the keyed enclave's data directory into the newcomer's, and `newcomer` adopts it only as the root proven committed at
 * the export's block. Returns null when the chain has no committed state yet (the newcomer starts empty). Afterwards
 * the newcomer's host follows the batches committed since (follow.ts). Both enclaves' refusals are thrown
 * (ENCLAVE_SNAPSHOT_*, ENCLAVE_STALE_STATE when the keyed instance has not followed to the committed root yet).
 * Same-machine move (both data directories on this host's disk); across machines, copy the file the same way.
 */
export async function transferSnapshot(chain: ChainAccess, contract: Address, keyed: EnclaveProcess, newcomer: EnclaveProcess): Promise<SnapshotTransfer | null> {
  const measurement = (await newcomer.call('status')).measurement;
  const exported = await retryStale(async () => {
    const p = await committedStateParams(chain, contract, 'latest');
    if (BigInt(p.root) === 0n) return null;
    const { root: _root, ...params } = p;
    return keyed.call('stateExport', { ...params, measurement });
  });
  if (!exported) return null;
  const from = join(keyed.dataDir, exported.file);
  try {
    copyFileSync(from, join(newcomer.dataDir, exported.file));
  } finally {
    rmSync(from, { force: true });
  }
  const imported = await newcomer.call('stateImport', await committedStateParams(chain, contract, BigInt(exported.block)));
  return { exported, imported };
}

/**
 * Join by handover and state snapshot (docs/protocol.md#takeover): runHandover (the keys), then transferSnapshot (the
 * committed state), so the newcomer starts at the committed root instead of replaying the history, which it could not
 * once an epoch key was deleted. Throws what runHandover and transferSnapshot throw.
 */
export async function joinByHandover(o: HandoverOptions, keyed: EnclaveProcess, newcomer: EnclaveProcess): Promise<HandoverTranscript & { snapshot: SnapshotTransfer | null }> {
  const t = await runHandover(o, keyed, newcomer);
  return { ...t, snapshot: await transferSnapshot(o.chain, o.contract, keyed, newcomer) };
}
