// Ethereum sync-committee light client on real mainnet data (helios fixtures, Capella): bootstrap from the
// weak-subjectivity checkpoint, six period updates, the finality update; then bit flips anywhere in the SSZ of the
// bootstrap and of every update are refused with a typed LC_* error and leave the store as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ssz, type capella } from '@lodestar/types';
import { GeodeError } from '@geode/protocol';
import {
  beaconConfigOf, checkAnchor, decodeJson, decodeSsz, mainnetAnchor, processUpdate, storeToJson, syncLightClient, updateOfFinality, verifyBootstrap,
  type BeaconStore,
} from '../src/lightclient/ethereum/index.ts';
import { LC_ERROR_CODES } from '../src/errors.ts';
import { LightclientSpec } from '@lodestar/light-client/spec';
import { bytesToHex } from 'viem';

const FIX = new URL('../../../../shared/fixtures/ethereum/helios-mainnet-capella/', import.meta.url);
const read = (f: string): any => JSON.parse(readFileSync(new URL(f, FIX), 'utf8'));
const CHECKPOINT = '0x5afc212a7924789b2bc86acad3ab3a6ffb1f6e97253ea50bee7f4f51422c9275';
const anchor = mainnetAnchor(CHECKPOINT);
const config = beaconConfigOf(anchor);
const bootstrapJson = read('bootstrap.json');
const updatesJson: unknown[] = read('updates.json');
const finalityJson = read('finality.json');

/** Assert `fn` throws a GeodeError with an LC_* code from the enclave's list (or one of `codes`). */
function refused(fn: () => unknown, codes?: readonly string[]): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GeodeError, `not a GeodeError: ${String(e)}`);
    assert.ok((LC_ERROR_CODES as readonly string[]).includes(e.code), `unexpected code ${e.code}`);
    if (codes) assert.ok(codes.includes(e.code), `code ${e.code} not in ${codes.join(',')}`);
    assert.ok(e.message.length > 20 && e.docsPath);
    return e.code;
  }
  assert.fail('accepted');
}

test('mainnet: checkpoint -> 6 period updates -> finality reaches slot 7109344, block 17923026, its state root', () => {
  const r = syncLightClient(anchor, null, { bootstrap: bootstrapJson, updates: updatesJson, finalityUpdate: finalityJson });
  assert.equal(r.finalized.slot, 7109344);
  assert.equal(r.finalized.execution.number, 17923026n);
  assert.equal(r.finalized.execution.stateRoot, '0x226f5ff47ab3725b5a4a3afc74b1e79e4aa3a29704561eccce590e58900baec3');
  // The finalized beacon block's execution payload (fixture blocks/7109344.json) is the same execution block.
  const block = read('blocks/7109344.json');
  const payload = block.data?.message?.body?.execution_payload ?? block.message?.body?.execution_payload;
  assert.equal(r.finalized.execution.hash, payload.block_hash);
  assert.equal(r.finalized.execution.number, BigInt(payload.block_number));
  // Every update moved the store forward one period: the committee of period 868 is known at the end.
  assert.equal(Math.floor(r.store.finalizedHeader.beacon.slot / 8192), 867);
  assert.ok(r.store.nextSyncCommittee !== null);
});

test('mainnet: the checkpoint is the only bootstrap accepted, and the anchor and labels are checked', () => {
  const other = mainnetAnchor(`0x${'11'.repeat(32)}`);
  refused(() => syncLightClient(other, null, { bootstrap: bootstrapJson }), ['LC_CHECKPOINT_MISMATCH']);
  refused(() => checkAnchor({ ...anchor, checkpoint: '0x1234' }), ['LC_ANCHOR_INVALID']);
  refused(() => checkAnchor({ ...anchor, preset: 'minimal' }), ['LC_PRESET_MISMATCH']);
  refused(() => checkAnchor({ ...anchor, forks: [...anchor.forks].reverse() }), ['LC_ANCHOR_INVALID']);
  // A Capella update relabelled deneb: the schedule says capella at that slot.
  refused(() => decodeJson(config, 'LightClientUpdate', { ...(updatesJson[0] as object), version: 'deneb' }), ['LC_FORK_MISMATCH', 'LC_BEACON_DECODE']);
  refused(() => decodeJson(config, 'LightClientUpdate', { ...(updatesJson[0] as object), version: 'altair' }), ['LC_PRE_CAPELLA_HEADER']);
  refused(() => decodeJson(config, 'LightClientUpdate', { version: 'capella', data: { hello: 1 } }), ['LC_BEACON_DECODE']);
  // Updates out of order: period 864's update on the bootstrap store (period 862, next committee unknown).
  const s0 = verifyBootstrap(config, anchor, decodeJson(config, 'LightClientBootstrap', bootstrapJson));
  refused(() => processUpdate(config, s0, decodeJson(config, 'LightClientUpdate', updatesJson[2])), ['LC_UPDATE_PERIOD']);
  refused(() => syncLightClient(anchor, s0, { updates: new Array(129).fill(updatesJson[0]) }), ['LC_TOO_MANY_UPDATES']);
});

