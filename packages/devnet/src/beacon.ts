import { Tree } from '@chainsafe/persistent-merkle-tree';
import type { SecretKey, Signature } from '@chainsafe/bls/types';
import { sha256 } from '@noble/hashes/sha2.js';
import { createBeaconConfig, createChainForkConfig, type BeaconConfig } from '@lodestar/config';
import { ACTIVE_PRESET, DOMAIN_SYNC_COMMITTEE, EPOCHS_PER_SYNC_COMMITTEE_PERIOD, SLOTS_PER_EPOCH, SYNC_COMMITTEE_SIZE } from '@lodestar/params';
import { ssz, type altair, type deneb, type electra } from '@lodestar/types';
import { bytesToHex, hexToBytes, numberToHex, toBytes, type Hex } from 'viem';
import type { EthereumAnchorJson, RpcBlockHeader } from '@geode/protocol';
import type { Devnet } from './devnet.ts';
import { BeaconNotAvailableError } from './errors.ts';

/**
 * The devnet's beacon chain: a Beacon light-client API (ethereum/beacon-APIs /eth/v1/beacon/light_client/*) over the
 * devnet's own execution blocks, so a Geode deployment on the devnet runs Ethereum's sync-committee light client end
 * to end (docs/protocol.md#devnet-beacon). It gives NO security: this process holds every committee key.
 *
 * Shape, one beacon block per execution block (no empty slots):
 * - execution block n sits at slot 1 + n * slotsPerBlock (slot 0 would be the genesis slot, which the light client
 *   treats as "no finalized header"); every fork up to Electra is active from epoch 0, so every object is Electra's
 *   container (Fulu's light-client containers are Electra's);
 * - the block's body is Electra's BlindedBeaconBlockBody whose execution_payload_header is the execution block (number,
 *   hash, state root, timestamp, parent hash, fee recipient, receipts root, bloom, prev_randao, gas, extra data, base
 *   fee, blob gas; transactions_root and withdrawals_root are the SSZ roots of empty lists: the devnet does not
 *   re-encode its transactions); its state is Electra's BeaconState with slot, fork, genesis validators root, latest
 *   block header, latest execution payload header, the sync committees and the finalized checkpoint set (every other
 *   field its default), so every Merkle branch (execution, finality, current and next committee) is a real path of
 *   Lodestar's SSZ trees, at the generalized index Lodestar's types give for it;
 * - finality follows a fixed lag: block n's state finalizes block n - finalityLag;
 * - the sync committee of period p (Lodestar's active preset: mainnet, 512 seats, 8192 slots per period) is 32 BLS
 *   keys derived from the seed and p (EIP-2333 KeyGen via @chainsafe/bls), each holding SYNC_COMMITTEE_SIZE / 32
 *   seats (committees repeat validators on mainnet too); every seat signs (full participation).
 * Everything is deterministic from the seed and the execution chain, so a restarted devnet serves the same roots.
 * Beacon blocks are built lazily, in order, when first asked for, and cached; signatures are made per request
 * object and cached (32 BLS signatures each).
 */

/** Distinct BLS keys per committee (the consensus spec's minimal-preset committee size). */
export const DEVNET_COMMITTEE_KEYS = 32;
/** The public default seed of the devnet committee keys ("geode.devnet.beacon.v1"). */
export const DEFAULT_BEACON_SEED: Hex = bytesToHex(sha256(toBytes('geode.devnet.beacon.v1')));
const FORK = 'electra' as const;
/** Devnet fork versions: distinct from every public network's, so no devnet signature verifies elsewhere. */
const GENESIS_FORK_VERSION: Hex = '0x10de0000';
const FORKS = (['altair', 'bellatrix', 'capella', 'deneb', 'electra'] as const).map((name, i) => ({ name, version: `0x${(0x20 + 0x10 * i).toString(16)}de0000` as Hex, epoch: 0 }));

/** Options of {@link devnetBeacon}. */
export interface DevnetBeaconOptions {
  /** 0x 32-byte seed of the committee keys and of the genesis validators root. Default DEFAULT_BEACON_SEED. */
  seed?: Hex;
  /** Slots one execution block advances (>= 1, default 1). Larger values reach sync-committee periods sooner. */
  slotsPerBlock?: number;
  /** Blocks between an attested block and the block its state finalizes (>= 1, default 2). */
  finalityLag?: number;
  /** The slot clock the devnet mines at (informational: /eth/v1/config/spec SECONDS_PER_SLOT), ms. Default 1000. */
  slotMs?: number;
}

