// Test-only helpers: a chain-free "fake chain" that produces signed headers and real EIP-1186 proofs
// (built with @ethereumjs/mpt), a fake contract storage mimicking GeodeCore, and a client that encrypts requests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMPT, createMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, concatHex, hexToBytes, keccak256, numberToHex, toHex, type Address, type Hex } from 'viem';
import {
  ACC_ZERO, ROOT_ZERO, HPKE_INFO, SESSION_STATUS, SLOT, accumulatorStep, blockSigningDigest, encodeEnvelope, encodeHeaderRlp,
  encodePublicRequest, encodeRegisterKeyBody, hpkeDeriveKeyPair, hpkeOpen, hpkeSeal, mappingSlot, requestAad, outputAad,
  decodeOutputs, decodeOutputMessage, SESSION_FIELD, type ConfigJson, type OutputMessage, type StorageProofJson,
} from '@geode/protocol';
import { EnclaveRuntime, type EnclaveApp, type Platform, addressOfPublicKey } from '../src/index.ts';
import { deriveSimSealingKey } from '../src/platform/sim.ts';

/**
 * The state root of raw store pairs computed from scratch: a fresh @ethereumjs/mpt trie (no key hashing) with every
 * [key || 0x00, value] put, 0x00..00 for none (docs/protocol.md#state-root). Independent of the store's incremental trie.
 */
export async function rootOfPairs(pairs: Iterable<readonly [Uint8Array, Uint8Array]>): Promise<Hex> {
  const trie = await createMPT({});
  let any = false;
  for (const [k, v] of pairs) { await trie.put(Uint8Array.from([...k, 0]), v); any = true; }
  return any ? bytesToHex(trie.root()) : ROOT_ZERO;
}

export const tmpDir = (): string => mkdtempSync(join(tmpdir(), 'geode-enclave-'));

export const LC_KEY = hexToBytes(keccak256(toHex('test-block-signer')));
export const LC_SIGNER = addressOfPublicKey(secp256k1.getPublicKey(LC_KEY));
export const CONTRACT: Address = '0x00000000000000000000000000000000c0ffee01';
export const MEASUREMENT = hexToBytes(keccak256(toHex('test-measurement')));
export const GENESIS: Hex = keccak256(toHex('genesis'));

/** A fake platform: the "quote" is the 64-byte report data itself; files are sealed under a fixed test secret. */
export const fakePlatform: Platform = {
  teeType: 'sgx-sim', simulated: true, measurement: MEASUREMENT, mrEnclave: MEASUREMENT, mrSigner: new Uint8Array(32),
  sealing: { kind: 'simulated', sealingKey: (ctx) => deriveSimSealingKey(new Uint8Array(32).fill(7), MEASUREMENT, ctx) },
  evidence: (rd) => ({ kind: 'dcap-quote', quote: new Uint8Array(rd) }),
};

export function testConfig(): ConfigJson {
  return {
    chainId: '31337', contract: CONTRACT, measurements: [bytesToHex(MEASUREMENT)], attestationVerifier: '0x00000000000000000000000000000000000000aa',
    lcSigner: LC_SIGNER, lcGenesisHash: GENESIS, policyHash: keccak256(toHex('policy')), admin: '0x00000000000000000000000000000000000000ad',
  };
}

const b32 = (v: bigint): Hex => numberToHex(v, { size: 32 });

export function signHeader(rlp: Hex, number: bigint, key = LC_KEY, chainId = 31337n): Hex {
  const hash = keccak256(rlp);
  const sig = secp256k1.sign(hexToBytes(blockSigningDigest(chainId, number, hash)), key, { prehash: false, format: 'recovered' });
  const out = new Uint8Array(65);
  out.set(sig.subarray(1), 0);
  out[64] = 27 + sig[0]!;
  return bytesToHex(out);
}

/** A block: signed header + proof factory over a snapshot of storage. */
export interface FakeBlock {
  number: bigint;
  hash: Hex;
  header: { rlp: Hex; signature: Hex };
  proof(keys: Hex[]): Promise<StorageProofJson>;
}

