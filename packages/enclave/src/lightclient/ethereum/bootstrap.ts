import type { BeaconConfig } from '@lodestar/config';
import { ssz, type LightClientBootstrap } from '@lodestar/types';
import { byteArrayEquals } from '@chainsafe/ssz';
import { bytesToHex, hexToBytes } from 'viem';
import { LightClientError } from '../../errors.ts';
import { checkAnchor, type EthereumTrustAnchor } from './anchor.ts';
import { currentSyncCommitteeGindexAt } from './gindex.ts';
import { beaconRootOf, checkLightClientHeader } from './header.ts';
import { isValidBranch } from './merkle.ts';
import type { BeaconStore } from './store.ts';

/**
 * initialize_light_client_store (altair/light-client/sync-protocol.md, with the Capella+ header rules): verify a
 * LightClientBootstrap against the anchor's weak-subjectivity checkpoint and return the initial store.
 * 0. the anchor is well formed and names this process's preset — else LC_ANCHOR_INVALID / LC_PRESET_MISMATCH;
 * 1. is_valid_light_client_header(bootstrap.header) — else LC_PRE_CAPELLA_HEADER / LC_EXECUTION_BRANCH;
 * 2. hash_tree_root(bootstrap.header.beacon) == anchor.checkpoint — else LC_CHECKPOINT_MISMATCH;
 * 3. current_sync_committee_branch proves current_sync_committee under header.beacon.state_root at
 *    current_sync_committee_gindex_at_slot — else LC_SYNC_COMMITTEE_BRANCH.
 * Pure: `bootstrap` is decoded by decode.ts with `config` = beaconConfigOf(anchor).
 */
export function verifyBootstrap(config: BeaconConfig, anchor: EthereumTrustAnchor, bootstrap: LightClientBootstrap): BeaconStore {
  const a = checkAnchor(anchor);
  checkLightClientHeader(config, bootstrap.header, 'bootstrap header');
  const root = beaconRootOf(bootstrap.header);
  if (!byteArrayEquals(root, hexToBytes(a.checkpoint))) {
    throw new LightClientError('LC_CHECKPOINT_MISMATCH', `The bootstrap header's root ${bytesToHex(root)} is not the anchor's checkpoint ${a.checkpoint}; fetch /eth/v1/beacon/light_client/bootstrap/${a.checkpoint}.`, { details: { root: bytesToHex(root), checkpoint: a.checkpoint } });
  }
  const slot = bootstrap.header.beacon.slot;
  if (!isValidBranch(ssz.altair.SyncCommittee.hashTreeRoot(bootstrap.currentSyncCommittee), bootstrap.currentSyncCommitteeBranch, currentSyncCommitteeGindexAt(config, slot), bootstrap.header.beacon.stateRoot)) {
    throw new LightClientError('LC_SYNC_COMMITTEE_BRANCH', 'The bootstrap\'s current sync committee is not proven under the checkpoint\'s state root; the host sent a forged committee.', { details: { slot } });
  }
  return {
    finalizedHeader: bootstrap.header,
    optimisticHeader: bootstrap.header,
    currentSyncCommittee: bootstrap.currentSyncCommittee,
    nextSyncCommittee: null,
    previousMaxActiveParticipants: 0,
    currentMaxActiveParticipants: 0,
  };
}
