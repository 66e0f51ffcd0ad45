import type { PublicKey } from '@chainsafe/bls/types';
import { byteArrayEquals } from '@chainsafe/ssz';
import type { BeaconConfig } from '@lodestar/config';
import { DOMAIN_SYNC_COMMITTEE, GENESIS_SLOT, MIN_SYNC_COMMITTEE_PARTICIPANTS, SYNC_COMMITTEE_SIZE } from '@lodestar/params';
import { ssz, type altair, type LightClientFinalityUpdate, type LightClientHeader, type LightClientOptimisticUpdate, type LightClientUpdate } from '@lodestar/types';
import { LightClientError } from '../../errors.ts';
import { fastAggregateVerify, publicKeysOf } from './bls.ts';
import { headerTypeAt } from './decode.ts';
import { finalizedRootGindexAt, nextSyncCommitteeGindexAt } from './gindex.ts';
import { beaconRootOf, checkLightClientHeader } from './header.ts';
import { isValidBranch } from './merkle.ts';
import { periodAt, storePeriod, type BeaconStore } from './store.ts';

/**
 * Sync-committee updates (altair/light-client/sync-protocol.md validate_light_client_update and
 * process_light_client_update, with the Capella/Deneb/Electra header and generalized-index rules). The predicate
 * {@link validateUpdate} throws on the first failed check and changes nothing; {@link applyUpdate} returns the next
 * store value for a validated update, which the caller adopts. Two spec steps are left out on purpose (no trusted
 * clock, docs/protocol.md#ethereum-light-client): `current_slot >= signature_slot` and the UPDATE_TIMEOUT forced
 * update (process_light_client_store_force_update), so the store only ever advances on 2/3-signed finality.
 */

const ZERO = new Uint8Array(32);
const allZero = (branch: readonly Uint8Array[]): boolean => branch.every((b) => byteArrayEquals(b, ZERO));
/** is_sync_committee_update: the next-committee branch is not the zero branch. */
export const isSyncCommitteeUpdate = (u: LightClientUpdate): boolean => !allZero(u.nextSyncCommitteeBranch);
/** is_finality_update: the finality branch is not the zero branch. */
export const isFinalityUpdate = (u: LightClientUpdate): boolean => !allZero(u.finalityBranch);
const isZeroCommittee = (c: altair.SyncCommittee): boolean => ssz.altair.SyncCommittee.equals(c, ssz.altair.SyncCommittee.defaultValue());
const isZeroHeader = (config: BeaconConfig, h: LightClientHeader, containerSlot: number): boolean => {
  const t = headerTypeAt(config, containerSlot);
  return t.equals(h, t.defaultValue());
};
const participantsOf = (u: LightClientUpdate): number[] => u.syncAggregate.syncCommitteeBits.getTrueBitIndexes();

/**
 * Deserialized committee keys by committee root. Decompressing 512 G1 keys costs about a second in WebAssembly and a
 * committee signs for a whole period (~27 h on mainnet), so the last few committees stay decoded; the bound keeps
 * memory constant whatever the history.
 */
const KEY_CACHE_SIZE = 8;
const keyCache = new Map<string, PublicKey[]>();
/** Committee roots per committee object (store values are immutable), so a warm update does not rehash 512 keys. */
const rootCache = new WeakMap<altair.SyncCommittee, string>();
function committeeKeys(c: altair.SyncCommittee): PublicKey[] {
  let root = rootCache.get(c);
  if (root === undefined) {
    root = Buffer.from(ssz.altair.SyncCommittee.hashTreeRoot(c)).toString('hex');
    rootCache.set(c, root);
  }
  let keys = keyCache.get(root);
  if (!keys) {
    const parsed = publicKeysOf(c.pubkeys);
    if (!parsed) throw new LightClientError('LC_SYNC_SIGNATURE', 'A sync committee public key is not a valid BLS12-381 G1 point; the committee cannot sign.');
    keys = parsed;
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!);
  }
  keyCache.delete(root);
  keyCache.set(root, keys);
  return keys;
}

/**
 * validate_light_client_update without current_slot (see module doc). Checks, in spec order:
 * 1. at least MIN_SYNC_COMMITTEE_PARTICIPANTS signers — else LC_SYNC_PARTICIPATION;
 * 2. is_valid_light_client_header(attested_header) — else LC_PRE_CAPELLA_HEADER / LC_EXECUTION_BRANCH;
 * 3. signature_slot > attested slot >= finalized slot — else LC_UPDATE_SLOTS;
 * 4. the signature period is the store's, or the next one when the next committee is known — else LC_UPDATE_PERIOD;
 * 5. the update is relevant: newer than the finalized header, or it supplies the unknown next committee of the
 *    store's period — else LC_UPDATE_IRRELEVANT;
 * 6. finality: without a finality branch the finalized header is zero; with one, the finalized header is a valid
 *    header (zero at genesis) proven by finality_branch at finalized_root_gindex_at_slot(attested slot) under the
 *    attested state root — else LC_FINALITY_BRANCH (or its header's LC_EXECUTION_BRANCH);
 * 7. next committee: without a branch it is zero; with one, it equals an already known next committee of the same
 *    period (else LC_SYNC_COMMITTEE_CONFLICT) and is proven at next_sync_committee_gindex_at_slot under the attested
 *    state root — else LC_SYNC_COMMITTEE_BRANCH;
 * 8. FastAggregateVerify by the participating keys of the signature period's committee over
 *    compute_signing_root(attested_header.beacon, DOMAIN_SYNC_COMMITTEE at the fork of max(signature_slot, 1) - 1)
 *    — else LC_SYNC_SIGNATURE.
 */
