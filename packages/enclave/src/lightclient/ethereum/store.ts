import type { BeaconConfig } from '@lodestar/config';
import { EPOCHS_PER_SYNC_COMMITTEE_PERIOD, SLOTS_PER_EPOCH } from '@lodestar/params';
import { ssz, type altair, type LightClientHeader } from '@lodestar/types';
import { headerTypeAt } from './decode.ts';

/**
 * The light client's trusted state, the spec's LightClientStore (altair/light-client/sync-protocol.md) without
 * `best_valid_update`: Geode never force-updates (that needs a trusted clock, see docs/protocol.md), so it never
 * keeps an unfinalized candidate. Values are immutable: verification returns a new store and the caller decides
 * to adopt it, so a refused update leaves the trusted store exactly as it was.
 */
export interface BeaconStore {
  /** Latest finalized header (Capella or later). */
  readonly finalizedHeader: LightClientHeader;
  /** Latest header signed by more than the safety threshold (not finalized). */
  readonly optimisticHeader: LightClientHeader;
  readonly currentSyncCommittee: altair.SyncCommittee;
  /** Null until an update has proven the next period's committee. */
  readonly nextSyncCommittee: altair.SyncCommittee | null;
  readonly previousMaxActiveParticipants: number;
  readonly currentMaxActiveParticipants: number;
}

/** compute_sync_committee_period_at_slot (altair/validator.md). */
export const periodAt = (slot: number): number => Math.floor(slot / SLOTS_PER_EPOCH / EPOCHS_PER_SYNC_COMMITTEE_PERIOD);

/** The store's period: that of its finalized header. */
export const storePeriod = (s: BeaconStore): number => periodAt(s.finalizedHeader.beacon.slot);

/** JSON form of a store for sealing: SSZ JSON (Lodestar toJson) of each header in its slot's fork, committees as SyncCommittee JSON. */
export interface BeaconStoreJson {
  finalizedHeader: unknown;
  optimisticHeader: unknown;
  currentSyncCommittee: unknown;
  nextSyncCommittee: unknown | null;
  previousMaxActiveParticipants: number;
  currentMaxActiveParticipants: number;
}

/** Serialize a store (see {@link BeaconStoreJson}). */
export function storeToJson(config: BeaconConfig, s: BeaconStore): BeaconStoreJson {
  return {
    finalizedHeader: headerTypeAt(config, s.finalizedHeader.beacon.slot).toJson(s.finalizedHeader),
    optimisticHeader: headerTypeAt(config, s.optimisticHeader.beacon.slot).toJson(s.optimisticHeader),
    currentSyncCommittee: ssz.altair.SyncCommittee.toJson(s.currentSyncCommittee),
    nextSyncCommittee: s.nextSyncCommittee ? ssz.altair.SyncCommittee.toJson(s.nextSyncCommittee) : null,
    previousMaxActiveParticipants: s.previousMaxActiveParticipants,
    currentMaxActiveParticipants: s.currentMaxActiveParticipants,
  };
}

/**
 * Parse a sealed store. Only the enclave's own sealed state reaches this (sealing authenticates it); a shape error
 * throws Lodestar's error, which the enclave reports as a corrupt seal.
 */
export function storeFromJson(config: BeaconConfig, j: BeaconStoreJson): BeaconStore {
  const header = (x: unknown): LightClientHeader => {
    const slot = Number((x as { beacon: { slot: string } }).beacon.slot);
    return headerTypeAt(config, slot).fromJson(x);
  };
  return {
    finalizedHeader: header(j.finalizedHeader),
    optimisticHeader: header(j.optimisticHeader),
    currentSyncCommittee: ssz.altair.SyncCommittee.fromJson(j.currentSyncCommittee),
    nextSyncCommittee: j.nextSyncCommittee === null ? null : ssz.altair.SyncCommittee.fromJson(j.nextSyncCommittee),
    previousMaxActiveParticipants: j.previousMaxActiveParticipants,
    currentMaxActiveParticipants: j.currentMaxActiveParticipants,
  };
}
