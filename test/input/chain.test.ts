// Bad input where users reach the system on-chain: oversized and garbage ciphertexts, ciphertexts copied from
// another sender, wrong types, unknown computations, non-UTF-8 plaintext, huge or non-UTF-8 names, and a corrupt
// sealed state file. Each gets a clear typed refusal; the app state (every result) is unchanged by it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, concatHex, encodeAbiParameters, toFunctionSelector, type Abi, type Hex } from 'viem';
import { GeodeCoreAbi } from '@geode/contracts';
import { ComputationsAbi } from '@geode/app-computations/artifacts';
import { batchProofKeys, decodeOutputMessage, decodeOutputs } from '@geode/protocol';
import { SqliteBackend } from '@geode/enclave';
import {
  checkExactlyOnce, openOutput, presignRequest, readUint, sendRaw, signCall, startWorkload, waitCommitted, committedBatches, type Workload,
} from '../harness/crash.ts';

async function sendExpectRevert(w: Workload, tx: Hex): Promise<void> {
  const hash = (await w.stack.devnet!.request({ method: 'eth_sendRawTransaction', params: [tx] }).catch((e) => e)) as Hex | Error;
  if (hash instanceof Error) return; // refused before mining
  const r = await w.stack.chain.publicClient.getTransactionReceipt({ hash });
  assert.equal(r.status, 'reverted');
}

/** The decrypted outputs for participant p's request seq. */
async function outputsFor(w: Workload, p: number, seq: bigint) {
  const out = [];
  for (const b of await committedBatches(w)) {
    if (seq < b.from || seq > b.to) continue;
    for (const o of decodeOutputs(b.outputs)) {
      if (o.seq !== seq) continue;
      assert.equal(o.recipient.toLowerCase(), w.ids[p]!.address.toLowerCase(), `output for ${seq} goes only to its sender`);
      out.push(decodeOutputMessage(await openOutput(w, p, o, b.sessionId)));
    }
  }
  return out;
}