export function validateUpdate(config: BeaconConfig, store: BeaconStore, u: LightClientUpdate): void {
  const signers = participantsOf(u);
  if (signers.length < MIN_SYNC_COMMITTEE_PARTICIPANTS) {
    throw new LightClientError('LC_SYNC_PARTICIPATION', `Only ${signers.length} sync committee members signed (at least ${MIN_SYNC_COMMITTEE_PARTICIPANTS} required); fetch a better-signed update.`, { details: { signers: signers.length } });
  }
  checkLightClientHeader(config, u.attestedHeader, 'attested header');
  const attestedSlot = u.attestedHeader.beacon.slot;
  const finalizedSlot = u.finalizedHeader.beacon.slot;
  if (!(u.signatureSlot > attestedSlot && attestedSlot >= finalizedSlot)) {
    throw new LightClientError('LC_UPDATE_SLOTS', `Update slots out of order: signature ${u.signatureSlot} must be after attested ${attestedSlot}, which must not precede finalized ${finalizedSlot}.`, { details: { signatureSlot: u.signatureSlot, attestedSlot, finalizedSlot } });
  }
  const sPeriod = storePeriod(store);
  const sigPeriod = periodAt(u.signatureSlot);
  const nextKnown = store.nextSyncCommittee !== null;
  if (!(sigPeriod === sPeriod || (nextKnown && sigPeriod === sPeriod + 1))) {
    throw new LightClientError('LC_UPDATE_PERIOD', `The update is signed in sync-committee period ${sigPeriod} but the store is in period ${sPeriod}${nextKnown ? '' : ' without the next committee'}; apply the updates of every period in between, in order.`, { details: { signaturePeriod: sigPeriod, storePeriod: sPeriod, nextKnown } });
  }
  const attestedPeriod = periodAt(attestedSlot);
  const hasNextCommittee = !nextKnown && isSyncCommitteeUpdate(u) && attestedPeriod === sPeriod;
  if (!(attestedSlot > store.finalizedHeader.beacon.slot || hasNextCommittee)) {
    throw new LightClientError('LC_UPDATE_IRRELEVANT', `The update (attested slot ${attestedSlot}) is not newer than the finalized slot ${store.finalizedHeader.beacon.slot} and supplies no missing committee.`, { details: { attestedSlot, finalizedSlot: store.finalizedHeader.beacon.slot } });
  }
  if (!isFinalityUpdate(u)) {
    if (!isZeroHeader(config, u.finalizedHeader, attestedSlot)) throw new LightClientError('LC_FINALITY_BRANCH', 'The update carries a finalized header without a finality branch.');
  } else {
    let finalizedRoot: Uint8Array;
    if (finalizedSlot === GENESIS_SLOT) {
      if (!isZeroHeader(config, u.finalizedHeader, attestedSlot)) throw new LightClientError('LC_FINALITY_BRANCH', 'A genesis finalized header must be the zero header.');
      finalizedRoot = ZERO;
    } else {
      checkLightClientHeader(config, u.finalizedHeader, 'finalized header');
      finalizedRoot = beaconRootOf(u.finalizedHeader);
    }
    if (!isValidBranch(finalizedRoot, u.finalityBranch, finalizedRootGindexAt(config, attestedSlot), u.attestedHeader.beacon.stateRoot)) {
      throw new LightClientError('LC_FINALITY_BRANCH', 'The finalized header is not proven by the finality branch under the attested state root; the host sent a forged finality proof.', { details: { attestedSlot, finalizedSlot } });
    }
  }
  if (!isSyncCommitteeUpdate(u)) {
    if (!isZeroCommittee(u.nextSyncCommittee)) throw new LightClientError('LC_SYNC_COMMITTEE_BRANCH', 'The update carries a next sync committee without a branch.');
  } else {
    if (attestedPeriod === sPeriod && store.nextSyncCommittee && !ssz.altair.SyncCommittee.equals(u.nextSyncCommittee, store.nextSyncCommittee)) {
      throw new LightClientError('LC_SYNC_COMMITTEE_CONFLICT', `The update's next sync committee differs from the one already proven for period ${sPeriod + 1}.`, { details: { period: sPeriod + 1 } });
    }
    if (!isValidBranch(ssz.altair.SyncCommittee.hashTreeRoot(u.nextSyncCommittee), u.nextSyncCommitteeBranch, nextSyncCommitteeGindexAt(config, attestedSlot), u.attestedHeader.beacon.stateRoot)) {
      throw new LightClientError('LC_SYNC_COMMITTEE_BRANCH', 'The next sync committee is not proven under the attested state root; the host sent a forged committee.', { details: { attestedSlot } });
    }
  }
  const committee = sigPeriod === sPeriod ? store.currentSyncCommittee : store.nextSyncCommittee!;
  const keys = committeeKeys(committee);
  const forkVersionSlot = Math.max(u.signatureSlot, 1) - 1;
  const signingRoot = ssz.phase0.SigningData.hashTreeRoot({ objectRoot: beaconRootOf(u.attestedHeader), domain: config.getDomain(forkVersionSlot, DOMAIN_SYNC_COMMITTEE) });
  if (!fastAggregateVerify(signers.map((i) => keys[i]!), signingRoot, u.syncAggregate.syncCommitteeSignature)) {
    throw new LightClientError('LC_SYNC_SIGNATURE', `The sync committee's aggregate signature over attested slot ${attestedSlot} does not verify; the header, the participation bits or the signature was altered.`, { details: { attestedSlot, signatureSlot: u.signatureSlot, signers: signers.length } });
  }
}

