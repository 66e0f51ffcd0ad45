// The enclave's header gate for an Ethereum deployment, on real mainnet data: the config's anchor hash, beacon data
// from the checkpoint to finality, then the execution header RLP of the finalized block (rebuilt from the full
// beacon block) — and the EnclaveRuntime wired to it through init/sessionSetPubKey.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ETHEREUM_SYNC_COMMITTEE_SIGNER, UNSIGNED_HEADER_SIGNATURE, encodeHeaderRlp, ethereumAnchorHash, type EthereumAnchorJson } from '@geode/protocol';
import { EnclaveRuntime } from '../src/index.ts';
import { ethereumGate, devnetGate } from '../src/lightclient/gate.ts';
import { mainnetAnchor } from '../src/lightclient/ethereum/index.ts';
import { finalizedExecutionHeader } from '../../../test/harness/mainnet-execution.ts';
import { counterApp } from './fixtures/counter-app.ts';
import { fakePlatform, GENESIS, LC_SIGNER, testConfig, tmpDir } from './helpers.ts';

const CAP = new URL('../../../../shared/fixtures/ethereum/helios-mainnet-capella/', import.meta.url);
const EXE = new URL('../../../../shared/fixtures/ethereum/helios-mainnet-execution/', import.meta.url);
const read = (base: URL, f: string): any => JSON.parse(readFileSync(new URL(f, base), 'utf8'));
const anchor = mainnetAnchor('0x5afc212a7924789b2bc86acad3ab3a6ffb1f6e97253ea50bee7f4f51422c9275') as EthereumAnchorJson;
const beacon = { bootstrap: read(CAP, 'bootstrap.json'), updates: read(CAP, 'updates.json'), finalityUpdate: read(CAP, 'finality.json') };
const code = (fn: () => unknown): string => { try { fn(); } catch (e) { return (e as { code: string }).code; } return 'accepted'; };

test('ethereum gate: beacon data to finality, then exactly the finalized execution header; trusted state moves only on commit', async () => {
  assert.equal(code(() => ethereumGate(anchor, `0x${'00'.repeat(32)}`)), 'LC_ANCHOR_INVALID');
  assert.equal(code(() => ethereumGate(undefined, ethereumAnchorHash(anchor))), 'LC_ANCHOR_INVALID');
  const gate = ethereumGate(anchor, ethereumAnchorHash(anchor));
  const { rlp } = await finalizedExecutionHeader();
  const other = encodeHeaderRlp(read(EXE, 'block.json'));
  const zero = UNSIGNED_HEADER_SIGNATURE as `0x${string}`;
  assert.equal(code(() => gate.verify({ rlp, signature: `0x${'11'.repeat(65)}` }, beacon)), 'LC_HEADER_SIGNATURE');
  assert.equal(code(() => gate.verify({ rlp, signature: zero }, undefined)), 'LC_BEACON_DECODE'); // no store, no bootstrap
  assert.equal(code(() => gate.verify({ rlp: other, signature: zero }, beacon)), 'LC_EXECUTION_BLOCK_MISMATCH');
  const tampered = structuredClone(beacon);
  tampered.finalityUpdate.data.sync_aggregate.sync_committee_signature = `0x${'cd'.repeat(96)}`;
  assert.equal(code(() => gate.verify({ rlp, signature: zero }, tampered)), 'LC_SYNC_SIGNATURE');
  assert.equal(gate.trustedNumber(), 0n);
  const ok = gate.verify({ rlp, signature: zero }, beacon);
  assert.equal(ok.header.number, 17923026n);
  assert.equal(ok.header.stateRoot, '0x226f5ff47ab3725b5a4a3afc74b1e79e4aa3a29704561eccce590e58900baec3');
  assert.equal(gate.trustedNumber(), 0n);
  ok.commit();
  assert.equal(gate.trustedNumber(), 17923026n);
  // The store is kept: the same header needs no beacon data now, and a second bootstrap is refused.
  assert.equal(gate.verify({ rlp, signature: zero }, undefined).header.number, 17923026n);
  assert.equal(code(() => gate.verify({ rlp, signature: zero }, { bootstrap: beacon.bootstrap })), 'LC_BEACON_DECODE');
  // A devnet gate refuses beacon data.
  assert.equal(code(() => devnetGate({ chainId: 1n, signer: LC_SIGNER, genesisHash: GENESIS }).verify({ rlp, signature: zero }, beacon)), 'LC_BEACON_DECODE');
});

