// Public outputs and the verified block at the runtime (docs/protocol.md#public-outputs, docs/apps.md#block), with an
// app written with defineApp: published bytes come back in the signed commitment
// (publicOutputsHash in the digest), in order, with their seq; over the per-request caps a request is refused
// (ENCLAVE_OUTPUT_LIMIT) and publishes nothing; the per-batch count cap ends the batch early without changing any
// outcome; a throwing handler publishes nothing; ctx.block is the verified header's number and timestamp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, recoverAddress, type Hex } from 'viem';
import { z } from 'zod';
import {
  GeodeError, MAX_PUBLIC_OUTPUTS_PER_BATCH, MAX_PUBLIC_OUTPUTS_PER_REQUEST, MAX_PUBLIC_OUTPUT_BYTES, NO_PUBLIC_OUTPUTS,
  appSpec, commitmentDigest, decodePublicOutputs, type OutputMessage,
} from '@geode/protocol';
import { defineApp } from '../src/define-app.ts';
import { CONTRACT, User, batchParams, publicPayload, setup } from './helpers.ts';

const spec = appSpec({
  name: 'pub',
  public: { publish: [{ name: 'count', type: 'uint256' }, { name: 'size', type: 'uint256' }, { name: 'fail', type: 'bool' }] },
  private: { noop: z.object({}).strict() },
} as const);

const app = defineApp(spec, {
  state: { n: z.number() },
  public: {
    async publish([count, size, fail], ctx) {
      const n = ((await ctx.collections.n.get(['runs'])) ?? 0) + 1;
      ctx.collections.n.set(['runs'], n);
      for (let i = 0n; i < count; i++) ctx.publish(new Uint8Array(Number(size)).fill(Number(ctx.seq & 0xffn)));
      ctx.emit(ctx.sender, { runs: n, block: ctx.block.number.toString(), timestamp: ctx.block.timestamp.toString() });
      if (fail) throw new GeodeError('APP_PUB_FAIL', 'refused on purpose after publishing');
    },
  },
  private: { noop() {} },
});

const publish = (count: number, size: number, fail = false): Hex => publicPayload('pub.publish', spec.encodePublic('publish', [BigInt(count), BigInt(size), fail]));
type Res = { sessionId: string; from: string; to: string; accTo: Hex; prevRoot: Hex; newRoot: Hex; outputs: Hex; outputsHash: Hex; publicOutputs: Hex; publicOutputsHash: Hex; signature: Hex };

async function start(payloads: Hex[]) {
  const c = await setup(app);
  const alice = await User.make('alice');
  c.chain.submit(alice.address, alice.registerPayload());
  for (const p of payloads) c.chain.submit(alice.address, p);
  return { ...c, alice };
}

async function processFrom(c: Awaited<ReturnType<typeof start>>, from: number) {
  const { blk, params } = await batchParams(c.chain, from, c.chain.log.length);
  const r = (await c.rt.handle('processBatch', params)) as Res;
  c.chain.commit(BigInt(r.to), r.newRoot);
  return { r, blk };
}

const bySeq = (outs: OutputMessage[]) => new Map(outs.map((o) => [o.seq, o]));

test('published bytes are committed in order with their seq, bound into the signed digest; ctx.block is the verified header', async () => {
  const c = await start([publish(2, 10), publish(1, MAX_PUBLIC_OUTPUT_BYTES), publish(0, 0)]);
  const { r, blk } = await processFrom(c, 1);
  assert.equal(r.to, '4');
  const pubs = decodePublicOutputs(r.publicOutputs);
  assert.deepEqual(pubs.map((p) => [p.seq, (p.data.length - 2) / 2]), [[2n, 10], [2n, 10], [3n, MAX_PUBLIC_OUTPUT_BYTES]]);
  assert.equal(pubs[0]!.data, `0x${'02'.repeat(10)}`);
  assert.equal(r.publicOutputsHash, keccak256(r.publicOutputs));
  const digest = commitmentDigest({ chainId: 31337n, contract: CONTRACT, sessionId: 1n, from: 1n, to: 4n, accTo: r.accTo, prevRoot: r.prevRoot, newRoot: r.newRoot, outputsHash: r.outputsHash, publicOutputsHash: r.publicOutputsHash });
  assert.equal((await recoverAddress({ hash: digest, signature: r.signature })).toLowerCase(), c.keys.signer.toLowerCase());
  const outs = bySeq(await c.alice.read(r.outputs, 1n));
  assert.deepEqual(outs.get('2'), { seq: '2', ok: true, message: { runs: 1, block: blk.number.toString(), timestamp: (1_700_000_000n + blk.number).toString() } });
  assert.deepEqual(outs.get('4'), { seq: '4', ok: true, message: { runs: 3, block: blk.number.toString(), timestamp: (1_700_000_000n + blk.number).toString() } });
});

test('over the per-request public-output caps, or a throwing handler: refused, nothing published, no state change', async () => {
  const c = await start([publish(MAX_PUBLIC_OUTPUTS_PER_REQUEST + 1, 1), publish(1, MAX_PUBLIC_OUTPUT_BYTES + 1), publish(1, 1, true), publish(MAX_PUBLIC_OUTPUTS_PER_REQUEST, 1)]);
  const { r } = await processFrom(c, 1);
  const outs = bySeq(await c.alice.read(r.outputs, 1n));
  for (const seq of ['2', '3']) {
    const o = outs.get(seq)!;
    assert.equal(o.ok, false);
    assert.equal(!o.ok && o.error.code, 'ENCLAVE_OUTPUT_LIMIT');
  }
  assert.equal((outs.get('4') as { error: { code: string } }).error.code, 'APP_PUB_FAIL');
  assert.deepEqual(outs.get('5'), { seq: '5', ok: true, message: { runs: 1, block: (outs.get('5') as { message: { block: string } }).message.block, timestamp: (outs.get('5') as { message: { timestamp: string } }).message.timestamp } }, 'the refused requests changed nothing (runs is 1)');
  assert.deepEqual(decodePublicOutputs(r.publicOutputs).map((p) => p.seq), Array(MAX_PUBLIC_OUTPUTS_PER_REQUEST).fill(5n));
});

test('the per-batch public-output cap ends the batch early; the rest runs next, with the same outcomes', async () => {
  const n = MAX_PUBLIC_OUTPUTS_PER_BATCH / 2 + 3; // requests of 2 public outputs each: the cap falls inside
  const c = await start(Array.from({ length: n }, () => publish(2, 4)));
  const first = await processFrom(c, 1);
  assert.equal(decodePublicOutputs(first.r.publicOutputs).length, MAX_PUBLIC_OUTPUTS_PER_BATCH);
  assert.equal(first.r.to, String(1 + MAX_PUBLIC_OUTPUTS_PER_BATCH / 2));
  const second = await processFrom(c, Number(first.r.to) + 1);
  assert.equal(second.r.to, String(1 + n));
  assert.equal(decodePublicOutputs(second.r.publicOutputs).length, 2 * n - MAX_PUBLIC_OUTPUTS_PER_BATCH);
  const outs = bySeq([...(await c.alice.read(first.r.outputs, 1n)), ...(await c.alice.read(second.r.outputs, 1n))]);
  for (let i = 1; i <= n; i++) assert.equal((outs.get(String(i + 1)) as { message: { runs: number } }).message.runs, i);
  // A batch that publishes nothing commits the empty list.
  const c2 = await start([]);
  const { r } = await processFrom(c2, 1);
  assert.equal(r.publicOutputs, NO_PUBLIC_OUTPUTS);
});
