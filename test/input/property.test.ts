// Property-based tests (fast-check) on everything the enclave decodes from the host and the network, and on the
// light client with random mutations of real proofs and headers taken from a devnet: only typed GeodeErrors,
// never a crash, never a hang (each property runs under the test timeout), never acceptance of a mutated proof.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesToHex, decodeAbiParameters, encodeAbiParameters, hexToBytes, keccak256, parseEther, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  batchProofKeys, decodeEnvelope, PAYLOAD_KIND, decodeHeader, decodePublicRequest, encodeFrame, encodePublicRequest, FrameDecoder, isGeodeError, methods,
  requestFrame, sessionProofKeys, slotKey, type StorageProofJson,
} from '@geode/protocol';
import { devAccounts, devnetTransport, startDevnet } from '@geode/devnet';
import { chainAccessFromTransport } from '@geode/host';
import { verifySignedHeader, verifyStorageProof } from '../../packages/enclave/src/lightclient/index.ts';
import { EnclaveRuntime } from '../../packages/enclave/src/runtime.ts';
import { createSimPlatform } from '../../packages/enclave/src/platform/sim.ts';
import { computationsApp } from '../../apps/computations/src/enclave/app.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The seed is the suite's pinned one (scripts/test-setup.mjs; GEODE_FC_SEED replays another), so a CI result does
// not depend on the clock. FC_RUNS raises the number of runs for a longer local search.
const RUNS = Number(process.env.FC_RUNS ?? 300);
const params = (runs = RUNS) => ({ numRuns: runs });

/** Run `f`; a throw must be a GeodeError whose code matches `codes`. Returns the error or undefined. */
function typed(f: () => unknown, codes: RegExp): unknown {
  try {
    f();
    return undefined;
  } catch (e) {
    assert.ok(isGeodeError(e), `not a GeodeError: ${e instanceof Error ? e.stack : String(e)}`);
    assert.match((e as { code: string }).code, codes);
    return e;
  }
}
async function typedAsync(f: () => Promise<unknown>, codes: RegExp): Promise<unknown> {
  try {
    await f();
    return undefined;
  } catch (e) {
    assert.ok(isGeodeError(e), `not a GeodeError: ${e instanceof Error ? e.stack : String(e)}`);
    assert.match((e as { code: string }).code, codes);
    return e;
  }
}

test('FrameDecoder: arbitrary byte streams in arbitrary chunks never throw; errors are TRANSPORT_FRAME', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
    const errs: Error[] = [];
    const d = new FrameDecoder(() => undefined, (e) => errs.push(e));
    for (const c of chunks) d.push(Buffer.from(c));
    for (const e of errs) assert.equal((e as { code?: string }).code, 'TRANSPORT_FRAME');
  }), params());
});

test('FrameDecoder: valid frames split at random points decode to the same messages, interleaved garbage frames are skipped', () => {
  fc.assert(fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), fc.uint8Array({ maxLength: 32 }), (msgs, cuts, junk) => {
    const norm = msgs.map((m) => JSON.parse(JSON.stringify(m)) as unknown);
    const bad = Buffer.concat([Buffer.from([0, 0, 0, junk.length + 1]), Buffer.from([0x7b]), Buffer.from(junk)]); // "{" + junk: not JSON
    const stream = Buffer.concat([...norm.map((m) => encodeFrame(m)), bad, encodeFrame('tail')]);
    const got: unknown[] = [];
    let errors = 0;
    const d = new FrameDecoder((m) => got.push(m), () => errors++);
    const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
    let at = 0;
    for (const p of [...points, stream.length]) {
      d.push(stream.subarray(at, p));
      at = p;
    }
    // The junk frame may by chance be valid JSON ("{}" is not possible after "{" + bytes unless it parses).
    assert.deepEqual(got.slice(0, norm.length), norm);
    assert.equal(got.at(-1), 'tail');
    assert.ok(errors <= 1);
  }), params());
});

