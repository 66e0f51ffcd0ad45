import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeHeaderRlp, type RpcBlockHeader } from '@geode/protocol';
import { startDevnet, type Devnet } from '@geode/devnet';
import { devnetBeacon } from '@geode/devnet/beacon';
import { syncLightClient } from '@geode/enclave/ethereum';
import { verifyExecutionHeader } from '@geode/enclave/ethereum';
import type { EthereumTrustAnchor } from '@geode/enclave/ethereum';
import type { Hex } from 'viem';

// The devnet's Beacon light-client API (packages/devnet/src/beacon.ts) against the enclave's real light client: what
// the devnet serves must verify with the code a mainnet deployment runs, and a mutation of it must not.

const mine = async (d: Devnet, n: number) => { for (let i = 0; i < n; i++) await d.request({ method: 'evm_mine' }); };
const block = async (d: Devnet, n: bigint) => (await d.request({ method: 'eth_getBlockByNumber', params: [`0x${n.toString(16)}`, false] })) as RpcBlockHeader & { hash: Hex };
const codeOf = (f: () => unknown): string => {
  try { f(); } catch (e) { return (e as { code?: string }).code ?? String(e); }
  return 'accepted';
};

test('devnet beacon: bootstrap, period update and finality update verify to the devnet\'s own finalized block', async () => {
  const d = await startDevnet();
  const beacon = devnetBeacon(d, { finalityLag: 2 });
  const anchor = (await beacon.anchor(0n)) as EthereumTrustAnchor;
  assert.equal(anchor.preset, 'mainnet');
  await mine(d, 6); // head 6: finality update attests block 5, finalizes block 3
  const boot = await beacon.bootstrap(anchor.checkpoint);
  assert.equal(boot.version, 'electra');
  const updates = await beacon.updates(0, 1);
  assert.equal(updates.length, 1, 'period 0 has an update');
  const fin = await beacon.finalityUpdate();
  const r = syncLightClient(anchor, null, { bootstrap: boot, updates, finalityUpdate: fin });
  assert.equal(r.finalized.execution.number, 3n);
  const b3 = await block(d, 3n);
  assert.equal(r.finalized.execution.hash, b3.hash);
  assert.equal(r.finalized.execution.stateRoot, b3.stateRoot);
  assert.equal(r.finalized.slot, beacon.slotOf(3n));
  assert.ok(r.store.nextSyncCommittee, 'the period update proved the next committee');
  assert.equal(verifyExecutionHeader(encodeHeaderRlp(b3), r.finalized.execution).number, 3n);

  // The same keys, chain and seed give the same roots (restarts are stable).
  const again = devnetBeacon(d, { finalityLag: 2 });
  assert.equal((await again.anchor(0n)).checkpoint, anchor.checkpoint);
  assert.deepEqual((await again.finalityUpdate()).data, fin.data);

  // Incremental: the store advances on a later finality update alone.
  await mine(d, 3);
  const r2 = syncLightClient(anchor, r.store, { finalityUpdate: await beacon.finalityUpdate() });
  assert.equal(r2.finalized.execution.number, 6n);
  assert.equal(r.store.finalizedHeader.beacon.slot, beacon.slotOf(3n), 'the earlier store value is untouched');
  await d.close();
});

test('devnet beacon: sync-committee periods rotate (8 blocks per period) and every period verifies in order', async () => {
  const d = await startDevnet();
  const slotsPerPeriod = 32 * 256;
  const beacon = devnetBeacon(d, { slotsPerBlock: slotsPerPeriod / 8, finalityLag: 2 });
  const anchor = (await beacon.anchor(0n)) as EthereumTrustAnchor;
  await mine(d, 30); // blocks 0..30, periods 0..3
  const boot = await beacon.bootstrap(anchor.checkpoint);
  const updates = await beacon.updates(0, 4);
  assert.equal(updates.length, 4);
  const fin = await beacon.finalityUpdate();
  const r = syncLightClient(anchor, null, { bootstrap: boot, updates, finalityUpdate: fin });
  assert.equal(r.finalized.execution.number, 27n);
  assert.equal(r.finalized.execution.hash, (await block(d, 27n)).hash);
  // Skipping a period's update cannot work: period 2's committee is unknown to a store of period 0.
  assert.equal(codeOf(() => syncLightClient(anchor, null, { bootstrap: boot, updates: [updates[0], updates[2]] })), 'LC_UPDATE_PERIOD');
  await d.close();
});

