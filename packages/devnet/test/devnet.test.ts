import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicClient, createWalletClient, http, keccak256, parseEther, recoverAddress, webSocket, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { blockSigningDigest, decodeHeader } from '@geode/protocol';
import { devAccounts, devnetTransport, serveDevnet, startDevnet, UnknownBlockError } from '@geode/devnet';

const [deployer, operator] = devAccounts(2);

test('devnet: reproducible genesis, signed headers that recover to the block signer', async () => {
  const fund = [{ address: deployer!.address, balance: parseEther('1000') }];
  const a = await startDevnet({ fund });
  const b = await startDevnet({ fund });
  assert.equal(a.genesisHash, b.genesisHash, 'same options must give the same genesis hash');
  const c = await startDevnet({ fund, genesisTime: 1_700_000_001n });
  assert.notEqual(a.genesisHash, c.genesisHash);

  const wallet = createWalletClient({ account: privateKeyToAccount(deployer!.privateKey), transport: devnetTransport(a), chain: undefined });
  const heads: bigint[] = [];
  a.onNewHead((h) => heads.push(h.number));
  await wallet.sendTransaction({ to: operator!.address, value: 1n, chain: undefined });
  await wallet.sendTransaction({ to: operator!.address, value: 2n, chain: undefined });
  assert.deepEqual(heads, [1n, 2n]);

  const h = await a.getSignedHeader('latest');
  assert.equal(h.number, 2n);
  const fields = decodeHeader(h.rlp);
  assert.equal(fields.hash, h.hash, 'keccak(rlp) must be the block hash');
  assert.equal(keccak256(h.rlp), h.hash);
  const sig = h.signature as Hex;
  const recovered = await recoverAddress({ hash: blockSigningDigest(a.chainId, h.number, h.hash), signature: sig });
  assert.equal(recovered, a.blockSigner);
  const parent = await a.getSignedHeader(1n);
  assert.equal(fields.parentHash, parent.hash);
  await assert.rejects(a.getSignedHeader(99n), UnknownBlockError);
  await Promise.all([a.close(), b.close(), c.close()]);
});

test('devnet: HTTP and WebSocket JSON-RPC with push subscriptions', async () => {
  const d = await startDevnet({ fund: [{ address: deployer!.address, balance: parseEther('10') }] });
  const srv = await serveDevnet(d, { port: 0 });
  try {
    const pub = createPublicClient({ transport: http(srv.url) });
    assert.equal(await pub.getChainId(), 31337);
    const info = (await pub.request({ method: 'geode_devnetInfo' as never })) as { genesisHash: Hex; blockSigner: Hex };
    assert.equal(info.genesisHash, d.genesisHash);
    const ws = createPublicClient({ transport: webSocket(srv.wsUrl) });
    const seen = new Promise<bigint>((resolve) => {
      const un = ws.watchBlockNumber({ onBlockNumber: (n) => { un(); resolve(n); }, emitOnBegin: false });
    });
    await new Promise((r) => setTimeout(r, 50));
    const wallet = createWalletClient({ account: privateKeyToAccount(deployer!.privateKey), transport: http(srv.url), chain: undefined });
    await wallet.sendTransaction({ to: operator!.address, value: 1n, chain: undefined });
    assert.equal(await seen, 1n);
    const bad = await fetch(srv.url, { method: 'POST', body: '{not json' });
    assert.equal(((await bad.json()) as { error: { code: number } }).error.code, -32700);
    await (ws.transport as unknown as { getRpcClient(): Promise<{ close(): void }> }).getRpcClient().then((c) => c.close());
  } finally {
    await srv.close();
    await d.close();
  }
});

test('devnet: a lost new-heads subscription stalls neither signed headers nor onNewHead (EDR drops unpolled filters after 5 min)', async () => {
  const d = await startDevnet({ keepAliveMs: 30 });
  const heads: bigint[] = [];
  d.onNewHead((h) => heads.push(h.number));
  const r = (method: string, params: unknown[] = []) => d.request({ method, params });
  // The devnet's own subscription is the filter just below the next one made: drop it, as EDR's filter deadline does.
  const next = BigInt((await r('eth_subscribe', ['newHeads'])) as Hex);
  assert.equal(await r('eth_unsubscribe', [`0x${(next - 1n).toString(16)}`]), true);
  await r('evm_mine');
  await r('evm_mine');
  // Before the fix: DEVNET_UNKNOWN_BLOCK for every block mined after the subscription was gone.
  const latest = await d.getSignedHeader('latest');
  assert.equal(latest.number, 2n);
  const block = (await r('eth_getBlockByNumber', ['0x2', false])) as { hash: Hex };
  assert.equal(latest.hash, block.hash);
  assert.equal(await recoverAddress({ hash: blockSigningDigest(d.chainId, 2n, block.hash), signature: latest.signature }), d.blockSigner);
  assert.equal(decodeHeader(latest.rlp).number, 2n);
  // The keep-alive finds the subscription gone, makes it again and announces the missed heads in order, once each.
  for (let i = 0; i < 100 && heads.length < 2; i++) await new Promise((res) => setTimeout(res, 20));
  assert.deepEqual(heads, [1n, 2n]);
  await r('evm_mine');
  for (let i = 0; i < 100 && heads.length < 3; i++) await new Promise((res) => setTimeout(res, 20));
  assert.deepEqual(heads, [1n, 2n, 3n], 'heads after the new subscription arrive by push again');
  await d.close();
});
