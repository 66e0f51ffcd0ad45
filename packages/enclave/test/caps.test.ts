// Output caps (docs/protocol.md#caps) and strict names (docs/protocol.md#strings) at the runtime: a request over a
// per-request cap gets ENCLAVE_OUTPUT_LIMIT and changes nothing; the per-batch cap ends the batch early without
// changing any request's outcome; a public kind that is not UTF-8 is refused, one with a BOM is its own kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, decodeAbiParameters, encodeAbiParameters, hexToBytes, type Hex } from 'viem';
import {
  MAX_OUTPUTS_PER_REQUEST, MAX_OUTPUT_BYTES_PER_BATCH, MAX_OUTPUT_BYTES_PER_REQUEST, GeodeError, encodedOutputBytes,
  encodeEnvelope, encodeOutputMessage, type OutputMessage,
} from '@geode/protocol';
import type { EnclaveApp } from '../src/app.ts';
import type { EnclaveRuntime } from '../src/runtime.ts';
import { FRAMEWORK_KEYS } from '../src/state.ts';
import { User, batchParams, publicPayload, rootOfPairs, setup } from './helpers.ts';

/** The root the state would have without its keyId (to compare states of runtimes with different key material). */
async function rootWithoutKeyId(rt: EnclaveRuntime): Promise<string> {
  const pairs: [Uint8Array, Uint8Array][] = [];
  for await (const p of rt.entries()) if (!Buffer.from(p[0]).equals(FRAMEWORK_KEYS.keyId)) pairs.push(p);
  return rootOfPairs(pairs);
}

/** The spam app's state: ["runs"] = number of runs, ["kinds", seq] = the kind of each run. */
async function spamState(rt: EnclaveRuntime): Promise<{ runs: number; kinds: string[] }> {
  const view = rt.appView();
  const kinds: string[] = [];
  for await (const [, v] of view.entries<string>(['kinds'])) kinds.push(v);
  return { runs: (await view.get<number>(['runs'])) ?? 0, kinds };
}

/** Public kind "spam", body abi.encode(uint256 count, uint256 size): emit `count` messages of `size` 'x's. */
function spamApp(): EnclaveApp {
  return {
    name: 'spam',
    async onPublic(kind, body, ctx) {
      if (kind !== 'spam') throw new GeodeError('APP_UNKNOWN_KIND', `unknown public kind ${JSON.stringify(kind)}`);
      const [count, size] = decodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }], bytesToHex(body));
      ctx.store.set(['runs'], ((await ctx.store.get<number>(['runs'])) ?? 0) + 1); // written before the emits: a cap refusal must drop it
      ctx.store.set(['kinds', ctx.seq], kind);
      for (let i = 0n; i < count; i++) ctx.emit(ctx.sender, 'x'.repeat(Number(size)));
    },
    onPrivate() {
      throw new GeodeError('APP_BAD_REQUEST', 'no private requests');
    },
  };
}

const spam = (count: number, size: number): Hex => publicPayload('spam', encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }], [BigInt(count), BigInt(size)]));
/** Bytes one spam output of `size` characters adds to the commitment. */
const outBytes = (seq: bigint, size: number) => encodedOutputBytes(encodeOutputMessage({ seq: seq.toString(), ok: true, message: 'x'.repeat(size) }).length);
/** A public payload whose kind is raw bytes (not necessarily UTF-8). */
const rawKindPayload = (kind: Uint8Array): Hex => bytesToHex(encodeEnvelope({ kind: 'public', data: hexToBytes(encodeAbiParameters([{ type: 'bytes' }, { type: 'bytes' }], [bytesToHex(kind), encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }], [1n, 1n])])) }));

type BatchResult = { from: string; to: string; newRoot: Hex; outputs: Hex };

async function run(payloads: Hex[]) {
  const ctx = await setup(spamApp());
  const alice = await User.make('alice');
  ctx.chain.submit(alice.address, alice.registerPayload());
  for (const p of payloads) ctx.chain.submit(alice.address, p);
  return { ...ctx, alice };
}

