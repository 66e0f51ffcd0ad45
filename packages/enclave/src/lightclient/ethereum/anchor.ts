import { createBeaconConfig, createChainForkConfig, type BeaconConfig } from '@lodestar/config';
import { ACTIVE_PRESET, ForkName, ForkSeq } from '@lodestar/params';
import { hexToBytes, isHex, type Hex } from 'viem';
import { LightClientError } from '../../errors.ts';

/**
 * Trust anchor of the Ethereum sync-committee light client (docs/protocol.md#ethereum-light-client). It is part of
 * the deployment config, so the config hash the enclave attests to and the contract stores covers every field:
 * - `checkpoint`: a weak-subjectivity checkpoint, the hash_tree_root of a finalized BeaconBlockHeader (0x bytes32),
 *   from which the enclave bootstraps (consensus-specs altair/light-client/light-client.md, "Light client sync");
 * - `genesisValidatorsRoot` (0x bytes32) and the fork schedule: together they fix every signing domain
 *   (phase0 beacon-chain.md compute_domain), so a signature from another network or fork never verifies;
 * - `preset`: the consensus preset the enclave bundle was built for (sync committee size, slots per epoch, epochs
 *   per period). Lodestar fixes it per process from LODESTAR_PRESET; an enclave whose process runs another preset
 *   than its anchor names refuses to bootstrap (LC_PRESET_MISMATCH), so the host cannot switch it with the env.
 */
export interface EthereumTrustAnchor {
  /** Informational network name ("mainnet", "minimal-devnet", ...). */
  network: string;
  preset: 'mainnet' | 'minimal';
  /** 0x bytes32 beacon block root (hash_tree_root(BeaconBlockHeader)). */
  checkpoint: Hex;
  /** 0x bytes32. */
  genesisValidatorsRoot: Hex;
  /** 0x bytes4 phase0 fork version. */
  genesisForkVersion: Hex;
  /** Post-genesis forks in spec order (altair first), each with its 0x bytes4 version and activation epoch. */
  forks: readonly ForkEntry[];
}

/** One scheduled fork: `epoch` is the activation epoch (a non-negative integer). */
export interface ForkEntry {
  name: ScheduledFork;
  version: Hex;
  epoch: number;
}

/** The forks Geode's light client knows the containers of (Lodestar 1.28.1 types). */
export const SCHEDULED_FORKS = ['altair', 'bellatrix', 'capella', 'deneb', 'electra', 'fulu'] as const;
export type ScheduledFork = (typeof SCHEDULED_FORKS)[number];

const bad = (message: string, details?: Record<string, unknown>): LightClientError =>
  new LightClientError('LC_ANCHOR_INVALID', `${message} Fix the deployment config's Ethereum light-client anchor.`, { details });

const bytesN = (x: unknown, n: number, name: string): Hex => {
  if (typeof x !== 'string' || !isHex(x, { strict: true }) || x.length !== 2 + 2 * n) throw bad(`${name} must be 0x-prefixed ${n}-byte hex.`, { [name]: x });
  return x.toLowerCase() as Hex;
};

/**
 * Check an anchor's shape and return it normalized (lowercase hex, forks validated). Forks must appear in spec
 * order, each at most once, with non-decreasing epochs; forks absent from the list are not scheduled.
 * Errors: LC_ANCHOR_INVALID (malformed field), LC_PRESET_MISMATCH (this process runs another Lodestar preset).
 */