test('FrameDecoder: an oversized length prefix is fatal and reported once', () => {
  const errs: Error[] = [];
  const d = new FrameDecoder(() => assert.fail('no message'), (e) => errs.push(e));
  d.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
  d.push(encodeFrame({ id: 1 }));
  assert.equal(errs.length, 1);
  assert.equal((errs[0] as { code?: string }).code, 'TRANSPORT_FRAME');
});

test('transport schemas: arbitrary JSON never throws from safeParse; request frames with junk params are refused by the runtime as ENCLAVE_BAD_MESSAGE', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'geode-input-'));
  const rt = new EnclaveRuntime(computationsApp, { dataDir, platform: createSimPlatform({ dataDir, measurement: new Uint8Array(32), warn: false }), log: () => undefined });
  const names = [...Object.keys(methods), 'toString', '__proto__', 'constructor', 'hasOwnProperty', ''];
  await fc.assert(fc.asyncProperty(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 20 })), fc.jsonValue({ maxDepth: 4 }), async (method, p) => {
    for (const m of Object.values(methods)) { m.params.safeParse(p); m.result.safeParse(p); }
    requestFrame.safeParse({ id: 1, method, params: p });
    // `status` is the only method valid with any params shape it accepts; everything else must be refused typed.
    await typedAsync(() => rt.handle(method, p), /^(ENCLAVE_|LC_|TRANSPORT_|ENVELOPE_)/);
  }), params(200));
  assert.equal(rt.stateRoot, `0x${'00'.repeat(32)}`, 'nothing changed');
});

test('decodeEnvelope: arbitrary bytes give an envelope or ENVELOPE_INVALID', () => {
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 128 }), fc.uint8Array({ minLength: 16_380, maxLength: 16_400 })), (b) => {
    const e = typed(() => decodeEnvelope(b), /^ENVELOPE_INVALID$/);
    if (!e) assert.ok(b[0] === PAYLOAD_KIND.public || b[0] === PAYLOAD_KIND.private || b[0] === PAYLOAD_KIND.privateEpoch, `decoded kind byte ${b[0]}`);
  }), params());
});

test('decodePublicRequest: arbitrary and mutated abi data give {kind, body} or ENVELOPE_INVALID(_UTF8); a decoded kind is the exact bytes', () => {
  const valid = hexToBytes(encodePublicRequest('geode.register-key', `0x${'11'.repeat(32)}`));
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => { const c = valid.slice(); c[i] ^= x; return c; })), (b) => {
    const e = typed(() => decodePublicRequest(bytesToHex(b)), /^ENVELOPE_INVALID(_UTF8)?$/);
    if (!e) {
      // Names are bytes: re-encoding the decoded kind gives back the kind bytes that were on the wire.
      const { kind, body } = decodePublicRequest(bytesToHex(b));
      assert.equal(encodePublicRequest(kind, body), encodeAbiParameters([{ type: 'bytes' }, { type: 'bytes' }], decodeAbiParameters([{ type: 'bytes' }, { type: 'bytes' }], bytesToHex(b)) as [Hex, Hex]));
    }
  }), params());
});

// ---------------------------------------------------------------------------------------------------------------
// Light client against real devnet data.

interface Real { anchor: { chainId: bigint; signer: Address; genesisHash: Hex }; headers: { rlp: Hex; signature: Hex }[]; stateRoot: Hex; proof: StorageProofJson; contract: Address; keys: Hex[]; close(): Promise<void> }