/** A Beacon API light-client object: `{"version": fork, "data": SSZ JSON}`. */
export interface BeaconApiObject { version: string; data: any }

/** The devnet's Beacon light-client API. Every method throws BeaconNotAvailableError (DEVNET_BEACON_UNAVAILABLE) when the chain is too short or the root unknown. */
export interface DevnetBeacon {
  /** The trust anchor of this beacon chain with `checkpoint` = the beacon root of execution block `checkpointBlock` (default 0). */
  anchor(checkpointBlock?: bigint): Promise<EthereumAnchorJson>;
  /** /eth/v1/beacon/light_client/bootstrap/{block_root}. */
  bootstrap(blockRoot: Hex): Promise<BeaconApiObject>;
  /** /eth/v1/beacon/light_client/updates?start_period&count: the best update of each period that has one (count <= 128). */
  updates(startPeriod: number, count: number): Promise<BeaconApiObject[]>;
  /** /eth/v1/beacon/light_client/finality_update: attested = the head's parent, signed in the head's slot. */
  finalityUpdate(): Promise<BeaconApiObject>;
  /** /eth/v1/beacon/light_client/optimistic_update. */
  optimisticUpdate(): Promise<BeaconApiObject>;
  /** /eth/v1/beacon/genesis. */
  genesis(): { genesis_time: string; genesis_validators_root: Hex; genesis_fork_version: Hex };
  /** /eth/v1/config/fork_schedule: phase0 then each fork, in spec order. */
  forkSchedule(): { previous_version: Hex; current_version: Hex; epoch: string }[];
  /** /eth/v1/config/spec (the fields a light client's anchor needs). */
  spec(): { PRESET_BASE: string; SECONDS_PER_SLOT: string; SLOTS_PER_EPOCH: string; EPOCHS_PER_SYNC_COMMITTEE_PERIOD: string; SYNC_COMMITTEE_SIZE: string };
  /** The slot of execution block `n`. */
  slotOf(n: bigint): number;
}

interface Committee { value: altair.SyncCommittee; keys: SecretKey[]; view: ReturnType<typeof ssz.altair.SyncCommittee.toViewDU> }
interface Built {
  number: bigint;
  header: deneb.LightClientHeader;
  root: Uint8Array;
  finalityBranch: Uint8Array[];
  currentCommitteeBranch: Uint8Array[];
  nextCommitteeBranch: Uint8Array[];
}

type Bls = typeof import('@chainsafe/bls/herumi').default;
let blsImpl: Promise<Bls> | undefined;
/** The native blst backend where it loads (host code, ~50x faster to sign), else herumi's WebAssembly. */
const loadBls = (): Promise<Bls> => (blsImpl ??= import('@chainsafe/bls/blst-native').then((m) => m.default as unknown as Bls, async () => (await import('@chainsafe/bls/herumi')).default));

const gindexOf = (type: { getPathInfo(p: string[]): { gindex: bigint } }, path: string[]): bigint => type.getPathInfo(path).gindex;
const proofOf = (node: Tree['rootNode'], gindex: bigint): Uint8Array[] => new Tree(node).getSingleProof(gindex);
const periodOfSlot = (slot: number): number => Math.floor(slot / (SLOTS_PER_EPOCH * EPOCHS_PER_SYNC_COMMITTEE_PERIOD));

/**
 * Serve the Beacon light-client API over `devnet`'s blocks (see the module doc). Requires Lodestar's mainnet or
 * minimal preset active in this process (the anchor names it; the enclave refuses another, LC_PRESET_MISMATCH).
 */