export function checkAnchor(anchor: EthereumTrustAnchor): EthereumTrustAnchor {
  if (anchor.preset !== 'mainnet' && anchor.preset !== 'minimal') throw bad('preset must be "mainnet" or "minimal".', { preset: anchor.preset });
  if (anchor.preset !== ACTIVE_PRESET) {
    throw new LightClientError('LC_PRESET_MISMATCH', `The anchor is for the ${anchor.preset} preset but this process runs Lodestar's ${ACTIVE_PRESET} preset; run the enclave built for the anchor's network.`, { details: { anchor: anchor.preset, active: ACTIVE_PRESET } });
  }
  if (!Array.isArray(anchor.forks) || anchor.forks.length === 0) throw bad('forks must list the scheduled forks.');
  let lastSeq = ForkSeq.phase0;
  let lastEpoch = 0;
  const forks = anchor.forks.map((f) => {
    if (!(SCHEDULED_FORKS as readonly string[]).includes(f?.name)) throw bad(`fork ${String(f?.name)} is not one of ${SCHEDULED_FORKS.join(', ')}.`);
    const seq = ForkSeq[f.name as ForkName];
    if (seq <= lastSeq) throw bad(`fork ${f.name} is out of spec order or repeated.`);
    if (!Number.isSafeInteger(f.epoch) || f.epoch < lastEpoch) throw bad(`fork ${f.name} epoch must be an integer >= the previous fork's.`, { epoch: f.epoch });
    lastSeq = seq;
    lastEpoch = f.epoch;
    return { name: f.name, version: bytesN(f.version, 4, `${f.name}.version`), epoch: f.epoch };
  });
  if (!forks.some((f) => f.name === 'capella')) throw bad('the schedule must include capella (execution payload headers start there).');
  return {
    network: String(anchor.network),
    preset: anchor.preset,
    checkpoint: bytesN(anchor.checkpoint, 32, 'checkpoint'),
    genesisValidatorsRoot: bytesN(anchor.genesisValidatorsRoot, 32, 'genesisValidatorsRoot'),
    genesisForkVersion: bytesN(anchor.genesisForkVersion, 4, 'genesisForkVersion'),
    forks,
  };
}

/**
 * Lodestar BeaconConfig (fork schedule + signing domains) of a checked anchor: the preset's default chain config
 * with the anchor's fork versions and epochs; forks the anchor does not list are set to epoch Infinity (never).
 */
export function beaconConfigOf(anchor: EthereumTrustAnchor): BeaconConfig {
  const a = checkAnchor(anchor);
  const chain: Record<string, unknown> = { PRESET_BASE: a.preset, GENESIS_FORK_VERSION: hexToBytes(a.genesisForkVersion) };
  for (const name of SCHEDULED_FORKS) {
    const f = a.forks.find((x) => x.name === name);
    // An unlisted fork keeps the preset's default version and never activates.
    if (f) chain[`${name.toUpperCase()}_FORK_VERSION`] = hexToBytes(f.version);
    chain[`${name.toUpperCase()}_FORK_EPOCH`] = f ? f.epoch : Infinity;
  }
  return createBeaconConfig(createChainForkConfig(chain), hexToBytes(a.genesisValidatorsRoot));
}

/**
 * Ethereum mainnet's anchor fields other than the checkpoint. Fork versions and the genesis validators root are
 * the public mainnet constants (consensus-specs configs/mainnet.yaml); Electra (epoch 364032, 2025-05-07) and Fulu
 * (epoch 411392, 2025-12-03) are scheduled here because the Lodestar 1.28.1 mainnet config predates them.
 */
export function mainnetAnchor(checkpoint: Hex): EthereumTrustAnchor {
  return checkAnchor({
    network: 'mainnet',
    preset: 'mainnet',
    checkpoint,
    genesisValidatorsRoot: '0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95',
    genesisForkVersion: '0x00000000',
    forks: [
      { name: 'altair', version: '0x01000000', epoch: 74240 },
      { name: 'bellatrix', version: '0x02000000', epoch: 144896 },
      { name: 'capella', version: '0x03000000', epoch: 194048 },
      { name: 'deneb', version: '0x04000000', epoch: 269568 },
      { name: 'electra', version: '0x05000000', epoch: 364032 },
      { name: 'fulu', version: '0x06000000', epoch: 411392 },
    ],
  });
}
