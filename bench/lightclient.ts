/**
 * Ethereum light-client benchmark (npm run bench:lightclient), on the real mainnet fixtures.
 *
 * 1. One sync-committee period update applied (processUpdate: decode checks, 3 Merkle branches, 512-key
 *    FastAggregateVerify), committee keys already decoded — against the bare BLS aggregate verification of the same
 *    signature by the same participants (herumi, keys pre-decoded), measured in this run. The one-off cost of
 *    decoding a new period's 512 keys (once per ~27 h on mainnet) is printed against the same reference.
 * 2. One finality update applied — against the same bare aggregate verification of its own signature.
 * 3. One execution header + account + storage proof (helios-mainnet-execution: header hash link to the payload
 *    header, then eth_getProof) — against the existing devnet light-client path on the same proof (a secp256k1
 *    signed header, verifySignedHeader + verifyStorageProof).
 * Figures are medians of several batches. No assertions: the figures and ratios are printed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ssz } from '@lodestar/types';
import { DOMAIN_SYNC_COMMITTEE } from '@lodestar/params';
import { hexToBytes, keccak256, toHex, type Address, type Hex } from 'viem';
import { blockSigningDigest, encodeHeaderRlp, decodeHeader, type RpcBlockHeader, type StorageProofJson } from '@geode/protocol';
import {
  beaconConfigOf, beaconRootOf, periodAt, storePeriod, decodeJson, mainnetAnchor, processUpdate, updateOfFinality, verifyBootstrap, verifyExecutionHeader,
  type BeaconStore,
} from '../packages/enclave/src/lightclient/ethereum/index.ts';
import { fastAggregateVerify, publicKeysOf } from '../packages/enclave/src/lightclient/ethereum/bls.ts';
import { verifySignedHeader, verifyStorageProof } from '../packages/enclave/src/lightclient/index.ts';
import { addressOfPublicKey } from '../packages/enclave/src/keys.ts';
import type { LightClientUpdate } from '@lodestar/types';

const FIX = fileURLToPath(new URL('../../shared/fixtures/ethereum/', import.meta.url));
const json = (f: string): any => JSON.parse(readFileSync(FIX + f, 'utf8'));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Median per-call milliseconds over `batches` batches of `n` calls, after one warm-up batch. */
async function time(fn: () => unknown, n: number, batches = 7): Promise<number> {
  for (let i = 0; i < n; i++) await fn();
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn();
    per.push(Number(process.hrtime.bigint() - t0) / 1e6 / n);
  }
  return median(per);
}

const anchor = mainnetAnchor('0x5afc212a7924789b2bc86acad3ab3a6ffb1f6e97253ea50bee7f4f51422c9275');
const config = beaconConfigOf(anchor);
const updates = (json('helios-mainnet-capella/updates.json') as unknown[]).map((u) => decodeJson(config, 'LightClientUpdate', u));
const stores: BeaconStore[] = [verifyBootstrap(config, anchor, decodeJson(config, 'LightClientBootstrap', json('helios-mainnet-capella/bootstrap.json')))];
for (const u of updates) stores.push(processUpdate(config, stores.at(-1)!, u));
const finality = updateOfFinality(config, decodeJson(config, 'LightClientFinalityUpdate', json('helios-mainnet-capella/finality.json')));

/** The bare BLS work of an update signed by `committee`: FastAggregateVerify with pre-decoded keys. */
function bareVerify(store: BeaconStore, u: LightClientUpdate): { run: () => boolean; signers: number } {
  const committee = periodAt(u.signatureSlot) === storePeriod(store) ? store.currentSyncCommittee : store.nextSyncCommittee!;
  const keys = publicKeysOf(committee.pubkeys)!;
  const signers = u.syncAggregate.syncCommitteeBits.getTrueBitIndexes();
  const participants = signers.map((i) => keys[i]!);
  const root = ssz.phase0.SigningData.hashTreeRoot({ objectRoot: beaconRootOf(u.attestedHeader), domain: config.getDomain(Math.max(u.signatureSlot, 1) - 1, DOMAIN_SYNC_COMMITTEE) });
  const sig = u.syncAggregate.syncCommitteeSignature;
  return { run: () => { if (!fastAggregateVerify(participants, root, sig)) throw new Error('reference failed'); return true; }, signers: signers.length };
}

const rows: string[][] = [['operation', 'ms', 'reference', 'ref ms', 'ratio']];
const row = (op: string, ms: number, ref: string, refMs: number) => rows.push([op, ms.toFixed(2), ref, refMs.toFixed(2), `${(ms / refMs).toFixed(2)}x`]);

// 1. Period update 2 (period 864) on the store after update 1; keys of its committee are cached by the chain above.
{
  const u = updates[2]!;
  const ref = bareVerify(stores[2]!, u);
  const tRef = await time(ref.run, 5);
  const tUpd = await time(() => processUpdate(config, stores[2]!, u), 5);
  row(`period update applied (${ref.signers}/512 signers, keys cached)`, tUpd, 'bare FastAggregateVerify', tRef);
  const tDecode = await time(() => publicKeysOf(stores[2]!.currentSyncCommittee.pubkeys), 1, 3);
  row('  one-off: decode a new period\'s 512 committee keys', tDecode, 'bare FastAggregateVerify', tRef);
}
// 2. Finality update on the final period store.
{
  const s = stores.at(-1)!;
  const ref = bareVerify(s, finality);
  const tRef = await time(ref.run, 5);
  const tFin = await time(() => processUpdate(config, s, finality), 5);
  row(`finality update applied (${ref.signers}/512 signers)`, tFin, 'bare FastAggregateVerify', tRef);
}
// 3. Execution header + account + storage proof, against the devnet light-client path on the same proof.
{
  const block = json('helios-mainnet-execution/block.json') as RpcBlockHeader;
  const proof = json('helios-mainnet-execution/proof.json') as StorageProofJson;
  const keys = proof.storageProof.map((s) => s.key as Hex);
  const rlp = encodeHeaderRlp(block);
  const h = decodeHeader(rlp);
  const expected = { number: h.number, hash: h.hash, stateRoot: h.stateRoot, timestamp: h.timestamp };
  const eth = async () => verifyStorageProof(verifyExecutionHeader(rlp, expected).stateRoot, proof, proof.address as Address, keys);
  const key = hexToBytes(keccak256(toHex('bench-block-signer')));
  const signer = addressOfPublicKey(secp256k1.getPublicKey(key, false));
  const sig = secp256k1.sign(hexToBytes(blockSigningDigest(1n, h.number, h.hash)), key, { prehash: false, format: 'recovered' });
  const signature = toHex(new Uint8Array([...sig.subarray(1), sig[0]! + 27]));
  const devAnchor = { chainId: 1n, signer, genesisHash: `0x${'00'.repeat(32)}` as Hex };
  const dev = async () => verifyStorageProof(verifySignedHeader({ number: h.number - 1n, hash: h.parentHash }, { rlp, signature }, devAnchor).stateRoot, proof, proof.address as Address, keys);
  await dev();
  const tDev = await time(dev, 20);
  const tEth = await time(eth, 20);
  row(`execution header + account + ${keys.length} storage proof(s)`, tEth, 'devnet signed header + same proofs', tDev);
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
