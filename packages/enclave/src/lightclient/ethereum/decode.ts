import type { Type } from '@chainsafe/ssz';
import type { BeaconConfig } from '@lodestar/config';
import { isForkPostAltair, isForkPostCapella, type ForkName, type ForkPostCapella } from '@lodestar/params';
import { sszTypesFor, type LightClientBootstrap, type LightClientFinalityUpdate, type LightClientOptimisticUpdate, type LightClientUpdate } from '@lodestar/types';
import { LightClientError } from '../../errors.ts';

/**
 * Decoding of untrusted light-client objects (docs/protocol.md#ethereum-light-client). The host hands the enclave
 * Beacon API JSON (`{"version": fork, "data": …}`, beacon-APIs /eth/v1/beacon/light_client/*) or SSZ bytes; both
 * are parsed by Lodestar's SSZ types of the named fork, whose fixed-size vectors and bounded lists cap every size.
 * The named fork must be the fork the anchor's schedule gives for the object's own slot (the attested header's for
 * updates, the header's for a bootstrap), so the host cannot pick the containers or generalized indices.
 */

/** A light-client object as a Beacon API node serves it. */
export interface BeaconJson {
  version: string;
  data: unknown;
}

export type LightClientObjectKind = 'LightClientBootstrap' | 'LightClientUpdate' | 'LightClientFinalityUpdate' | 'LightClientOptimisticUpdate';
interface KindValue {
  LightClientBootstrap: LightClientBootstrap;
  LightClientUpdate: LightClientUpdate;
  LightClientFinalityUpdate: LightClientFinalityUpdate;
  LightClientOptimisticUpdate: LightClientOptimisticUpdate;
}

const decodeError = (kind: string, message: string, cause?: unknown): LightClientError =>
  new LightClientError('LC_BEACON_DECODE', `${kind} is malformed: ${message}. Pass the object exactly as a Beacon API node serves it.`, { cause });

/** The SSZ type of `kind` at `fork` (Lodestar's per-fork container; its static type is the cross-fork union). */
function typeOf<K extends LightClientObjectKind>(kind: K, fork: ForkPostCapella): Type<KindValue[K]> {
  return sszTypesFor(fork)[kind] as unknown as Type<KindValue[K]>;
}

function forkOf(kind: string, version: unknown): ForkPostCapella {
  if (typeof version !== 'string' || !isForkPostAltair(version as ForkName)) throw decodeError(kind, `unknown fork version ${JSON.stringify(version)}`);
  if (!isForkPostCapella(version as ForkName)) {
    throw new LightClientError('LC_PRE_CAPELLA_HEADER', `${kind} is a ${version} object; Geode needs Capella or later headers (they carry the execution payload header).`, { details: { version } });
  }
  return version as ForkPostCapella;
}

/** The slot whose scheduled fork must match the object's container fork. */
function keySlot(kind: LightClientObjectKind, v: KindValue[LightClientObjectKind]): number {
  return kind === 'LightClientBootstrap' ? (v as LightClientBootstrap).header.beacon.slot : (v as LightClientOptimisticUpdate).attestedHeader.beacon.slot;
}

function checkFork(config: BeaconConfig, kind: LightClientObjectKind, fork: ForkPostCapella, value: KindValue[LightClientObjectKind]): void {
  const slot = keySlot(kind, value);
  const scheduled = config.getForkName(slot);
  if (scheduled !== fork) {
    throw new LightClientError('LC_FORK_MISMATCH', `${kind} at slot ${slot} is labelled ${fork} but the anchor's fork schedule gives ${scheduled}; fetch it from a node of the anchor's network.`, { details: { slot, labelled: fork, scheduled } });
  }
}

/** Parse with `kind`'s container at the labelled fork, then check the label against the schedule. */
function decodeAt<K extends LightClientObjectKind>(config: BeaconConfig, kind: K, label: unknown, parse: (t: Type<KindValue[K]>) => KindValue[K]): KindValue[K] {
  const fork = forkOf(kind, label);
  let value: KindValue[K];
  try {
    value = parse(typeOf(kind, fork));
  } catch (e) {
    throw decodeError(kind, (e as Error).message, e);
  }
  checkFork(config, kind, fork, value);
  return value;
}

/**
 * Parse Beacon API JSON of `kind`. Errors: LC_BEACON_DECODE (not `{version, data}` or `data` not the fork's
 * container), LC_PRE_CAPELLA_HEADER (fork before Capella), LC_FORK_MISMATCH (label differs from the schedule).
 */
export function decodeJson<K extends LightClientObjectKind>(config: BeaconConfig, kind: K, json: unknown): KindValue[K] {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw decodeError(kind, 'expected an object {"version", "data"}');
  const { version, data } = json as BeaconJson;
  return decodeAt(config, kind, version, (t) => t.fromJson(data));
}

/**
 * Parse SSZ bytes of `kind` in the container of `fork` (e.g. from a fork digest, as the consensus-spec-tests and
 * the Beacon API's application/octet-stream responses carry it). Errors as {@link decodeJson}.
 */
export function decodeSsz<K extends LightClientObjectKind>(config: BeaconConfig, kind: K, fork: string, bytes: Uint8Array): KindValue[K] {
  return decodeAt(config, kind, fork, (t) => t.deserialize(bytes));
}

/** SSZ type of a header at `slot` by the schedule (Capella or later), for hashing and (de)serializing the store. */
export function headerTypeAt(config: BeaconConfig, slot: number): Type<LightClientUpdate['attestedHeader']> {
  const fork = config.getForkName(slot);
  if (!isForkPostCapella(fork)) throw new LightClientError('LC_PRE_CAPELLA_HEADER', `Slot ${slot} is before Capella; Geode needs headers that carry the execution payload header.`, { details: { slot, fork } });
  return sszTypesFor(fork).LightClientHeader as unknown as Type<LightClientUpdate['attestedHeader']>;
}
