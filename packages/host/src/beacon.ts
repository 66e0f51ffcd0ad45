import { encodeHeaderRlp, ethereumAnchorJson, UNSIGNED_HEADER_SIGNATURE, type BeaconSyncJson, type EthereumAnchorJson, type RpcBlockHeader, type SignedHeaderJson } from '@geode/protocol';
import { keccak256, type Hex, type PublicClient } from 'viem';
import { ChainError } from './errors.ts';

/**
 * Host side of the Ethereum light client (docs/protocol.md#ethereum-light-client): fetch what the enclave needs from
 * a Beacon API node (light-client bootstrap, period updates, finality update) and the matching execution header from
 * an execution JSON-RPC node. None of it is trusted — the enclave verifies every byte — so this module only
 * chooses what to send. Beacon API: ethereum/beacon-APIs /eth/v1/beacon/light_client/*.
 */

/** One Beacon API light-client object as served: `{"version", "data"}`. */
export interface BeaconObject { version: string; data: any }

/** The Beacon API reads the host needs. */
export interface BeaconSource {
  bootstrap(blockRoot: Hex): Promise<BeaconObject>;
  /** Best updates of periods start .. start + count - 1 (count <= 128). */
  updates(startPeriod: number, count: number): Promise<BeaconObject[]>;
  finalityUpdate(): Promise<BeaconObject>;
}