/**
 * process_light_client_update after validation, without best_valid_update (module doc): track participation,
 * advance the optimistic header past the safety threshold, and on a 2/3 supermajority apply_light_client_update
 * (learn or rotate the committee, advance the finalized header). Returns the next store; `store` is not modified.
 */
export function applyUpdate(store: BeaconStore, u: LightClientUpdate): BeaconStore {
  const n = participantsOf(u).length;
  let s: BeaconStore = { ...store, currentMaxActiveParticipants: Math.max(store.currentMaxActiveParticipants, n) };
  const safetyThreshold = Math.floor(Math.max(s.previousMaxActiveParticipants, s.currentMaxActiveParticipants) / 2);
  if (n > safetyThreshold && u.attestedHeader.beacon.slot > s.optimisticHeader.beacon.slot) s = { ...s, optimisticHeader: u.attestedHeader };
  const finalizedNextCommittee = s.nextSyncCommittee === null && isSyncCommitteeUpdate(u) && isFinalityUpdate(u)
    && periodAt(u.finalizedHeader.beacon.slot) === periodAt(u.attestedHeader.beacon.slot);
  if (n * 3 >= SYNC_COMMITTEE_SIZE * 2 && (u.finalizedHeader.beacon.slot > s.finalizedHeader.beacon.slot || finalizedNextCommittee)) {
    // apply_light_client_update
    const sPeriod = storePeriod(s);
    const finalizedPeriod = periodAt(u.finalizedHeader.beacon.slot);
    const next = isZeroCommittee(u.nextSyncCommittee) ? null : u.nextSyncCommittee;
    if (s.nextSyncCommittee === null) {
      // validateUpdate steps 3-4 make finalizedPeriod == sPeriod here (spec: assert).
      s = { ...s, nextSyncCommittee: next };
    } else if (finalizedPeriod === sPeriod + 1) {
      s = { ...s, currentSyncCommittee: s.nextSyncCommittee, nextSyncCommittee: next, previousMaxActiveParticipants: s.currentMaxActiveParticipants, currentMaxActiveParticipants: 0 };
    }
    if (u.finalizedHeader.beacon.slot > s.finalizedHeader.beacon.slot) {
      s = { ...s, finalizedHeader: u.finalizedHeader };
      if (s.finalizedHeader.beacon.slot > s.optimisticHeader.beacon.slot) s = { ...s, optimisticHeader: s.finalizedHeader };
    }
  }
  return s;
}

/** validateUpdate then applyUpdate: the store after one update, or a typed error with `store` untouched. */
export function processUpdate(config: BeaconConfig, store: BeaconStore, u: LightClientUpdate): BeaconStore {
  validateUpdate(config, store, u);
  return applyUpdate(store, u);
}

/** process_light_client_finality_update: a finality update as a LightClientUpdate without a next committee. */
export function updateOfFinality(config: BeaconConfig, f: LightClientFinalityUpdate): LightClientUpdate {
  const depth = Math.floor(Math.log2(nextSyncCommitteeGindexAt(config, f.attestedHeader.beacon.slot)));
  return { ...f, nextSyncCommittee: ssz.altair.SyncCommittee.defaultValue(), nextSyncCommitteeBranch: Array.from({ length: depth }, () => new Uint8Array(32)) } as LightClientUpdate;
}

/** process_light_client_optimistic_update: an optimistic update as a LightClientUpdate with neither finality nor committee. */
export function updateOfOptimistic(config: BeaconConfig, o: LightClientOptimisticUpdate): LightClientUpdate {
  const slot = o.attestedHeader.beacon.slot;
  const finalityDepth = Math.floor(Math.log2(finalizedRootGindexAt(config, slot)));
  return updateOfFinality(config, { ...o, finalizedHeader: headerTypeAt(config, slot).defaultValue(), finalityBranch: Array.from({ length: finalityDepth }, () => new Uint8Array(32)) } as LightClientFinalityUpdate);
}
