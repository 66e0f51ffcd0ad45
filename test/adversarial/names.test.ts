// Issue 7, items 2 and 9: look-alike names. Names are bytes: the contract keys computations by the raw name bytes
// and the enclave now decodes them strictly (a leading U+FEFF kept, ill-formed UTF-8 refused), so "\uFEFFpoll" and
// "poll" are two computations on both sides, and a name the enclave would refuse never reaches the chain.
// Real enclave process, devnet and contracts; the honest host relays.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, concatHex, decodeErrorResult, encodeAbiParameters, toFunctionSelector, type Address, type Hex } from 'viem';
import { createComputation, creationVerdict } from '@geode/app-computations/client';
import { Adversary, ComputationsAbi, revertName, startAdversary, submit, type Name } from '../harness/adversary.ts';

let adv: Adversary;
before(async () => {
  adv = await startAdversary();
});
after(async () => {
  await adv?.stack.stop();
});

const addrs = (names: Name[]): Address[] => names.map((n) => adv.parties[n].address);
const LOOKALIKE = '\uFEFFpoll';

test('attack 2: eve\'s "\\uFEFFpoll" does not capture alice\'s "poll" or her submission', async () => {
  // eve creates the look-alike first (alice, bob, eve; quorum 1), then alice creates "poll" (alice, bob, carol; quorum 3).
  const eveSeq = (await createComputation(adv.parties.eve.client, { name: LOOKALIKE, type: 'average', participants: addrs(['alice', 'bob', 'eve']), quorum: 1 })).seq;
  const aliceSeq = (await createComputation(adv.parties.alice.client, { name: 'poll', type: 'average', participants: addrs(['alice', 'bob', 'carol']), quorum: 3 })).seq;
  const aliceValue = await submit(adv, 'alice', { op: 'submit', computation: 'poll', value: 42 });
  const eveValue = await submit(adv, 'eve', { op: 'submit', computation: LOOKALIKE, value: 1 });
  const eveIntoPoll = await submit(adv, 'eve', { op: 'submit', computation: 'poll', value: 7 });
  const eveResult = await submit(adv, 'eve', { op: 'result', computation: LOOKALIKE });
  await adv.honest();

  // Both creations are accepted by the enclave, each under its own exact name (the CLI shows this verdict).
  const alice = await adv.outputs('alice');
  const eve = await adv.outputs('eve');
  const at = (outs: typeof alice, seq: bigint) => outs.filter((o) => o.seq === seq.toString());
  assert.deepEqual(at(eve, eveSeq).map((o) => [o.ok, o.computation]), [[true, LOOKALIKE]]);
  assert.deepEqual(at(alice, aliceSeq).map((o) => [o.ok, o.computation]), [[true, 'poll']], 'alice is told "created" because the enclave created it');
  // What `geode computation create` prints is judged from that output: created only for exactly this name.
  assert.deepEqual(creationVerdict('poll', at(alice, aliceSeq)[0]!), { created: true });
  assert.deepEqual(creationVerdict(LOOKALIKE, at(eve, eveSeq)[0]!), { created: true });
  assert.equal((creationVerdict('poll', at(eve, eveSeq)[0]!) as { error: { code: string } }).error.code, 'CLI_VERDICT_MISMATCH');
  // The old outcome (an enclave refusal her CLI never showed) is now reported as NOT created.
  const refusal = { seq: aliceSeq.toString(), ok: false as const, error: { code: 'APP_ALREADY_EXISTS', message: 'a computation named "poll" already exists' } };
  assert.deepEqual(creationVerdict('poll', refusal), { created: false, error: refusal.error });
  assert.equal((creationVerdict('poll', null) as { error: { code: string } }).error.code, 'CLI_NO_VERDICT');
  // alice's value went to her computation; eve's result covers eve's value only.
  assert.deepEqual(at(alice, aliceValue).map((o) => [o.ok, o.computation]), [[true, 'poll']]);
  assert.deepEqual(at(eve, eveValue).map((o) => [o.ok, o.computation]), [[true, LOOKALIKE]]);
  assert.deepEqual(at(eve, eveIntoPoll).map((o) => (o.ok ? 'ok' : o.error.code)), ['APP_NOT_AUTHORISED'], 'eve is no participant of alice\'s "poll"');
  const r = at(eve, eveResult)[0]!;
  assert.ok(r.ok && r.result.type === 'average');
  assert.deepEqual(r.result, { type: 'average', value: 1, count: 1 }, "alice's 42 is not in eve's computation");

  assert.equal(await adv.pub.readContract({ address: adv.contract, abi: ComputationsAbi, functionName: 'computationCount' }), 2n);
});

test('attack 2: a name of 64 bytes of 0xff (and other ill-formed UTF-8) is refused on-chain, before it is appended', async () => {
  const before = await adv.chainState();
  for (const bad of [new Uint8Array(64).fill(0xff), new Uint8Array([0x70, 0x6f, 0xc0, 0xaf]), new Uint8Array([0xed, 0xa0, 0x80])]) {
    // createComputation(string,...) with the name ABI-encoded as bytes (the two encode alike).
    const data: Hex = concatHex([
      toFunctionSelector('createComputation(string,uint8,address[],uint256)'),
      encodeAbiParameters([{ type: 'bytes' }, { type: 'uint8' }, { type: 'address[]' }, { type: 'uint256' }], [bytesToHex(bad), 0, addrs(['alice', 'bob']), 1n]),
    ]);
    let name = '';
    try {
      await adv.pub.call({ account: adv.parties.eve.address, to: adv.contract, data });
      assert.fail('the call succeeded');
    } catch (e) {
      const raw = (e as { walk: (f: (x: unknown) => boolean) => { data?: Hex } | null }).walk((x) => typeof (x as { data?: unknown }).data === 'string');
      name = raw?.data ? decodeErrorResult({ abi: ComputationsAbi, data: raw.data }).errorName : revertName(e);
    }
    assert.equal(name, 'ComputationNameNotUtf8');
  }
  assert.equal((await adv.chainState()).requestCount, before.requestCount, 'nothing was appended');
});
