// `--rpc URL --beacon URL --checkpoint ROOT` against another chain than mainnet: a served `--light-client ethereum`
// devnet. The second stack reads the anchor from the devnet's Beacon API (genesis, fork schedule, preset), deploys
// its own contract on that chain and runs the sync-committee light client over HTTP end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toBytes, type Hex } from 'viem';
import pino from 'pino';
import { createIdentity, GeodeClient, verifyActiveSession } from '@geode/client';
import { startDevStack } from '../src/stack.ts';

const quiet = pino({ level: 'silent' });

test('geode dev --rpc <devnet> --beacon <devnet> --checkpoint: the anchor comes from the Beacon API and a request is committed through it', { timeout: 300_000 }, async () => {
  const served = await startDevStack({ logger: quiet, servePort: 0, lightClient: 'ethereum', beacon: { slotMs: 500 } });
  try {
    const a = served.deployment.config.ethereumAnchor!;
    const alice = await createIdentity('alice', toBytes(keccak256(toBytes('geode-rpc-ethereum:alice'))));
    const remote = await startDevStack({
      logger: quiet, fund: [alice.address],
      rpc: { url: served.server!.url, privateKey: served.faucetKey, beacon: { url: served.server!.url, checkpoint: a.checkpoint as Hex } },
    });
    try {
      const b = remote.deployment.config.ethereumAnchor!;
      assert.equal(b.network, `chain-${served.chain.chainId}`);
      assert.deepEqual({ ...b, network: a.network }, a, 'the same anchor as the devnet\'s own deployment');
      const session = await verifyActiveSession({
        publicClient: remote.chain.publicClient, chainId: remote.chain.chainId, contract: remote.deployment.contract,
        collateral: remote.pki.collateral() as never, rootCaDer: remote.pki.rootCaDer, policy: remote.policy, now: Math.floor(Date.now() / 1000),
      });
      const client = new GeodeClient({ publicClient: remote.chain.publicClient, wallet: remote.chain.wallet, chainId: remote.chain.chainId, contract: remote.deployment.contract, identity: alice, session });
      const r = await client.registerOutputKey();
      await remote.host.waitCommitted(r.seq);
      assert.equal((await remote.enclave.call('status')).lastSeq, r.seq.toString());
    } finally {
      await remote.stop();
    }
  } finally {
    await served.stop();
  }
});