test('runtime: an Ethereum config binds the anchor by hash; sessionSetPubKey passes the gate and then checks the proof at the finalized state root', async () => {
  const config = { ...testConfig(), lcSigner: ETHEREUM_SYNC_COMMITTEE_SIGNER, lcGenesisHash: ethereumAnchorHash(anchor), ethereumAnchor: anchor };
  const mk = () => new EnclaveRuntime(counterApp, { dataDir: tmpDir(), platform: fakePlatform, log: () => {} });
  const bad = mk();
  await assert.rejects(bad.handle('init', { config: { ...config, ethereumAnchor: { ...anchor, checkpoint: `0x${'22'.repeat(32)}` } } }), (e: { code: string }) => e.code === 'LC_ANCHOR_INVALID');
  await assert.rejects(mk().handle('init', { config: { ...testConfig(), ethereumAnchor: anchor } }), (e: { code: string }) => e.code === 'LC_ANCHOR_INVALID');
  const rt = mk();
  await rt.handle('init', { config });
  await rt.handle('sessionCreate', {});
  const { rlp } = await finalizedExecutionHeader();
  // No GeodeCore exists on mainnet, and the only eth_getProof fixture is another account's at another block: the
  // gate accepts the header and beacon data, the proof check after it refuses (LC_ACCOUNT_PROOF), and neither the
  // trusted block nor the beacon store moves (the next call without beacon data finds no store).
  await assert.rejects(rt.handle('sessionSetPubKey', { sessionId: '1', header: { rlp, signature: UNSIGNED_HEADER_SIGNATURE }, proof: read(EXE, 'proof.json'), beacon }), (e: { code: string }) => e.code === 'LC_ACCOUNT_PROOF');
  assert.equal(((await rt.handle('status', {})) as { trustedBlock: string }).trustedBlock, '0');
  await assert.rejects(rt.handle('sessionSetPubKey', { sessionId: '1', header: { rlp, signature: UNSIGNED_HEADER_SIGNATURE }, proof: read(EXE, 'proof.json') }), (e: { code: string }) => e.code === 'LC_BEACON_DECODE');
});

test('ethereum gate: the store is sealed on commit and restored after a restart; a broken sealed store is ignored', async () => {
  const { rlp } = await finalizedExecutionHeader();
  const zero = UNSIGNED_HEADER_SIGNATURE as `0x${string}`;
  let saved: string | null = null;
  let saves = 0;
  const sealed = { load: () => (saved ? JSON.parse(saved) : null), save: (j: unknown) => { saved = JSON.stringify(j); saves++; } };
  const g1 = ethereumGate(anchor, ethereumAnchorHash(anchor), sealed);
  g1.verify({ rlp, signature: zero }, beacon).commit();
  assert.equal(saves, 1);
  g1.verify({ rlp, signature: zero }, undefined).commit(); // nothing moved: no write
  assert.equal(saves, 1);
  // "Restart": a new gate restores the store and needs no bootstrap or updates.
  const g2 = ethereumGate(anchor, ethereumAnchorHash(anchor), sealed);
  assert.equal(g2.verify({ rlp, signature: zero }, { finalityUpdate: beacon.finalityUpdate }).header.number, 17923026n);
  const logs: string[] = [];
  const g3 = ethereumGate(anchor, ethereumAnchorHash(anchor), { load: () => ({ finalizedHeader: 42 }) as never, save: () => {}, log: (l) => logs.push(l) });
  assert.equal(code(() => g3.verify({ rlp, signature: zero }, undefined)), 'LC_BEACON_DECODE');
  assert.equal(logs.length, 1);
});
