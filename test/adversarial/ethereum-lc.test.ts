// A host feeding forged beacon data to an enclave that runs Ethereum's sync-committee light client (the devnet's
// Beacon API, `lightClient: 'ethereum'`): every mutation is refused with its typed LC_* code and moves nothing the
// enclave trusts (status, sealed files); the honest host then carries on from the same store. The devnet's beacon
// chain runs 8 blocks per sync-committee period here, so the store crosses several committee rotations on the way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { getAbiItem, keccak256, toBytes, type Hex } from 'viem';
import { batchProofKeys, encodeHeaderRlp, UNSIGNED_HEADER_SIGNATURE, type LogRequestJson } from '@geode/protocol';
import { createIdentity, GeodeClient, verifyActiveSession } from '@geode/client';
import { GeodeCoreAbi } from '@geode/contracts';
import { startDevStack } from '@geode/cli';
import { dirDigest, quiet } from '../harness/adversary.ts';

const SLOTS_PER_PERIOD = 32 * 256;

test('ethereum light client: forged beacon updates are refused with LC_* codes and the enclave\'s trusted state does not move', { timeout: 300_000 }, async () => {
  const ids = await Promise.all(['alice', 'bob'].map((n) => createIdentity(n, toBytes(keccak256(toBytes(`geode-ethereum-lc:${n}`))))));
  const stack = await startDevStack({ logger: quiet, lightClient: 'ethereum', beacon: { slotsPerBlock: SLOTS_PER_PERIOD / 16, slotMs: 400 }, fund: ids.map((i) => i.address) });
  try {
    assert.ok(stack.beacon, 'the stack serves the devnet beacon');
    const session = await verifyActiveSession({
      publicClient: stack.chain.publicClient, chainId: stack.chain.chainId, contract: stack.deployment.contract,
      collateral: stack.pki.collateral() as never, rootCaDer: stack.pki.rootCaDer, policy: stack.policy, now: Math.floor(Date.now() / 1000),
    });
    const client = (i: number) => new GeodeClient({ publicClient: stack.chain.publicClient, wallet: stack.chain.wallet, chainId: stack.chain.chainId, contract: stack.deployment.contract, identity: ids[i]!, session });
    const first = await client(0).registerOutputKey();
    await stack.host.waitCommitted(first.seq);
    await stack.host.stop();

    // From here the test is the host: one pending request, its honest inputs, then forgeries of them.
    const second = await client(1).registerOutputKey();
    const honest = await stack.chain.getSignedHeader(second.block);
    assert.ok(honest.beacon?.finalityUpdate && honest.beacon.updates?.length, 'an incremental call carries period updates and a finality update');
    const logs = await stack.chain.publicClient.getLogs({ address: stack.deployment.contract, event: getAbiItem({ abi: GeodeCoreAbi, name: 'RequestSubmitted' }), fromBlock: second.block, toBlock: second.block });
    const a = logs[0]!.args as { seq: bigint; sender: Hex; payload: Hex; sessionId: bigint };
    const requests: LogRequestJson[] = [{ seq: a.seq.toString(), sender: a.sender, payload: a.payload, sessionId: a.sessionId.toString() }];
    const p = await stack.chain.publicClient.getProof({ address: stack.deployment.contract, storageKeys: batchProofKeys(second.seq), blockNumber: honest.number });
    const proof = {
      address: p.address, balance: `0x${p.balance.toString(16)}`, nonce: `0x${p.nonce.toString(16)}`, codeHash: p.codeHash, storageHash: p.storageHash,
      accountProof: p.accountProof, storageProof: p.storageProof.map((s) => ({ key: s.key, value: `0x${s.value.toString(16)}`, proof: s.proof })),
    };
    const enclaveDir = join(stack.dataDir, 'enclave');
    const before = { status: await stack.enclave.call('status'), files: dirDigest(enclaveDir) };
    const beacon = honest.beacon;
    const flip = (h: string) => `${h.slice(0, -2)}${h.endsWith('00') ? '01' : '00'}`;
    const withFinality = (f: (d: any) => void) => { const x = structuredClone(beacon); f((x.finalityUpdate as any).data); return x; };
    const withUpdate = (f: (d: any) => void) => { const x = structuredClone(beacon); f((x.updates![x.updates!.length - 1] as any).data); return x; };
    const header = { rlp: honest.rlp, signature: honest.signature };
    const previous = await stack.chain.publicClient.request({ method: 'eth_getBlockByNumber', params: [`0x${(honest.number - 1n).toString(16)}`, false] });
    const attacks: [string, Record<string, unknown>][] = [
      ['LC_SYNC_SIGNATURE', { header, beacon: withFinality((d) => { d.sync_aggregate.sync_committee_signature = `0xa0${String(d.sync_aggregate.sync_committee_signature).slice(4)}`; }) }],
      ['LC_SYNC_SIGNATURE', { header, beacon: withFinality((d) => { d.attested_header.beacon.proposer_index = String(Number(d.attested_header.beacon.proposer_index) + 1); }) }],
      ['LC_FINALITY_BRANCH', { header, beacon: withFinality((d) => { d.finality_branch[1] = flip(d.finality_branch[1]); }) }],
      ['LC_EXECUTION_BRANCH', { header, beacon: withFinality((d) => { d.finalized_header.execution.state_root = flip(d.finalized_header.execution.state_root); }) }],
      // A forged next committee: LC_SYNC_COMMITTEE_BRANCH, or LC_SYNC_COMMITTEE_CONFLICT when the enclave's store already
      // holds that period's next committee (the spec checks equality before the branch; which holds depends on how far
      // the store has synced when the attack runs, so both are the refusal this forgery must get).
      ['LC_SYNC_COMMITTEE_BRANCH|LC_SYNC_COMMITTEE_CONFLICT', { header, beacon: withUpdate((d) => { d.next_sync_committee.pubkeys[0] = d.next_sync_committee.pubkeys[1]; }) }],
      ['LC_SYNC_SIGNATURE', { header, beacon: withUpdate((d) => { d.sync_aggregate.sync_committee_bits = `0x${'ff'.repeat(63)}fe`; }) }],
      ['LC_BEACON_DECODE', { header, beacon: { ...beacon, bootstrap: await stack.beacon!.bootstrap(stack.deployment.config.ethereumAnchor!.checkpoint as Hex) } }],
      ['LC_EXECUTION_BLOCK_MISMATCH', { header: { rlp: encodeHeaderRlp(previous as never), signature: UNSIGNED_HEADER_SIGNATURE }, beacon }],
      ['LC_HEADER_SIGNATURE', { header: { rlp: honest.rlp, signature: `0x${'11'.repeat(65)}` }, beacon }],
    ];
    for (const [code, forged] of attacks) {
      await assert.rejects(stack.enclave.call('processBatch', { proof, requests, ...forged } as never), (e: unknown) => {
        assert.ok(code.split('|').includes((e as { code?: string }).code ?? ''), `expected enclave refusal ${code}, got ${(e as Error).message}`);
        return true;
      });
      assert.deepEqual(await stack.enclave.call('status'), before.status, `${code}: status unchanged`);
      assert.deepEqual(dirDigest(enclaveDir), before.files, `${code}: sealed files unchanged`);
    }

    // The honest host continues from the untouched store (incrementally: no new bootstrap) and commits the request.
    await stack.host.start();
    await stack.host.waitCommitted(second.seq);
    const after = await stack.enclave.call('status');
    assert.equal(after.lastSeq, second.seq.toString());
    const finalizedPeriod = Math.floor(stack.beacon!.slotOf(BigInt(after.trustedBlock)) / SLOTS_PER_PERIOD);
    assert.ok(finalizedPeriod >= 1, `the store rotated sync committees (finalized period ${finalizedPeriod})`);
  } finally {
    await stack.stop();
  }
});