/** The honest stores: stores[0] after bootstrap, stores[i + 1] after update i, the last after the finality update. */
function honestChain(): { stores: BeaconStore[]; updates: Uint8Array[] } {
  const stores = [verifyBootstrap(config, anchor, decodeJson(config, 'LightClientBootstrap', bootstrapJson))];
  const updates = updatesJson.map((u) => ssz.capella.LightClientUpdate.serialize(decodeJson(config, 'LightClientUpdate', u) as never));
  for (const u of updates) stores.push(processUpdate(config, stores.at(-1)!, decodeSsz(config, 'LightClientUpdate', 'capella', u)));
  updates.push(ssz.capella.LightClientUpdate.serialize(updateOfFinality(config, decodeJson(config, 'LightClientFinalityUpdate', finalityJson)) as never));
  stores.push(processUpdate(config, stores.at(-1)!, decodeSsz(config, 'LightClientUpdate', 'capella', updates.at(-1)!)));
  return { stores, updates };
}

const flip = (bytes: Uint8Array, bit: number): Uint8Array => {
  const c = Uint8Array.from(bytes);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

test('mutations: a flipped bit anywhere in the bootstrap is refused with a typed error', () => {
  const honest = ssz.capella.LightClientBootstrap.serialize(decodeJson(config, 'LightClientBootstrap', bootstrapJson) as never);
  fc.assert(fc.property(fc.integer({ min: 0, max: honest.length * 8 - 1 }), (bit) => {
    refused(() => verifyBootstrap(config, anchor, decodeSsz(config, 'LightClientBootstrap', 'capella', flip(honest, bit))));
  }), { numRuns: 150, seed: 11 });
});

test('mutations: a flipped bit in any update (signature, bits, headers, branches, committee keys) is refused and the store stays', () => {
  const { stores, updates } = honestChain();
  // Byte ranges of the fields of a Capella LightClientUpdate (fixed part + variable headers), for the one field the
  // spec leaves unsigned: signature_slot only selects the committee period and fork domain, so flips that keep both
  // verify and yield the honest store; everything else must be refused.
  const sigSlotOffset = (u: Uint8Array): number => u.length - 8;
  // The 512 committee keys (bytes 4 .. 4 + 24624) dominate the bytes; positions are drawn from them one time in
  // four and from everything else (offsets, branches, aggregate, signature_slot, both headers) otherwise.
  const COMMITTEE = [4, 4 + 512 * 48 + 48];
  const position = fc.oneof(
    { arbitrary: fc.integer({ min: COMMITTEE[0]! * 8, max: COMMITTEE[1]! * 8 - 1 }), weight: 1 },
    { arbitrary: fc.nat().map((x) => -1 - x), weight: 3 },
  );
  fc.assert(fc.property(fc.integer({ min: 0, max: updates.length - 1 }), position, (i, pos) => {
    const honest = updates[i]!;
    const outside = [[0, COMMITTEE[0]! * 8], [COMMITTEE[1]! * 8, honest.length * 8]] as const;
    const span = outside[0][1] + (outside[1][1] - outside[1][0]);
    const o = (-1 - pos) % span;
    const bit = pos >= 0 ? pos : o < outside[0][1] ? o : outside[1][0] + o - outside[0][1];
    const before = JSON.stringify(storeToJson(config, stores[i]!));
    const mutated = flip(honest, bit);
    const sigSlotByte = (bit >> 3) - sigSlotOffset(honest);
    try {
      const next = processUpdate(config, stores[i]!, decodeSsz(config, 'LightClientUpdate', 'capella', mutated));
      assert.ok(sigSlotByte >= 0 && sigSlotByte < 8, `accepted a flip at bit ${bit} of update ${i} outside signature_slot`);
      assert.deepEqual(storeToJson(config, next), storeToJson(config, stores[i + 1]!));
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(e instanceof GeodeError && (LC_ERROR_CODES as readonly string[]).includes(e.code), `untyped refusal ${String(e)}`);
    }
    assert.equal(JSON.stringify(storeToJson(config, stores[i]!)), before);
  }), { numRuns: 250, seed: 7 });
});

test('mutations: targeted fields give their own codes', () => {
  const { stores, updates } = honestChain();
  // decodeSsz returns the cross-fork union; these bytes are Capella containers.
  const u = (i: number) => decodeSsz(config, 'LightClientUpdate', 'capella', updates[i]!) as capella.LightClientUpdate;
  const s = stores[0]!;
  const cases: [string, (x: ReturnType<typeof u>) => void, string][] = [
    ['signature', (x) => { x.syncAggregate.syncCommitteeSignature[5]! ^= 1; }, 'LC_SYNC_SIGNATURE'],
    ['participation bit', (x) => { x.syncAggregate.syncCommitteeBits.set(0, !x.syncAggregate.syncCommitteeBits.get(0)); }, 'LC_SYNC_SIGNATURE'],
    ['attested proposer', (x) => { x.attestedHeader.beacon.proposerIndex += 1; }, 'LC_SYNC_SIGNATURE'],
    ['attested state root', (x) => { x.attestedHeader.beacon.stateRoot[0]! ^= 1; }, 'LC_FINALITY_BRANCH'],
    ['attested execution state root', (x) => { x.attestedHeader.execution.stateRoot[0]! ^= 1; }, 'LC_EXECUTION_BRANCH'],
    ['attested execution branch', (x) => { x.attestedHeader.executionBranch[2]![0]! ^= 1; }, 'LC_EXECUTION_BRANCH'],
    ['finalized slot', (x) => { x.finalizedHeader.beacon.slot += 1; }, 'LC_FINALITY_BRANCH'],
    ['finalized execution block number', (x) => { x.finalizedHeader.execution.blockNumber += 1; }, 'LC_EXECUTION_BRANCH'],
    ['finality branch', (x) => { x.finalityBranch[0]![31]! ^= 1; }, 'LC_FINALITY_BRANCH'],
    ['next committee key', (x) => { x.nextSyncCommittee.pubkeys[17]![3]! ^= 1; }, 'LC_SYNC_COMMITTEE_BRANCH'],
    ['next committee aggregate key', (x) => { x.nextSyncCommittee.aggregatePubkey[3]! ^= 1; }, 'LC_SYNC_COMMITTEE_BRANCH'],
    ['next committee branch', (x) => { x.nextSyncCommitteeBranch[4]![0]! ^= 1; }, 'LC_SYNC_COMMITTEE_BRANCH'],
    ['slots out of order', (x) => { x.signatureSlot = x.attestedHeader.beacon.slot; }, 'LC_UPDATE_SLOTS'],
    ['no signers (MIN_SYNC_COMMITTEE_PARTICIPANTS is 1)', (x) => { for (let k = 0; k < 512; k++) x.syncAggregate.syncCommitteeBits.set(k, false); }, 'LC_SYNC_PARTICIPATION'],
    ['one signer left: its key alone does not verify the aggregate', (x) => { for (let k = 0; k < 512; k++) x.syncAggregate.syncCommitteeBits.set(k, k === 0); }, 'LC_SYNC_SIGNATURE'],
  ];
  for (const [name, mutate, code] of cases) {
    const x = u(0);
    mutate(x);
    const before = JSON.stringify(storeToJson(config, s));
    assert.equal(refused(() => processUpdate(config, s, x)), code, name);
    assert.equal(JSON.stringify(storeToJson(config, s)), before, name);
  }
  // Bootstrap: committee key and branch.
  const b = decodeJson(config, 'LightClientBootstrap', bootstrapJson);
  b.currentSyncCommittee.pubkeys[0]![1]! ^= 1;
  refused(() => verifyBootstrap(config, anchor, b), ['LC_SYNC_COMMITTEE_BRANCH']);
  // Replaying an already applied update is irrelevant (not newer, supplies nothing).
  refused(() => processUpdate(config, stores[2]!, u(0)), ['LC_UPDATE_IRRELEVANT', 'LC_UPDATE_PERIOD']);
});

test('differential: Lodestar\'s own LightclientSpec (native blst) reaches the same finalized and optimistic headers after every step', () => {
  const { stores } = honestChain();
  const spec = new LightclientSpec(config, { allowForcedUpdates: false, updateHeadersOnForcedUpdate: false }, decodeJson(config, 'LightClientBootstrap', bootstrapJson));
  const root = (h: { beacon: Parameters<typeof ssz.phase0.BeaconBlockHeader.hashTreeRoot>[0] }) => bytesToHex(ssz.phase0.BeaconBlockHeader.hashTreeRoot(h.beacon));
  const same = (i: number) => {
    assert.equal(root(spec.store.finalizedHeader), root(stores[i]!.finalizedHeader), `finalized after step ${i}`);
    assert.equal(root(spec.store.optimisticHeader), root(stores[i]!.optimisticHeader), `optimistic after step ${i}`);
  };
  same(0);
  updatesJson.forEach((u, i) => {
    const x = decodeJson(config, 'LightClientUpdate', u);
    spec.onUpdate(x.signatureSlot, x);
    same(i + 1);
  });
  const f = decodeJson(config, 'LightClientFinalityUpdate', finalityJson);
  spec.onFinalityUpdate(f.signatureSlot, f);
  same(updatesJson.length + 1);
  assert.equal(spec.store.finalizedHeader.beacon.slot, 7109344);
});
