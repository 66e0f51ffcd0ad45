import type { BeaconConfig } from '@lodestar/config';
import { LightClientError } from '../../errors.ts';
import { beaconConfigOf, type EthereumTrustAnchor } from './anchor.ts';
import { verifyBootstrap } from './bootstrap.ts';
import { decodeJson } from './decode.ts';
import { executionBlockOf, type ExecutionBlock } from './header.ts';
import type { BeaconStore } from './store.ts';
import { processUpdate, updateOfFinality, updateOfOptimistic } from './update.ts';

/** MAX_REQUEST_LIGHT_CLIENT_UPDATES (altair/light-client/p2p-interface.md): the most updates one call accepts. */
export const MAX_UPDATES_PER_CALL = 128;

/** Untrusted inputs of one sync step, in Beacon API JSON form (`{"version", "data"}` each). */
export interface BeaconSyncInput {
  /** /eth/v1/beacon/light_client/bootstrap/{checkpoint}; needed when there is no store yet. */
  bootstrap?: unknown;
  /** /eth/v1/beacon/light_client/updates, oldest period first (at most MAX_UPDATES_PER_CALL). */
  updates?: readonly unknown[];
  /** /eth/v1/beacon/light_client/finality_update. */
  finalityUpdate?: unknown;
  /** /eth/v1/beacon/light_client/optimistic_update (moves only the optimistic header). */
  optimisticUpdate?: unknown;
}

/** The result of a sync step: the next store and the execution block of its finalized header. */
export interface BeaconSyncResult {
  store: BeaconStore;
  finalized: { slot: number; execution: ExecutionBlock };
  optimistic: { slot: number; execution: ExecutionBlock };
}

/**
 * Light-client sync from a store (or, without one, from the anchor's checkpoint via `input.bootstrap`): bootstrap,
 * then each update in order, then the finality and optimistic updates. Pure; `store` is never modified and any
 * failure throws the first check's typed LC_* error (see bootstrap.ts, update.ts, decode.ts) so the caller keeps
 * its store. Errors also: LC_TOO_MANY_UPDATES (more than MAX_UPDATES_PER_CALL), LC_BEACON_DECODE (no bootstrap
 * and no store, or `updates` not an array).
 */
export function syncLightClient(anchor: EthereumTrustAnchor, store: BeaconStore | null, input: BeaconSyncInput, config: BeaconConfig = beaconConfigOf(anchor)): BeaconSyncResult {
  const updates = input.updates ?? [];
  if (!Array.isArray(updates)) throw new LightClientError('LC_BEACON_DECODE', 'updates must be an array of Beacon API light-client updates.');
  if (updates.length > MAX_UPDATES_PER_CALL) throw new LightClientError('LC_TOO_MANY_UPDATES', `At most ${MAX_UPDATES_PER_CALL} updates per call (got ${updates.length}); send them in chunks, oldest first.`, { details: { count: updates.length } });
  let s = store;
  if (input.bootstrap !== undefined) {
    if (s !== null) throw new LightClientError('LC_BEACON_DECODE', 'A bootstrap is only accepted by a light client without a store; the store already started from the checkpoint.');
    s = verifyBootstrap(config, anchor, decodeJson(config, 'LightClientBootstrap', input.bootstrap));
  }
  if (s === null) throw new LightClientError('LC_BEACON_DECODE', 'The light client has no store yet: send the checkpoint\'s bootstrap first.');
  for (const u of updates) s = processUpdate(config, s, decodeJson(config, 'LightClientUpdate', u));
  if (input.finalityUpdate !== undefined) s = processUpdate(config, s, updateOfFinality(config, decodeJson(config, 'LightClientFinalityUpdate', input.finalityUpdate)));
  if (input.optimisticUpdate !== undefined) s = processUpdate(config, s, updateOfOptimistic(config, decodeJson(config, 'LightClientOptimisticUpdate', input.optimisticUpdate)));
  return {
    store: s,
    finalized: { slot: s.finalizedHeader.beacon.slot, execution: executionBlockOf(s.finalizedHeader) },
    optimistic: { slot: s.optimisticHeader.beacon.slot, execution: executionBlockOf(s.optimisticHeader) },
  };
}