/** GET `path` from a Beacon API node as JSON, one retry. Errors: ChainError (HOST_CHAIN). */
async function beaconGet(base: string, path: string, opts: { fetch?: typeof fetch; timeoutMs?: number }): Promise<unknown> {
  const f = opts.fetch ?? fetch;
  let res: Response | undefined;
  // One retry: a pooled keep-alive connection the node closed while the host was busy fails once.
  for (let attempt = 0; !res; attempt++) {
    try {
      res = await f(`${base}${path}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
    } catch (e) {
      if (attempt >= 1) throw new ChainError(`Cannot reach the Beacon API at ${base}${path}`, { cause: e });
    }
  }
  if (!res.ok) throw new ChainError(`Beacon API ${base}${path} answered HTTP ${res.status}`);
  try {
    return await res.json();
  } catch (e) {
    throw new ChainError(`Beacon API ${base}${path} did not answer JSON`, { cause: e });
  }
}

/** A BeaconSource over HTTP (`fetch`), with a per-request timeout. Errors: ChainError (HOST_CHAIN) on any failure. */
export function beaconApi(baseUrl: string, opts: { fetch?: typeof fetch; timeoutMs?: number } = {}): BeaconSource {
  const base = baseUrl.replace(/\/+$/, '');
  const get = (path: string) => beaconGet(base, path, opts);
  return {
    bootstrap: async (root) => (await get(`/eth/v1/beacon/light_client/bootstrap/${root}`)) as BeaconObject,
    updates: async (start, count) => {
      const r = await get(`/eth/v1/beacon/light_client/updates?start_period=${start}&count=${count}`);
      if (!Array.isArray(r)) throw new ChainError('Beacon API light_client/updates did not answer an array');
      return r as BeaconObject[];
    },
    finalityUpdate: async () => (await get('/eth/v1/beacon/light_client/finality_update')) as BeaconObject,
  };
}

const FORK_NAMES = ethereumAnchorJson.shape.forks.element.shape.name.options;
const FAR_FUTURE_EPOCH = '18446744073709551615';

/**
 * The trust anchor of a network other than mainnet, read from its Beacon API: `genesis_validators_root` and
 * `genesis_fork_version` (/eth/v1/beacon/genesis), the fork schedule (/eth/v1/config/fork_schedule: phase0 first,
 * then Altair, Bellatrix, ... in spec order; forks at FAR_FUTURE_EPOCH are left out) and the preset
 * (/eth/v1/config/spec PRESET_BASE), with `checkpoint` from the deployer. The node is not trusted for safety: the
 * deployer picks the checkpoint, the bootstrap must hash to it, and a wrong root, version or epoch only makes every
 * signature or branch fail; the anchor then goes into the config hash like mainnet's. Mainnet's is pinned instead
 * (mainnetAnchor in the enclave's anchor.ts). Errors: ChainError (unreachable node, or an answer of another shape).
 */
export async function beaconNetworkAnchor(baseUrl: string, checkpoint: Hex, network: string, opts: { fetch?: typeof fetch; timeoutMs?: number } = {}): Promise<EthereumAnchorJson> {
  const base = baseUrl.replace(/\/+$/, '');
  const [genesis, schedule, spec] = await Promise.all(['/eth/v1/beacon/genesis', '/eth/v1/config/fork_schedule', '/eth/v1/config/spec'].map((p) => beaconGet(base, p, opts))) as { data: any }[];
  const forks = ((schedule?.data ?? []) as { current_version: string; epoch: string }[]).slice(1)
    .map((f, i) => ({ name: FORK_NAMES[i], version: f.current_version, epoch: f.epoch }))
    .filter((f) => f.name !== undefined && f.epoch !== FAR_FUTURE_EPOCH)
    .map((f) => ({ ...f, epoch: Number(f.epoch) }));
  const parsed = ethereumAnchorJson.safeParse({
    network, preset: String(spec?.data?.PRESET_BASE), checkpoint, genesisValidatorsRoot: genesis?.data?.genesis_validators_root,
    genesisForkVersion: genesis?.data?.genesis_fork_version, forks,
  });
  if (!parsed.success) throw new ChainError(`The Beacon API at ${base} does not describe a network Geode's light client can anchor to: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** A finalized execution header with the beacon data that proves it, and callbacks for the enclave's verdict. */
export interface EthereumHeader extends SignedHeaderJson {
  number: bigint;
  hash: Hex;
  beacon: BeaconSyncJson;
  /** The enclave accepted this header: later calls send only newer periods. */
  ack(): void;
  /** The enclave refused it: after a refused incremental attempt the next call starts from the checkpoint. */
  nack(): void;
}

const slotsPerPeriod = (preset: EthereumAnchorJson['preset']): number => (preset === 'mainnet' ? 32 * 256 : 8 * 8);
const committeeSize = (preset: EthereumAnchorJson['preset']): number => (preset === 'mainnet' ? 512 : 32);
const MAX_UPDATES = 128;

/**
 * What the host knows of the enclave's light-client store: its finalized slot and execution block (the header every
 * call must send), and whether it knows the next committee.
 */
interface StoreView { finalizedSlot: number; execution: { block_number: string; block_hash: Hex }; nextKnown: boolean }

const nonZero = (branch: unknown): boolean => Array.isArray(branch) && branch.some((b) => typeof b === 'string' && /[1-9a-f]/i.test(b.slice(2)));
const popcount = (hex: string): number => [...Buffer.from(hex.slice(2), 'hex')].reduce((n, b) => { let c = n; for (let x = b; x; x >>= 1) c += x & 1; return c; }, 0);

/**
 * The host's model of the enclave's store (the bookkeeping of consensus-specs process_light_client_update, without
 * the checks the enclave makes), so the host sends exactly the updates the store can use: `relevant` is the spec's
 * relevance condition (an irrelevant update is refused, LC_UPDATE_IRRELEVANT) and `apply` follows
 * apply_light_client_update. A wrong model costs one refused call (then the host restarts from the checkpoint), never
 * safety: the enclave verifies everything.
 */
function storeModel(preset: EthereumAnchorJson['preset']) {
  const perPeriod = slotsPerPeriod(preset);
  const size = committeeSize(preset);
  const period = (slot: number) => Math.floor(slot / perPeriod);
  const facts = (u: BeaconObject) => ({
    attested: Number(u.data.attested_header.beacon.slot),
    finalized: Number(u.data.finalized_header?.beacon.slot ?? 0),
    hasNext: nonZero(u.data.next_sync_committee_branch),
    hasFinality: nonZero(u.data.finality_branch),
    signers: popcount(String(u.data.sync_aggregate.sync_committee_bits)),
  });
  return {
    period,
    relevant(s: StoreView, u: BeaconObject): boolean {
      const f = facts(u);
      return f.attested > s.finalizedSlot || (!s.nextKnown && f.hasNext && period(f.attested) === period(s.finalizedSlot));
    },
    apply(s: StoreView, u: BeaconObject): StoreView {
      const f = facts(u);
      const learnsNext = !s.nextKnown && f.hasNext && f.hasFinality && period(f.finalized) === period(f.attested);
      if (f.signers * 3 < size * 2 || !(f.finalized > s.finalizedSlot || learnsNext)) return s;
      const nextKnown = !s.nextKnown || period(f.finalized) === period(s.finalizedSlot) + 1 ? f.hasNext : s.nextKnown;
      return f.finalized > s.finalizedSlot ? { finalizedSlot: f.finalized, execution: u.data.finalized_header.execution, nextKnown } : { ...s, nextKnown };
    },
  };
}

/**
 * Builds, for each call, the finalized execution header and the beacon data the enclave needs to reach it: the
 * finality update, and the period updates from the store's period to the finality update's attested period that the
 * store can use (storeModel). The host tracks the enclave's store through the calls the enclave accepted (`ack()`).
 * The first call, and the call after a refused (`nack()`) incremental one, start from the checkpoint's bootstrap (an
 * enclave that restarted lost its in-memory store); after a refused bootstrap attempt the next call is incremental
 * again.
 * `atLeast`: wait (polling every `pollMs`, default 12 s, up to `waitMs`) until the finalized execution block reaches it.
 * Errors: ChainError when the nodes disagree with each other or finality does not reach `atLeast` in time.
 */
export function ethereumHeaders(o: { anchor: EthereumAnchorJson; beacon: BeaconSource; publicClient: PublicClient; pollMs?: number; waitMs?: number }) {
  const model = storeModel(o.anchor.preset);
  let acked: StoreView | null = null;
  let restart = false;
  return async function finalizedHeader(atLeast?: bigint): Promise<EthereumHeader> {
    const deadline = Date.now() + (o.waitMs ?? 30 * 60_000);
    let fin = await o.beacon.finalityUpdate();
    while (atLeast !== undefined && BigInt(fin.data.finalized_header.execution.block_number) < atLeast) {
      if (Date.now() > deadline) throw new ChainError(`Ethereum finality did not reach block ${atLeast} in time (finalized: ${fin.data.finalized_header.execution.block_number})`);
      await new Promise((r) => setTimeout(r, o.pollMs ?? 12_000));
      fin = await o.beacon.finalityUpdate();
    }
    const fromCheckpoint = acked === null || restart;
    const beacon: BeaconSyncJson = {};
    let view: StoreView;
    if (fromCheckpoint) {
      const boot = await o.beacon.bootstrap(o.anchor.checkpoint as Hex);
      beacon.bootstrap = boot;
      view = { finalizedSlot: Number(boot.data.header.beacon.slot), execution: boot.data.header.execution, nextKnown: false };
    } else {
      view = acked!;
    }
    // Periods from the store's to the one whose committee signs the finality update's attested header.
    const start = model.period(view.finalizedSlot);
    const count = model.period(Number(fin.data.attested_header.beacon.slot)) - start + 1;
    if (count > MAX_UPDATES) throw new ChainError(`The enclave's light client is ${count} periods behind; more than ${MAX_UPDATES} per call is not supported: redeploy from a recent checkpoint`);
    const updates: BeaconObject[] = [];
    for (const u of count > 0 ? await o.beacon.updates(start, count) : []) {
      if (!model.relevant(view, u)) continue;
      updates.push(u);
      view = model.apply(view, u);
    }
    if (updates.length > 0) beacon.updates = updates;
    beacon.finalityUpdate = fin;
    view = model.apply(view, fin);
    // The store's finalized block after all of it (a period update fetched after the finality update may be newer).
    const number = BigInt(view.execution.block_number);
    const b = (await o.publicClient.request({ method: 'eth_getBlockByNumber', params: [`0x${number.toString(16)}`, false] })) as unknown as RpcBlockHeader & { hash: Hex };
    if (!b) throw new ChainError(`The execution node has no block ${number}`);
    const rlp = encodeHeaderRlp(b);
    const hash = keccak256(rlp);
    if (hash !== view.execution.block_hash) throw new ChainError(`The execution node's block ${number} is not the one the Beacon API finalized (${hash} vs ${view.execution.block_hash})`);
    const next = view;
    return {
      number, hash, rlp, signature: UNSIGNED_HEADER_SIGNATURE as Hex, beacon,
      ack: () => { acked = next; restart = false; },
      nack: () => { restart = !fromCheckpoint; },
    };
  };
}
