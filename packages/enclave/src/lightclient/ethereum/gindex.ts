import type { BeaconConfig } from '@lodestar/config';
import { FINALIZED_ROOT_GINDEX, FINALIZED_ROOT_GINDEX_ELECTRA, ForkSeq, NEXT_SYNC_COMMITTEE_GINDEX, NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA } from '@lodestar/params';

/**
 * Generalized indices into BeaconState by the fork of the state's slot (electra/light-client/sync-protocol.md
 * *_gindex_at_slot; Electra grew BeaconState past 32 fields, adding one tree level). The finalized-root and
 * next-committee indices are Lodestar's @lodestar/params constants; Lodestar does not export the current-committee
 * one, so it is taken from the spec here: CURRENT_SYNC_COMMITTEE_GINDEX 54, _ELECTRA 86.
 */
const CURRENT_SYNC_COMMITTEE_GINDEX = 54;
const CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA = 86;

const postElectra = (config: BeaconConfig, slot: number): boolean => config.getForkSeq(slot) >= ForkSeq.electra;

/** current_sync_committee_gindex_at_slot. */
export const currentSyncCommitteeGindexAt = (config: BeaconConfig, slot: number): number =>
  (postElectra(config, slot) ? CURRENT_SYNC_COMMITTEE_GINDEX_ELECTRA : CURRENT_SYNC_COMMITTEE_GINDEX);
/** next_sync_committee_gindex_at_slot. */
export const nextSyncCommitteeGindexAt = (config: BeaconConfig, slot: number): number =>
  (postElectra(config, slot) ? NEXT_SYNC_COMMITTEE_GINDEX_ELECTRA : NEXT_SYNC_COMMITTEE_GINDEX);
/** finalized_root_gindex_at_slot. */
export const finalizedRootGindexAt = (config: BeaconConfig, slot: number): number =>
  (postElectra(config, slot) ? FINALIZED_ROOT_GINDEX_ELECTRA : FINALIZED_ROOT_GINDEX);