async function realChain(): Promise<Real> {
  // A real GeodeCore-like storage layout is not needed: any contract with non-empty storage gives EIP-1186 proofs.
  const acct = devAccounts(1)[0]!;
  const devnet = await startDevnet({ fund: [{ address: acct.address, balance: parseEther('1000') }] });
  const chain = chainAccessFromTransport({ chainId: devnet.chainId, transport: devnetTransport(devnet), onNewHead: (cb) => devnet.onNewHead(cb) });
  // A contract whose constructor stores sstore(i, 7i) for i = 1..7; runtime code: STOP.
  let init = '';
  const slots = [1n, 2n, 3n, 4n, 5n, 6n, 7n];
  for (const s of slots) init += `60${(Number(s) * 7).toString(16).padStart(2, '0')}60${Number(s).toString(16).padStart(2, '0')}55`;
  init += '6000600053' + '60016000f3'; // mstore8(0, 0); return(0, 1): runtime code = STOP
  const wallet = chain.wallet(privateKeyToAccount(acct.privateKey));
  const hash = await wallet.sendTransaction({ data: `0x${init}` as Hex });
  const r = await chain.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 10 });
  const contract = r.contractAddress!;
  const h0 = await devnet.getSignedHeader(r.blockNumber - 1n);
  const h1 = await devnet.getSignedHeader(r.blockNumber);
  const keys = [...slots.map((s) => slotKey(s)), slotKey(99n), ...batchProofKeys(3n).slice(0, 2), ...sessionProofKeys(1n).slice(0, 1)];
  const uniq = [...new Set(keys)];
  const p = await chain.publicClient.getProof({ address: contract, storageKeys: uniq, blockNumber: r.blockNumber });
  const proof: StorageProofJson = {
    address: p.address, balance: `0x${p.balance.toString(16)}`, nonce: `0x${p.nonce.toString(16)}`, codeHash: p.codeHash, storageHash: p.storageHash,
    accountProof: p.accountProof, storageProof: p.storageProof.map((s) => ({ key: s.key, value: `0x${s.value.toString(16)}`, proof: s.proof })),
  };
  return {
    anchor: { chainId: devnet.chainId, signer: devnet.blockSigner, genesisHash: devnet.genesisHash },
    headers: [h0, h1].map((h) => ({ rlp: h.rlp, signature: h.signature })), stateRoot: decodeHeader(h1.rlp).stateRoot, proof, contract, keys: uniq,
    close: () => devnet.close(),
  };
}

const flip = (h: Hex, i: number, x: number): Hex => {
  const b = hexToBytes(h);
  if (b.length === 0) return '0x01';
  b[i % b.length] ^= x;
  return bytesToHex(b);
};

type Mutation = (p: StorageProofJson) => StorageProofJson;

