import type { BeaconConfig } from '@lodestar/config';
import { BLOCK_BODY_EXECUTION_PAYLOAD_DEPTH, ForkSeq, isForkPostCapella } from '@lodestar/params';
import { ssz, type capella, type deneb, type LightClientHeader } from '@lodestar/types';
import { bytesToHex, type Hex } from 'viem';
import { LightClientError } from '../../errors.ts';
import { isValidBranch } from './merkle.ts';

/** Generalized index of execution_payload in BeaconBlockBody, Capella to Fulu (capella/light-client/sync-protocol.md). */
export const EXECUTION_PAYLOAD_GINDEX = 25;

/** A Capella-or-later light-client header (Deneb and later add blob gas fields to `execution`). */
export type ExecutionLightClientHeader = capella.LightClientHeader | deneb.LightClientHeader;

/** The execution block a verified beacon header commits to. Hashes 0x bytes32. */
export interface ExecutionBlock {
  number: bigint;
  hash: Hex;
  stateRoot: Hex;
  /** Unix seconds. */
  timestamp: bigint;
}

/** hash_tree_root of the header's BeaconBlockHeader: the beacon block root. */
export const beaconRootOf = (h: LightClientHeader): Uint8Array => ssz.phase0.BeaconBlockHeader.hashTreeRoot(h.beacon);

/**
 * get_lc_execution_root (deneb/light-client/sync-protocol.md): hash_tree_root of the header's execution payload
 * header in the container of the fork its slot falls in. Throws LC_PRE_CAPELLA_HEADER before Capella.
 */
export function executionRootOf(config: BeaconConfig, h: LightClientHeader): Uint8Array {
  const fork = config.getForkName(h.beacon.slot);
  if (!isForkPostCapella(fork)) throw new LightClientError('LC_PRE_CAPELLA_HEADER', `Header at slot ${h.beacon.slot} is ${fork}; Geode needs Capella or later headers.`, { details: { slot: h.beacon.slot, fork } });
  return config.getPostBellatrixForkTypes(h.beacon.slot).ExecutionPayloadHeader.hashTreeRoot((h as ExecutionLightClientHeader).execution as deneb.ExecutionPayloadHeader);
}

/**
 * is_valid_light_client_header (capella and deneb light-client/sync-protocol.md), restricted to Capella-or-later
 * slots since Geode needs the execution state root:
 * 1. the slot's scheduled fork is Capella or later — else LC_PRE_CAPELLA_HEADER;
 * 2. before Deneb, blob_gas_used and excess_blob_gas are zero — else LC_EXECUTION_BRANCH;
 * 3. execution_branch proves get_lc_execution_root(header) at EXECUTION_PAYLOAD_GINDEX under beacon.body_root —
 *    else LC_EXECUTION_BRANCH.
 * `what` names the header in the error ("bootstrap header", "attested header", "finalized header").
 */
export function checkLightClientHeader(config: BeaconConfig, h: LightClientHeader, what: string): void {
  const root = executionRootOf(config, h);
  const x = h as ExecutionLightClientHeader;
  if (config.getForkSeq(h.beacon.slot) < ForkSeq.deneb) {
    const d = x.execution as Partial<deneb.ExecutionPayloadHeader>;
    if (BigInt(d.blobGasUsed ?? 0) !== 0n || BigInt(d.excessBlobGas ?? 0) !== 0n) {
      throw new LightClientError('LC_EXECUTION_BRANCH', `The ${what} is pre-Deneb but carries blob gas fields.`, { details: { slot: h.beacon.slot } });
    }
  }
  if (x.executionBranch?.length !== BLOCK_BODY_EXECUTION_PAYLOAD_DEPTH || !isValidBranch(root, x.executionBranch, EXECUTION_PAYLOAD_GINDEX, h.beacon.bodyRoot)) {
    throw new LightClientError('LC_EXECUTION_BRANCH', `The ${what}'s execution payload header is not proven by its execution_branch under body_root; the host sent a forged or mismatched header.`, { details: { slot: h.beacon.slot } });
  }
}

/** Execution block number, hash, state root and timestamp of a header already checked by checkLightClientHeader. */
export function executionBlockOf(h: LightClientHeader): ExecutionBlock {
  const e = (h as ExecutionLightClientHeader).execution;
  return { number: BigInt(e.blockNumber), hash: bytesToHex(e.blockHash), stateRoot: bytesToHex(e.stateRoot), timestamp: BigInt(e.timestamp) };
}