/** Fake chain holding one contract's storage (GeodeCore layout) plus a decoy account. */
export class FakeChain {
  storage = new Map<bigint, bigint>();
  number = 0n;
  head: Hex = GENESIS;
  /** Off-chain copy of the request log. */
  log: { seq: string; sender: Address; payload: Hex; sessionId: string }[] = [];

  set(slot: bigint, v: bigint) { if (v === 0n) this.storage.delete(slot); else this.storage.set(slot, v); }
  get(slot: bigint) { return this.storage.get(slot) ?? 0n; }

  openSession(id: bigint, nonce: Hex) {
    const base = mappingSlot(id, SLOT.sessions);
    this.set(base + SESSION_FIELD.nonce, BigInt(nonce));
    this.set(base + SESSION_FIELD.status, SESSION_STATUS.pending);
    this.set(SLOT.sessionCount, id);
  }
  activate(id: bigint) {
    this.set(mappingSlot(id, SLOT.sessions) + SESSION_FIELD.status, SESSION_STATUS.active);
    this.set(SLOT.activeSessionId, id);
  }
  submit(sender: Address, payload: Hex) {
    const seq = this.get(SLOT.requestCount) + 1n;
    // As GeodeCore._appendRequest: acc(seq) from accAt[seq - 1] (acc(0) = 0, never written).
    const prev = b32(this.get(mappingSlot(seq - 1n, SLOT.accAt)));
    const sessionId = this.get(SLOT.activeSessionId);
    const acc = accumulatorStep(seq === 1n ? ACC_ZERO : prev, seq, sender, sessionId, keccak256(payload));
    this.set(SLOT.requestCount, seq);
    this.set(mappingSlot(seq, SLOT.accAt), BigInt(acc));
    this.log.push({ seq: seq.toString(), sender, payload, sessionId: sessionId.toString() });
  }
  commit(to: bigint, newRoot: Hex) {
    this.set(SLOT.committedSeq, to);
    this.set(SLOT.stateRoot, BigInt(newRoot));
  }

  /** Mine a block over the current storage. */
  async mine(): Promise<FakeBlock> {
    const snapshot = new Map(this.storage);
    const storageTrie = await createMPT({ useKeyHashing: true });
    for (const [slot, v] of snapshot) await storageTrie.put(hexToBytes(b32(slot)), RLP.encode(hexToBytes(numberToHex(v))));
    const stateTrie = await createMPT({ useKeyHashing: true });
    const codeHash = keccak256(toHex('code'));
    const account = RLP.encode([new Uint8Array([1]), new Uint8Array(0), storageTrie.root(), hexToBytes(codeHash)]);
    await stateTrie.put(hexToBytes(CONTRACT), account);
    for (let i = 1; i <= 20; i++) await stateTrie.put(hexToBytes(numberToHex(BigInt(i), { size: 20 })), RLP.encode([new Uint8Array([i]), new Uint8Array([i]), hexToBytes('0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'), hexToBytes(codeHash)]));
    const number = ++this.number;
    const z32 = b32(0n);
    const rlp = encodeHeaderRlp({
      parentHash: this.head, sha3Uncles: z32, miner: '0x0000000000000000000000000000000000000000', stateRoot: bytesToHex(stateTrie.root()),
      transactionsRoot: z32, receiptsRoot: z32, logsBloom: `0x${'00'.repeat(256)}`, difficulty: '0x0', number: numberToHex(number),
      gasLimit: '0x1c9c380', gasUsed: '0x0', timestamp: numberToHex(1_700_000_000n + number), extraData: '0x', mixHash: z32, nonce: '0x0000000000000000',
      baseFeePerGas: '0x7', withdrawalsRoot: z32, blobGasUsed: '0x0', excessBlobGas: '0x0', parentBeaconBlockRoot: z32, requestsHash: z32,
    });
    const hash = keccak256(rlp);
    this.head = hash;
    return {
      number, hash, header: { rlp, signature: signHeader(rlp, number) },
      async proof(keys: Hex[]): Promise<StorageProofJson> {
        const accountProof = (await createMerkleProof(stateTrie, hexToBytes(CONTRACT))).map((n) => bytesToHex(n));
        const storageProof = [];
        for (const k of keys) {
          const p = await createMerkleProof(storageTrie, hexToBytes(k));
          storageProof.push({ key: k, value: numberToHex(snapshot.get(BigInt(k)) ?? 0n), proof: p.map((n) => bytesToHex(n)) });
        }
        return { address: CONTRACT, balance: '0x0', nonce: '0x1', codeHash, storageHash: bytesToHex(storageTrie.root()), accountProof, storageProof };
      },
    };
  }
}