test('light client: random mutations of a real EIP-1186 proof and signed headers are always refused with LC_* codes', { timeout: 120_000 }, async () => {
  const real = await realChain();
  try {
    const ok = await verifyStorageProof(real.stateRoot, real.proof, real.contract, real.keys);
    assert.equal(ok.get(slotKey(1n).toLowerCase() as Hex), 7n);
    const clone = (p: StorageProofJson): StorageProofJson => JSON.parse(JSON.stringify(p)) as StorageProofJson;
    const nSp = real.proof.storageProof.length;
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([n, i, x]) => (p: StorageProofJson) => { const q = clone(p); const k = n % q.accountProof.length; q.accountProof[k] = flip(q.accountProof[k] as Hex, i, x); return q; }),
      fc.nat().map((n) => (p: StorageProofJson) => { const q = clone(p); q.accountProof.splice(n % q.accountProof.length, 1); return q; }),
      fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([s, n, i, x]) => (p: StorageProofJson) => {
        const q = clone(p); const sp = q.storageProof[s % nSp]!;
        if (sp.proof.length === 0) { sp.proof.push(bytesToHex(new Uint8Array([x]))); return q; }
        const k = n % sp.proof.length; sp.proof[k] = flip(sp.proof[k] as Hex, i, x); return q;
      }),
      fc.tuple(fc.nat(), fc.nat()).map(([s, n]) => (p: StorageProofJson) => {
        const q = clone(p); const sp = q.storageProof[s % nSp]!;
        if (sp.proof.length === 0) sp.proof.push(q.accountProof[0]!); else sp.proof.splice(n % sp.proof.length, 1);
        return q;
      }),
      fc.tuple(fc.nat(), fc.bigInt({ min: 1n, max: 2n ** 256n - 1n })).map(([s, d]) => (p: StorageProofJson) => {
        const q = clone(p); const sp = q.storageProof[s % nSp]!; sp.value = `0x${((BigInt(sp.value) + d) % 2n ** 256n).toString(16)}`; return q;
      }),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, x]) => (p: StorageProofJson) => ({ ...clone(p), storageHash: flip(p.storageHash as Hex, i, x) })),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, x]) => (p: StorageProofJson) => ({ ...clone(p), codeHash: flip(p.codeHash as Hex, i, x) })),
      fc.bigInt({ min: 1n, max: 2n ** 64n }).map((d) => (p: StorageProofJson) => ({ ...clone(p), balance: `0x${(BigInt(p.balance) + d).toString(16)}` })),
      fc.bigInt({ min: 1n, max: 2n ** 64n }).map((d) => (p: StorageProofJson) => ({ ...clone(p), nonce: `0x${(BigInt(p.nonce) + d).toString(16)}` })),
      fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => (p: StorageProofJson) => {
        // swap two storage proofs' node lists (proof for another key)
        const q = clone(p); const x = q.storageProof[a % nSp]!; const y = q.storageProof[(a + 1 + (b % (nSp - 1))) % nSp]!;
        if (JSON.stringify(x.proof) === JSON.stringify(y.proof) && x.value === y.value) { x.value = `0x${(BigInt(x.value) + 1n).toString(16)}`; return q; }
        [x.proof, y.proof] = [y.proof, x.proof]; [x.value, y.value] = [y.value, x.value]; return q;
      }),
      fc.nat().map((s) => (p: StorageProofJson) => { const q = clone(p); q.storageProof.splice(s % nSp, 1); return q; }),
    );
    await fc.assert(fc.asyncProperty(mutation, async (m) => {
      const bad = m(real.proof);
      const e = await typedAsync(() => verifyStorageProof(real.stateRoot, bad, real.contract, real.keys), /^LC_(ACCOUNT_PROOF|STORAGE_PROOF|PROOF_MISSING_KEY)$/);
      assert.ok(e, `accepted a mutated proof: ${JSON.stringify(bad).slice(0, 300)}`);
    }), params());

    // Headers: any byte flip in the RLP or the signature, or a truncation, is refused.
    const trusted = { number: 0n, hash: real.anchor.genesisHash };
    const h = real.headers[1]!;
    verifySignedHeader(trusted, h, real.anchor);
    fc.assert(fc.property(fc.oneof(
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, x]) => ({ ...h, rlp: flip(h.rlp, i, x) })),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, x]) => ({ ...h, signature: flip(h.signature, i, x) })),
      fc.nat().map((n) => ({ ...h, rlp: h.rlp.slice(0, 2 + 2 * (n % ((h.rlp.length - 2) / 2))) as Hex })),
      fc.uint8Array({ maxLength: 600 }).map((b) => ({ ...h, rlp: bytesToHex(b) })),
    ), (bad) => {
      const e = typed(() => verifySignedHeader({ ...trusted }, bad, real.anchor), /^LC_(HEADER_SIGNATURE|HEADER_DECODE|STALE_HEADER|HEADER_LINK)$/);
      assert.ok(e, 'accepted a mutated header');
    }), params());
    // Header RLP decoding alone: arbitrary bytes give fields or LC_HEADER_DECODE.
    fc.assert(fc.property(fc.uint8Array({ maxLength: 700 }), (b) => { typed(() => decodeHeader(bytesToHex(b)), /^LC_HEADER_DECODE$/); }), params());
    assert.equal(keccak256(h.rlp), decodeHeader(h.rlp).hash);
  } finally {
    await real.close();
  }
});