/** Process everything pending, batch after batch as the host would (each batch from the proven root). */
async function drain(c: Awaited<ReturnType<typeof run>>, from = 1): Promise<BatchResult[]> {
  const out: BatchResult[] = [];
  const total = c.chain.log.length;
  while (from <= total) {
    const { params } = await batchParams(c.chain, from, total);
    const r = (await c.rt.handle('processBatch', params)) as BatchResult;
    c.chain.commit(BigInt(r.to), r.newRoot);
    out.push(r);
    from = Number(r.to) + 1;
  }
  return out;
}

const byseq = async (alice: User, batches: BatchResult[]) => {
  const m = new Map<string, OutputMessage[]>();
  for (const b of batches) for (const o of await alice.read(b.outputs, 1n)) m.set(o.seq, [...(m.get(o.seq) ?? []), o]);
  return m;
};

test(`caps: more than MAX_OUTPUTS_PER_REQUEST outputs is one ENCLAVE_OUTPUT_LIMIT and no state change; the batch goes on`, async () => {
  const c = await run([spam(MAX_OUTPUTS_PER_REQUEST + 1, 1), spam(MAX_OUTPUTS_PER_REQUEST, 1), spam(1, 1)]);
  const [b] = await drain(c);
  assert.equal(b!.to, '4', 'one batch');
  const outs = await byseq(c.alice, [b!]);
  assert.deepEqual(outs.get('2')!.map((o) => (o.ok ? 'ok' : o.error.code)), ['ENCLAVE_OUTPUT_LIMIT']);
  assert.equal(outs.get('3')!.length, MAX_OUTPUTS_PER_REQUEST, 'exactly at the cap is allowed');
  assert.equal(outs.get('4')!.length, 1);
  assert.equal((await spamState(c.rt)).runs, 2, 'the refused request changed nothing');
});

test(`caps: more than MAX_OUTPUT_BYTES_PER_REQUEST is refused, at the cap passes`, async () => {
  // One output whose encoded size is exactly the per-request cap, and one a byte of plaintext over it.
  const base = encodeOutputMessage({ seq: '3', ok: true, message: '' }).length;
  const size = MAX_OUTPUT_BYTES_PER_REQUEST - 5 * 32 - 32 - 16 - base;
  assert.equal(outBytes(3n, size), MAX_OUTPUT_BYTES_PER_REQUEST);
  assert.ok(outBytes(2n, size + 1) > MAX_OUTPUT_BYTES_PER_REQUEST);
  const c = await run([spam(1, size + 1), spam(1, size)]);
  const [b] = await drain(c);
  const outs = await byseq(c.alice, [b!]);
  assert.deepEqual(outs.get('2')!.map((o) => (o.ok ? 'ok' : o.error.code)), ['ENCLAVE_OUTPUT_LIMIT']);
  assert.deepEqual(outs.get('3')!.map((o) => o.ok), [true]);
  assert.equal((await spamState(c.rt)).runs, 1);
});

test(`caps: the per-batch cap ends the batch early and never changes an outcome`, async () => {
  // Three requests of ~50 KiB of outputs each: two fit in one batch (<= MAX_OUTPUT_BYTES_PER_BATCH), three do not.
  const size = 50 * 1024;
  assert.ok(2 * outBytes(2n, size) + encodedOutputBytes(100) <= MAX_OUTPUT_BYTES_PER_BATCH && 3 * outBytes(2n, size) > MAX_OUTPUT_BYTES_PER_BATCH);
  const payloads = [spam(1, size), spam(1, size), spam(1, size), spam(1, 3)];
  const c = await run(payloads);
  const batches = await drain(c);
  assert.deepEqual(batches.map((b) => [b.from, b.to]), [['1', '3'], ['4', '5']]);
  // The same requests one per batch give the same outcomes, and the same final state.
  const d = await run(payloads);
  const single: BatchResult[] = [];
  for (let s = 1; s <= 5; s++) {
    const { params } = await batchParams(d.chain, s, s);
    const r = (await d.rt.handle('processBatch', params)) as BatchResult;
    d.chain.commit(BigInt(r.to), r.newRoot);
    single.push(r);
  }
  assert.deepEqual(await byseq(c.alice, batches), await byseq(d.alice, single));
  assert.deepEqual(await spamState(c.rt), await spamState(d.rt));
  assert.equal((await spamState(c.rt)).runs, 4);
});