/** A user: address + X25519 output key pair. */
export class User {
  constructor(readonly address: Address, readonly outputKey: { privateKey: Uint8Array; publicKey: Uint8Array }) {}
  static async make(label: string): Promise<User> {
    const seed = hexToBytes(keccak256(toHex(`user:${label}`)));
    return new User(`0x${keccak256(toHex(label)).slice(26)}` as Address, await hpkeDeriveKeyPair(seed));
  }
  registerPayload(): Hex {
    return bytesToHex(encodeEnvelope({ kind: 'public', data: hexToBytes(encodePublicRequest('geode.register-key', encodeRegisterKeyBody(bytesToHex(this.outputKey.publicKey)))) }));
  }
  async privatePayload(encPubKey: Hex, sessionId: bigint, msg: unknown, sender: Address = this.address): Promise<Hex> {
    const { enc, ciphertext } = await hpkeSeal(hexToBytes(encPubKey), HPKE_INFO.request, hexToBytes(requestAad(31337n, CONTRACT, sessionId, sender)), new TextEncoder().encode(JSON.stringify(msg)));
    return bytesToHex(encodeEnvelope({ kind: 'private', enc, ciphertext }));
  }
  async read(outputs: Hex, sessionId: bigint): Promise<OutputMessage[]> {
    const res: OutputMessage[] = [];
    for (const o of decodeOutputs(outputs)) {
      if (o.recipient.toLowerCase() !== this.address || o.ciphertext === '0x') continue;
      const b = hexToBytes(o.ciphertext);
      const pt = await hpkeOpen(this.outputKey.privateKey, b.subarray(0, 32), HPKE_INFO.output, hexToBytes(outputAad(31337n, CONTRACT, sessionId, o.recipient, o.seq)), b.subarray(32));
      res.push(decodeOutputMessage(pt));
    }
    return res;
  }
}

export const publicPayload = (kind: string, body: Hex): Hex => bytesToHex(encodeEnvelope({ kind: 'public', data: hexToBytes(encodePublicRequest(kind, body)) }));

/** A configured runtime with an active session 1 on a fake chain. */
export async function setup(app: EnclaveApp, dataDir = tmpDir(), platform: Platform = fakePlatform) {
  const chain = new FakeChain();
  const rt = new EnclaveRuntime(app, { dataDir, platform, log: () => {} });
  await rt.handle('init', { config: testConfig() });
  const { nonce } = (await rt.handle('sessionCreate', {})) as { nonce: Hex };
  chain.openSession(1n, nonce);
  const blk = await chain.mine();
  const keys = (await rt.handle('sessionSetPubKey', { sessionId: '1', header: blk.header, proof: await blk.proof(sessionProofKeysFor(1n)) })) as { encPubKey: Hex; signer: Address; quote: Hex };
  chain.activate(1n);
  return { chain, rt, dataDir, keys };
}

import { sessionProofKeys, batchProofKeys } from '@geode/protocol';
export const sessionProofKeysFor = (id: bigint) => sessionProofKeys(id);

/** Mine a block and build processBatch params for log[from-1 .. to-1]. */
export async function batchParams(chain: FakeChain, from: number, to: number) {
  const blk = await chain.mine();
  return { blk, params: { header: blk.header, proof: await blk.proof(batchProofKeys(BigInt(to))), requests: chain.log.slice(from - 1, to) } };
}

export { concatHex };