export function devnetBeacon(devnet: Devnet, opts: DevnetBeaconOptions = {}): DevnetBeacon {
  const seed = hexToBytes(opts.seed ?? DEFAULT_BEACON_SEED);
  if (seed.length !== 32) throw new TypeError('devnetBeacon: seed must be 32 bytes');
  const stride = opts.slotsPerBlock ?? 1;
  const lag = opts.finalityLag ?? 2;
  if (!Number.isSafeInteger(stride) || stride < 1) throw new TypeError('devnetBeacon: slotsPerBlock must be an integer >= 1');
  if (!Number.isSafeInteger(lag) || lag < 1) throw new TypeError('devnetBeacon: finalityLag must be an integer >= 1');
  if (SYNC_COMMITTEE_SIZE % DEVNET_COMMITTEE_KEYS !== 0) throw new TypeError('devnetBeacon: the preset\'s committee size is not a multiple of 32');
  const genesisValidatorsRoot = sha256(new Uint8Array([...toBytes('geode.devnet.genesis-validators-root'), ...seed]));
  const chainConfig: Record<string, unknown> = { PRESET_BASE: ACTIVE_PRESET, GENESIS_FORK_VERSION: hexToBytes(GENESIS_FORK_VERSION) };
  for (const f of FORKS) {
    chainConfig[`${f.name.toUpperCase()}_FORK_VERSION`] = hexToBytes(f.version);
    chainConfig[`${f.name.toUpperCase()}_FORK_EPOCH`] = f.epoch;
  }
  chainConfig.FULU_FORK_EPOCH = Infinity;
  const config: BeaconConfig = createBeaconConfig(createChainForkConfig(chainConfig), genesisValidatorsRoot);
  const slotOf = (n: bigint): number => 1 + Number(n) * stride;
  const periodOf = (n: bigint): number => periodOfSlot(slotOf(n));
  const forkVersion = hexToBytes(FORKS[FORKS.length - 1]!.version);

  const G = {
    execution: gindexOf(ssz.electra.BlindedBeaconBlockBody, ['executionPayloadHeader']),
    finalized: gindexOf(ssz.electra.BeaconState, ['finalizedCheckpoint', 'root']),
    current: gindexOf(ssz.electra.BeaconState, ['currentSyncCommittee']),
    next: gindexOf(ssz.electra.BeaconState, ['nextSyncCommittee']),
  };

  const committees = new Map<number, Promise<Committee>>();
  const committee = (period: number): Promise<Committee> => {
    let c = committees.get(period);
    if (!c) {
      c = (async () => {
        const bls = await loadBls();
        const keys = Array.from({ length: DEVNET_COMMITTEE_KEYS }, (_, i) => {
          const ikm = sha256(new Uint8Array([...toBytes('geode.devnet.sync-committee'), ...seed, ...toBytes(`:${period}:${i}`)]));
          return bls.SecretKey.fromKeygen(ikm);
        });
        const pks = keys.map((k) => k.toPublicKey());
        const seats = Array.from({ length: SYNC_COMMITTEE_SIZE }, (_, i) => pks[i % DEVNET_COMMITTEE_KEYS]!);
        const value: altair.SyncCommittee = { pubkeys: seats.map((p) => p.toBytes()), aggregatePubkey: bls.PublicKey.aggregate(seats).toBytes() };
        return { value, keys, view: ssz.altair.SyncCommittee.toViewDU(value) };
      })();
      committees.set(period, c);
    }
    return c;
  };

  const built: Built[] = [];
  /** Execution block number by beacon root (0x hex), for bootstrap lookups. */
  const byRoot = new Map<Hex, number>();
  let state: ReturnType<typeof ssz.electra.BeaconState.defaultViewDU> | undefined;
  let building: Promise<void> = Promise.resolve();
  const blockAt = async (n: bigint): Promise<RpcBlockHeader & { hash: Hex; number: Hex }> => {
    const b = (await devnet.request({ method: 'eth_getBlockByNumber', params: [numberToHex(n), false] })) as (RpcBlockHeader & { hash: Hex; number: Hex }) | null;
    if (!b) throw new BeaconNotAvailableError(`execution block ${n} is not mined yet`);
    return b;
  };
  const buildNext = async (): Promise<void> => {
    const n = BigInt(built.length);
    const b = await blockAt(n);
    const slot = slotOf(n);
    const execution: electra.ExecutionPayloadHeader = {
      parentHash: hexToBytes(b.parentHash), feeRecipient: hexToBytes(b.miner), stateRoot: hexToBytes(b.stateRoot), receiptsRoot: hexToBytes(b.receiptsRoot),
      logsBloom: hexToBytes(b.logsBloom), prevRandao: hexToBytes(b.mixHash), blockNumber: Number(n), gasLimit: Number(BigInt(b.gasLimit)), gasUsed: Number(BigInt(b.gasUsed)),
      timestamp: Number(BigInt(b.timestamp)), extraData: hexToBytes(b.extraData), baseFeePerGas: BigInt(b.baseFeePerGas ?? 0), blockHash: hexToBytes(b.hash),
      transactionsRoot: ssz.bellatrix.Transactions.hashTreeRoot([]), withdrawalsRoot: ssz.capella.Withdrawals.hashTreeRoot([]),
      blobGasUsed: BigInt(b.blobGasUsed ?? 0), excessBlobGas: BigInt(b.excessBlobGas ?? 0),
    };
    const body = ssz.electra.BlindedBeaconBlockBody.defaultViewDU();
    body.executionPayloadHeader = ssz.electra.ExecutionPayloadHeader.toViewDU(execution);
    body.commit();
    const bodyRoot = body.hashTreeRoot();
    const parentRoot = n === 0n ? new Uint8Array(32) : built[Number(n) - 1]!.root;
    const proposerIndex = Number(n % BigInt(SYNC_COMMITTEE_SIZE));
    const period = periodOfSlot(slot);
    const [current, next] = await Promise.all([committee(period), committee(period + 1)]);
    const fin = n >= BigInt(lag) ? built[Number(n) - lag]! : undefined;
    state ??= ssz.electra.BeaconState.defaultViewDU();
    state.slot = slot;
    state.genesisValidatorsRoot = genesisValidatorsRoot;
    state.fork = ssz.phase0.Fork.toViewDU({ previousVersion: hexToBytes(FORKS[FORKS.length - 2]!.version), currentVersion: forkVersion, epoch: 0 });
    state.latestBlockHeader = ssz.phase0.BeaconBlockHeader.toViewDU({ slot, proposerIndex, parentRoot, stateRoot: new Uint8Array(32), bodyRoot });
    state.latestExecutionPayloadHeader = ssz.electra.ExecutionPayloadHeader.toViewDU(execution);
    state.currentSyncCommittee = current.view;
    state.nextSyncCommittee = next.view;
    state.finalizedCheckpoint = ssz.phase0.Checkpoint.toViewDU(fin ? { epoch: Math.floor(fin.header.beacon.slot / SLOTS_PER_EPOCH), root: fin.root } : { epoch: 0, root: new Uint8Array(32) });
    state.commit();
    const beacon = { slot, proposerIndex, parentRoot, stateRoot: state.hashTreeRoot(), bodyRoot };
    const header: deneb.LightClientHeader = { beacon, execution, executionBranch: proofOf(body.node, G.execution) };
    const root = ssz.phase0.BeaconBlockHeader.hashTreeRoot(beacon);
    byRoot.set(bytesToHex(root), built.length);
    built.push({
      number: n, header, root,
      finalityBranch: proofOf(state.node, G.finalized), currentCommitteeBranch: proofOf(state.node, G.current), nextCommitteeBranch: proofOf(state.node, G.next),
    });
  };
  /** The beacon block of execution block n, building every missing one before it (serialized: one shared state view). */
  const get = (n: bigint): Promise<Built> => {
    const run = building.then(async () => {
      while (BigInt(built.length) <= n) await buildNext();
      return built[Number(n)]!;
    });
    building = run.then(() => undefined, () => undefined);
    return run;
  };
  const head = async (): Promise<bigint> => BigInt((await devnet.request({ method: 'eth_blockNumber' })) as Hex);

  const signatures = new Map<string, Promise<altair.SyncAggregate>>();
  /** Every seat of the signature slot's committee signs the attested block root (altair/validator.md sync committee messages). */
  const syncAggregate = (attested: Built, signatureSlot: number): Promise<altair.SyncAggregate> => {
    const k = `${bytesToHex(attested.root)}:${signatureSlot}`;
    let s = signatures.get(k);
    if (!s) {
      s = (async () => {
        const bls = await loadBls();
        const c = await committee(periodOfSlot(signatureSlot));
        const domain = config.getDomain(Math.max(signatureSlot, 1) - 1, DOMAIN_SYNC_COMMITTEE);
        const signingRoot = ssz.phase0.SigningData.hashTreeRoot({ objectRoot: attested.root, domain });
        const sigs: Signature[] = c.keys.map((key) => key.sign(signingRoot));
        const bits = ssz.altair.SyncCommitteeBits.defaultValue();
        for (let i = 0; i < SYNC_COMMITTEE_SIZE; i++) bits.set(i, true);
        const all = Array.from({ length: SYNC_COMMITTEE_SIZE }, (_, i) => sigs[i % DEVNET_COMMITTEE_KEYS]!);
        return { syncCommitteeBits: bits, syncCommitteeSignature: bls.Signature.aggregate(all).toBytes() };
      })();
      if (signatures.size > 256) signatures.delete(signatures.keys().next().value!);
      signatures.set(k, s);
    }
    return s;
  };

  /** LightClientUpdate with attested block a signed in the slot of block a + 1. */
  const updateOf = async (a: bigint): Promise<electra.LightClientUpdate> => {
    const attested = await get(a);
    const signer = await get(a + 1n);
    const fin = await get(a - BigInt(lag));
    const next = await committee(periodOf(a) + 1);
    return {
      attestedHeader: attested.header, nextSyncCommittee: next.value, nextSyncCommitteeBranch: attested.nextCommitteeBranch,
      finalizedHeader: fin.header, finalityBranch: attested.finalityBranch,
      syncAggregate: await syncAggregate(attested, signer.header.beacon.slot), signatureSlot: signer.header.beacon.slot,
    };
  };
  const json = <T>(type: { toJson(v: T): unknown }, v: T): BeaconApiObject => ({ version: FORK, data: type.toJson(v) });
  /** The attested block of the head's finality/optimistic update: the head's parent, when it has a finalized block. */
  const attestedAtHead = async (): Promise<bigint> => {
    const h = await head();
    if (h < BigInt(lag) + 1n) throw new BeaconNotAvailableError(`the chain has ${h + 1n} blocks; a finality update needs ${lag + 2}`);
    return h - 1n;
  };

  return {
    slotOf,
    genesis: () => ({ genesis_time: '0', genesis_validators_root: bytesToHex(genesisValidatorsRoot), genesis_fork_version: GENESIS_FORK_VERSION }),
    forkSchedule: () => [{ version: GENESIS_FORK_VERSION, epoch: 0 }, ...FORKS].map((f, i, all) => ({ previous_version: (all[i - 1] ?? f).version, current_version: f.version, epoch: String(f.epoch) })),
    spec: () => ({
      PRESET_BASE: ACTIVE_PRESET, SECONDS_PER_SLOT: String(Math.max(1, Math.round((opts.slotMs ?? 1000) / 1000))), SLOTS_PER_EPOCH: String(SLOTS_PER_EPOCH),
      EPOCHS_PER_SYNC_COMMITTEE_PERIOD: String(EPOCHS_PER_SYNC_COMMITTEE_PERIOD), SYNC_COMMITTEE_SIZE: String(SYNC_COMMITTEE_SIZE),
    }),
    async anchor(checkpointBlock = 0n) {
      const b = await get(checkpointBlock);
      return {
        network: 'geode-devnet', preset: ACTIVE_PRESET as EthereumAnchorJson['preset'], checkpoint: bytesToHex(b.root),
        genesisValidatorsRoot: bytesToHex(genesisValidatorsRoot), genesisForkVersion: GENESIS_FORK_VERSION, forks: FORKS.map((f) => ({ ...f })),
      };
    },
    async bootstrap(blockRoot) {
      // Roots are looked up among the built blocks: a checkpoint is always one the anchor was made from.
      const i = byRoot.get(blockRoot.toLowerCase() as Hex);
      const b = i === undefined ? undefined : built[i];
      if (!b) throw new BeaconNotAvailableError(`no beacon block with root ${blockRoot}`);
      const c = await committee(periodOf(b.number));
      return json(ssz.electra.LightClientBootstrap, { header: b.header, currentSyncCommittee: c.value, currentSyncCommitteeBranch: b.currentCommitteeBranch });
    },
    async updates(startPeriod, count) {
      if (!Number.isSafeInteger(startPeriod) || startPeriod < 0 || !Number.isSafeInteger(count) || count < 1 || count > 128) throw new BeaconNotAvailableError('start_period must be >= 0 and count 1..128');
      const h = await head();
      const out: BeaconApiObject[] = [];
      for (let p = startPeriod; p < startPeriod + count; p++) {
        // The best update of period p (consensus-specs is_better_update; participation is full everywhere): the
        // latest attested block of p whose signing block is in p too (its finalized block is then as late as any).
        let a: bigint | undefined;
        for (let x = h - 1n; x >= BigInt(lag) && periodOf(x) >= p; x--) {
          if (periodOf(x) === p && periodOf(x + 1n) === p) { a = x; break; }
        }
        if (a === undefined) break; // Beacon API: the response ends at the first period without an update
        out.push(json(ssz.electra.LightClientUpdate, await updateOf(a)));
      }
      return out;
    },
    async finalityUpdate() {
      const u = await updateOf(await attestedAtHead());
      return json(ssz.electra.LightClientFinalityUpdate, { attestedHeader: u.attestedHeader, finalizedHeader: u.finalizedHeader, finalityBranch: u.finalityBranch, syncAggregate: u.syncAggregate, signatureSlot: u.signatureSlot });
    },
    async optimisticUpdate() {
      const u = await updateOf(await attestedAtHead());
      return json(ssz.electra.LightClientOptimisticUpdate, { attestedHeader: u.attestedHeader, syncAggregate: u.syncAggregate, signatureSlot: u.signatureSlot });
    },
  };
}