test('on-chain bad input: each refusal is typed, goes only to the sender, and leaves every result unchanged', { timeout: 120_000 }, async () => {
  const w = await startWorkload({ participants: 3, computations: [{ name: 'avg', type: 'average' }], label: 'input-chain', quorum: 2 });
  try {
    const sent: bigint[][] = [[], [], []];
    const submit = async (p: number, value: number) => { const s = await sendRaw(w, await presignRequest(w, p, { op: 'submit', computation: 'avg', value })); sent[p]!.push(s); return s; };
    await submit(0, 10);
    await submit(1, 20);
    const base = await readUint(w, 'requestCount');
    await waitCommitted(w, base, 30_000);
    const pub = w.stack.chain.publicClient;
    const root = async () => (await pub.readContract({ address: w.contract, abi: GeodeCoreAbi, functionName: 'stateRoot' })) as Hex;

    // 1. Over-size and under-size payloads and the wrong kind byte: the contract refuses, nothing is appended.
    const big = bytesToHex(new Uint8Array(16_385).fill(7).map((v, i) => (i === 0 ? 1 : v)));
    for (const payload of [big, '0x01' as Hex, '0x' as Hex, bytesToHex(new Uint8Array(60).fill(2))]) {
      await sendExpectRevert(w, await signCall(w, 2, GeodeCoreAbi as Abi, 'submitRequest', [payload]));
    }
    assert.equal(await readUint(w, 'requestCount'), base, 'no request appended');

    // 2. Garbage ciphertext (right size): the sender gets ENCLAVE_DECRYPT, nothing else.
    const garbage = bytesToHex(new Uint8Array(100).map((_, i) => (i === 0 ? 1 : (i * 37) & 0xff)));
    const gSeq = await sendRaw(w, await signCall(w, 2, GeodeCoreAbi as Abi, 'submitRequest', [garbage]));
    sent[2]!.push(gSeq);
    // 3. A ciphertext copied from another sender (p0's sealed request submitted by p2): its AAD binds p0.
    const stolen = await w.clients[0]!.seal(new TextEncoder().encode(JSON.stringify({ op: 'submit', computation: 'avg', value: 1e9 })));
    const sSeq = await sendRaw(w, await signCall(w, 2, GeodeCoreAbi as Abi, 'submitRequest', [stolen]));
    sent[2]!.push(sSeq);
    // 4. Wrong types, unknown computation, non-UTF-8 plaintext, unknown op, huge name, __proto__.
    const raw = async (p: number, bytes: Uint8Array) => { const s = await sendRaw(w, await signCall(w, p, GeodeCoreAbi as Abi, 'submitRequest', [await w.clients[p]!.seal(bytes)])); sent[p]!.push(s); return s; };
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    const cases: [string, Uint8Array, string][] = [
      ['value as string', enc({ op: 'submit', computation: 'avg', value: '5' }), 'APP_INVALID_VALUE'],
      ['value null', enc({ op: 'submit', computation: 'avg', value: null }), 'APP_INVALID_VALUE'],
      ['unknown computation', enc({ op: 'submit', computation: 'nope', value: 1 }), 'APP_DOES_NOT_EXIST'],
      ['__proto__ computation', enc({ op: 'submit', computation: '__proto__', value: 1 }), 'APP_DOES_NOT_EXIST'],
      ['non-UTF-8 plaintext', new Uint8Array([0xff, 0xfe, 0x7b, 0x80]), 'APP_BAD_REQUEST'],
      ['not JSON', new TextEncoder().encode('submit avg 5'), 'APP_BAD_REQUEST'],
      ['unknown op', enc({ op: 'delete', computation: 'avg' }), 'APP_BAD_REQUEST'],
      ['huge name', enc({ op: 'submit', computation: 'x'.repeat(5000), value: 1 }), 'APP_BAD_REQUEST'],
      ['array', enc([1, 2, 3]), 'APP_BAD_REQUEST'],
    ];
    const caseSeqs: bigint[] = [];
    for (const [, bytes] of cases) caseSeqs.push(await raw(2, bytes));
    // 5. Names refused on-chain: too long, and non-UTF-8 bytes (ABI string = bytes: hand-encoded).
    await sendExpectRevert(w, await signCall(w, 2, ComputationsAbi as Abi, 'createComputation', ['y'.repeat(65), 0, [w.ids[0]!.address, w.ids[1]!.address], 1n], 2_000_000n));
    // The selector of the `string` signature with the name encoded as `bytes` (the two encode alike).
    const badName = new Uint8Array([0xc3, 0x28, 0xff, 0x41]);
    const data = concatHex([toFunctionSelector('createComputation(string,uint8,address[],uint256)'), encodeAbiParameters([{ type: 'bytes' }, { type: 'uint8' }, { type: 'address[]' }, { type: 'uint256' }], [bytesToHex(badName), 0, [w.ids[0]!.address, w.ids[2]!.address], 1n])]);
    const tx = await w.accounts[2]!.signTransaction({ chainId: 31337, type: 'eip1559', to: w.contract, data, nonce: w.nonces[2]!++, gas: 2_000_000n, maxFeePerGas: 50_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n });
    const hash = (await w.stack.devnet!.request({ method: 'eth_sendRawTransaction', params: [tx] })) as Hex;
    const rcpt = await pub.getTransactionReceipt({ hash });
    assert.equal(rcpt.status, 'reverted', 'a name that is not UTF-8 is refused on-chain (Utf8.isValid)');
    // 6. Results still equal the honest inputs: average of 10 and 20.
    const rSeq = await submitResult(w, 1, sent);
    await waitCommitted(w, await readUint(w, 'requestCount'), 30_000);

    const [g] = await outputsFor(w, 2, gSeq);
    assert.equal(g!.ok, false);
    assert.equal((g as { error: { code: string } }).error.code, 'ENCLAVE_DECRYPT');
    const [st] = await outputsFor(w, 2, sSeq);
    assert.equal((st as { error: { code: string } }).error.code, 'ENCLAVE_DECRYPT', 'copied ciphertext fails its AAD');
    for (let i = 0; i < cases.length; i++) {
      const outs = await outputsFor(w, 2, caseSeqs[i]!);
      assert.equal(outs.length, 1, cases[i]![0]);
      assert.equal(outs[0]!.ok, false, cases[i]![0]);
      assert.equal((outs[0] as { error: { code: string; message: string } }).error.code, cases[i]![2], cases[i]![0]);
      assert.ok((outs[0] as { error: { message: string } }).error.message.length > 10, 'the message explains');
    }
    const [res] = await outputsFor(w, 1, rSeq);
    assert.deepEqual((res as { message: { result: unknown } }).message.result, { type: 'average', value: 15, count: 2 });
    await checkExactlyOnce(w, sent);

    // 7. Corrupt sealed state: stop the enclave, corrupt every sealed record of its state database (the host owns
    // the database file and can rewrite any record); the restarted enclave refuses to process (typed), nothing is
    // committed; restoring the files lets it continue from the committed root.
    const dir = join(w.stack.dataDir, 'enclave');
    const files = readdirSync(dir).filter((f) => f.startsWith('state-'));
    const saved = files.map((f) => [f, readFileSync(join(dir, f))] as const);
    const rootBefore = await root();
    const committedBefore = await readUint(w, 'committedSeq');
    await w.stack.host.stop();
    await w.stack.enclave.stop();
    for (const [f] of saved.filter(([f]) => f.endsWith('.db'))) {
      const db = new SqliteBackend(join(dir, f));
      const recs = Array.from(db.scan(new Uint8Array(0)));
      db.write(recs.map(([k, v]) => { const c = Uint8Array.from(v); c[c.length - 1]! ^= 0xff; return [k, c] as const; }));
      db.close();
    }
    const pending = await sendRaw(w, await presignRequest(w, 0, { op: 'submit', computation: 'avg', value: 99 }));
    sent[0]!.push(pending);
    w.stack.enclave.start();
    await w.stack.enclave.call('init', { config: w.stack.deployment.config });
    const head = await w.stack.chain.getSignedHeader('latest');
    assert.equal((await w.stack.enclave.call('status')).lastSeq, '0', 'corrupt state files are ignored, not loaded');
    await assert.rejects(w.stack.enclave.call('processBatch', { header: { rlp: head.rlp, signature: head.signature }, proof: await proofAt(w, pending, head.number), requests: [{ seq: pending.toString(), sender: w.ids[0]!.address, payload: '0x01', sessionId: '1' }] }), (e: { code?: string }) => /^ENCLAVE_(STALE_STATE|SEAL_CORRUPT|SEQ_MISMATCH|ACCUMULATOR_MISMATCH)$/.test(e.code ?? ''));
    assert.equal(await root(), rootBefore, 'on-chain state root unchanged');
    assert.equal(await readUint(w, 'committedSeq'), committedBefore);
    await w.stack.enclave.stop();
    for (const [f, b] of saved) writeFileSync(join(dir, f), b);
    await w.stack.host.start();
    await waitCommitted(w, pending, 30_000);
    await checkExactlyOnce(w, sent);
  } finally {
    await w.stack.stop();
  }
});

async function submitResult(w: Workload, p: number, sent: bigint[][]): Promise<bigint> {
  const s = await sendRaw(w, await presignRequest(w, p, { op: 'result', computation: 'avg' }));
  sent[p]!.push(s);
  return s;
}

async function proofAt(w: Workload, to: bigint, block: bigint) {
  const p = await w.stack.chain.publicClient.getProof({ address: w.contract, storageKeys: batchProofKeys(to), blockNumber: block });
  return {
    address: p.address, balance: `0x${p.balance.toString(16)}`, nonce: `0x${p.nonce.toString(16)}`, codeHash: p.codeHash, storageHash: p.storageHash,
    accountProof: p.accountProof, storageProof: p.storageProof.map((s) => ({ key: s.key, value: `0x${s.value.toString(16)}`, proof: s.proof })),
  };
}