test('strict names: a public kind that is not UTF-8 is refused (ENVELOPE_INVALID_UTF8); "\\uFEFFspam" is not "spam"', async () => {
  const bom = new TextEncoder().encode('\uFEFFspam');
  assert.equal(bom.length, 7);
  const c = await run([rawKindPayload(new Uint8Array(64).fill(0xff)), rawKindPayload(bom), rawKindPayload(new Uint8Array([0x73, 0x70, 0x61, 0x6d, 0xc0, 0xaf])), rawKindPayload(new TextEncoder().encode('spam'))]);
  const [b] = await drain(c);
  const outs = await byseq(c.alice, [b!]);
  const code = (s: string) => outs.get(s)!.map((o) => (o.ok ? 'ok' : o.error.code));
  assert.deepEqual(code('2'), ['ENVELOPE_INVALID_UTF8'], '64 bytes of 0xff');
  assert.deepEqual(code('3'), ['APP_UNKNOWN_KIND'], 'the BOM is kept, so the kind is not "spam"');
  assert.ok((outs.get('3')![0] as { error: { message: string } }).error.message.includes('"\uFEFFspam"'));
  assert.deepEqual(code('4'), ['ENVELOPE_INVALID_UTF8'], 'overlong "/" (C0 AF)');
  assert.deepEqual(code('5'), ['ok']);
  assert.deepEqual((await spamState(c.rt)).kinds, ['spam']);
});

test('caps: a key registration cut from a full batch leaves no trace in it (the outcome does not depend on the cut)', async () => {
  // Request 1 (alice's key registration) and requests 2, 3 fill the batch to exactly MAX_OUTPUT_BYTES_PER_BATCH.
  const alice = await User.make('alice');
  const regBytes = encodedOutputBytes(encodeOutputMessage({ seq: '1', ok: true, message: { registered: bytesToHex(alice.outputKey.publicKey) } }).length);
  const chars = (bytes: number) => bytes - 5 * 32 - 32 - 16 - encodeOutputMessage({ seq: '2', ok: true, message: '' }).length;
  const first = MAX_OUTPUT_BYTES_PER_REQUEST;
  const second = MAX_OUTPUT_BYTES_PER_BATCH - regBytes - first;
  assert.equal(outBytes(2n, chars(first)) + outBytes(3n, chars(second)) + regBytes, MAX_OUTPUT_BYTES_PER_BATCH);
  const bob = await User.make('bob');
  const make = async () => {
    const c = await run([spam(1, chars(first)), spam(1, chars(second))]);
    c.chain.submit(bob.address, bob.registerPayload());
    c.chain.submit(c.alice.address, spam(1, 3));
    return c;
  };
  const c = await make();
  const batches = await drain(c);
  assert.deepEqual(batches.map((b) => [b.from, b.to]), [['1', '3'], ['4', '5']]);
  const d = await make();
  const single: BatchResult[] = [];
  let after3 = '';
  for (let s = 1; s <= 5; s++) {
    const { params } = await batchParams(d.chain, s, s);
    const r = (await d.rt.handle('processBatch', params)) as BatchResult;
    d.chain.commit(BigInt(r.to), r.newRoot);
    single.push(r);
    if (s === 3) after3 = await rootWithoutKeyId(d.rt);
  }
  // c and d hold different key material (a root commits to its keyId): compare the states without it.
  const c2 = await make();
  const { params: first3 } = await batchParams(c2.chain, 1, c2.chain.log.length);
  const r3 = (await c2.rt.handle('processBatch', first3)) as BatchResult;
  assert.equal(r3.to, '3');
  assert.equal(await rootWithoutKeyId(c2.rt), after3, 'the state after request 3 holds no trace of request 4');
  assert.equal(await rootWithoutKeyId(c.rt), await rootWithoutKeyId(d.rt), 'same final state');
  assert.deepEqual(await bob.read(batches[1]!.outputs, 1n), await bob.read(single[3]!.outputs, 1n));
  assert.equal((await bob.read(batches[0]!.outputs, 1n)).length, 0);
});