test('devnet beacon: mutated beacon data is refused with a typed LC_* code', async () => {
  const d = await startDevnet();
  const beacon = devnetBeacon(d);
  const anchor = (await beacon.anchor(0n)) as EthereumTrustAnchor;
  await mine(d, 6);
  const boot = await beacon.bootstrap(anchor.checkpoint);
  const store = syncLightClient(anchor, null, { bootstrap: boot, updates: await beacon.updates(0, 1) }).store;
  const fin = await beacon.finalityUpdate();
  const mutate = (f: (x: any) => void) => { const x = structuredClone(fin); f(x.data); return x; };
  const flip = (h: string) => `${h.slice(0, -2)}${h.endsWith('00') ? '01' : '00'}`;
  const cases: [string, (x: any) => void][] = [
    ['LC_SYNC_SIGNATURE', (x) => { x.sync_aggregate.sync_committee_signature = (fin.data.sync_aggregate.sync_committee_signature as string).replace(/^0x../, '0xa0'); }],
    ['LC_SYNC_SIGNATURE', (x) => { x.attested_header.beacon.proposer_index = '7'; }],
    ['LC_FINALITY_BRANCH', (x) => { x.finality_branch[0] = flip(x.finality_branch[0]); }],
    ['LC_EXECUTION_BRANCH', (x) => { x.finalized_header.execution.block_number = '4'; }],
    ['LC_EXECUTION_BRANCH', (x) => { x.finalized_header.execution.state_root = flip(x.finalized_header.execution.state_root); }],
    ['LC_UPDATE_SLOTS', (x) => { x.signature_slot = x.attested_header.beacon.slot; }],
  ];
  for (const [code, f] of cases) assert.equal(codeOf(() => syncLightClient(anchor, store, { finalityUpdate: mutate(f) })), code, code);
  const otherAnchor = { ...anchor, genesisValidatorsRoot: `0x${'11'.repeat(32)}` as Hex };
  assert.equal(codeOf(() => syncLightClient(otherAnchor, store, { finalityUpdate: fin })), 'LC_SYNC_SIGNATURE', 'another network\'s domain');
  assert.equal(syncLightClient(anchor, store, { finalityUpdate: fin }).finalized.execution.number, 3n, 'the unmutated update still verifies');
  await d.close();
});

test('devnet beacon over HTTP: the host\'s Beacon API client reads what the light client verifies; unknown objects are 404', async () => {
  const { serveDevnet } = await import('@geode/devnet');
  const { beaconApi } = await import('@geode/host');
  const d = await startDevnet();
  const beacon = devnetBeacon(d);
  const anchor = (await beacon.anchor(0n)) as EthereumTrustAnchor;
  const server = await serveDevnet(d, { beacon });
  try {
    const early = await fetch(`${server.url}/eth/v1/beacon/light_client/finality_update`);
    assert.equal(early.status, 404, 'no finality before lag + 2 blocks');
    await mine(d, 5);
    const api = beaconApi(server.url);
    const r = syncLightClient(anchor, null, { bootstrap: await api.bootstrap(anchor.checkpoint), updates: await api.updates(0, 1), finalityUpdate: await api.finalityUpdate() });
    assert.equal(r.finalized.execution.hash, (await block(d, 2n)).hash);
    assert.equal((await fetch(`${server.url}/eth/v1/beacon/light_client/bootstrap/0x${'00'.repeat(32)}`)).status, 404);
    assert.equal((await fetch(`${server.url}/eth/v1/beacon/light_client/updates?start_period=0&count=500`)).status, 400);
    const g = (await (await fetch(`${server.url}/eth/v1/beacon/genesis`)).json()) as { data: { genesis_validators_root: string } };
    assert.equal(g.data.genesis_validators_root, anchor.genesisValidatorsRoot);
  } finally {
    await server.close();
    await d.close();
  }
});
