// Attacker on the network vs. the devnet's RPC port (issue 7 item 4). The devnet's signed headers are the enclave's
// light client, so a state-rewriting method reachable over HTTP would let anyone with the port rewrite requestCount,
// the accumulator, committedSeq or stateRoot and have the block signer sign the result. Over plain HTTP, with no key,
// every such call must be refused with JSON-RPC -32601 and change no storage and no block number; in-process (the
// control) the same call does change storage, which shows the probe can see an effect.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pad, toHex, type Address, type Hex } from 'viem';
import { WebSocket } from 'ws';
import { SLOT, slotKey } from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts';
import { devAccounts } from '@geode/devnet';
import { startDevStack, type DevStack } from '@geode/cli';
import { quiet } from '../harness/adversary.ts';

let stack: DevStack;
let contract: Address;
const WATCHED = { requestCount: SLOT.requestCount, committedSeq: SLOT.committedSeq, stateRoot: SLOT.stateRoot };

before(async () => {
  stack = await startDevStack({ logger: quiet, servePort: 0 });
  contract = stack.deployment.contract;
});

after(async () => {
  await stack?.stop();
});

interface RpcReply { id: number; result?: unknown; error?: { code: number; message: string } }

async function rpc(method: string, params: unknown[]): Promise<RpcReply> {
  const res = await fetch(stack.server!.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return (await res.json()) as RpcReply;
}

/** Send each call over one WebSocket connection; resolve with the replies in order. */
async function wsRpc(calls: [string, unknown[]][]): Promise<RpcReply[]> {
  const ws = new WebSocket(stack.server!.wsUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  try {
    const replies: RpcReply[] = [];
    for (const [i, [method, params]] of calls.entries()) {
      const reply = new Promise<RpcReply>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()) as RpcReply)));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: i, method, params }));
      replies.push(await reply);
    }
    return replies;
  } finally {
    ws.close();
  }
}

/** Everything the attack could change: the watched slots, the block number, the contract's code, an EOA's balance. */
async function observed(victim: Address): Promise<Record<string, unknown>> {
  const pub = stack.chain.publicClient;
  const out: Record<string, unknown> = {};
  for (const [name, slot] of Object.entries(WATCHED)) out[name] = await pub.getStorageAt({ address: contract, slot: slotKey(slot) });
  out.accumulator = await pub.readContract({ address: contract, abi: GeodeCoreAbi, functionName: 'accumulator' });
  out.blockNumber = await pub.getBlockNumber();
  out.code = await pub.getCode({ address: contract });
  out.balance = await pub.getBalance({ address: victim });
  return out;
}

test('rpc surface: over HTTP and WebSocket the review\'s state-rewriting calls are refused with -32601 and change nothing', async () => {
  const victim = devAccounts(4)[3]!.address;
  const forged: Hex = pad(toHex(0xdead), { size: 32 });
  const before = await observed(victim);
  const attack: [string, unknown[]][] = [
    ...Object.values(WATCHED).map((slot): [string, unknown[]] => ['hardhat_setStorageAt', [contract, toHex(slot), forged]]),
    ['hardhat_setCode', [contract, '0x00']],
    ['hardhat_setBalance', [victim, '0x0']],
    ['hardhat_setNonce', [victim, '0x99']],
    ['hardhat_impersonateAccount', [devAccounts(2)[1]!.address]],
    ['hardhat_mine', ['0x5']],
    ['evm_mine', []],
    ['evm_snapshot', []],
    ['evm_revert', ['0x1']],
    ['evm_setNextBlockTimestamp', ['0x1']],
    ['evm_increaseTime', ['0x1000']],
    ['anvil_setStorageAt', [contract, '0x1', forged]],
    ['debug_traceTransaction', ['0x' + '00'.repeat(32)]],
    ['personal_sign', ['0x00', victim]],
    ['eth_sendTransaction', [{ from: victim, to: contract, value: '0x1' }]],
    ['eth_sign', [victim, '0x00']],
    ['eth_signTypedData_v4', [victim, '{}']],
  ];
  for (const [method, params] of attack) {
    const reply = await rpc(method, params);
    assert.equal(reply.result, undefined, `${method} must not answer a result`);
    assert.equal(reply.error?.code, -32601, `${method} must be refused as method-not-found, got ${JSON.stringify(reply.error)}`);
    assert.match(reply.error!.message, new RegExp(`${method} is not served.*docs/security\\.md#devnet-rpc-surface`));
  }
  // The same attack in one batch request is refused the same way.
  const batch = await fetch(stack.server!.url, { method: 'POST', body: JSON.stringify(attack.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }))) });
  for (const r of (await batch.json()) as RpcReply[]) assert.equal(r.error?.code, -32601);
  // And over WebSocket (same port).
  for (const r of await wsRpc(attack)) assert.equal(r.error?.code, -32601, JSON.stringify(r));
  assert.deepEqual(await observed(victim), before, 'storage, code, balance and block number must be unchanged');
  // The devnet holds no account for a network client.
  assert.deepEqual((await rpc('eth_accounts', [])).result, []);
});

test('rpc surface: the standard read methods and geode_* are still served over HTTP', async () => {
  assert.equal((await rpc('eth_chainId', [])).result, '0x7a69');
  assert.equal(typeof (await rpc('eth_blockNumber', [])).result, 'string');
  assert.equal(typeof (await rpc('web3_clientVersion', [])).result, 'string');
  const proof = await rpc('eth_getProof', [contract, [slotKey(SLOT.requestCount)], 'latest']);
  assert.equal(proof.error, undefined);
  const header = await rpc('geode_getSignedHeader', ['latest']);
  assert.equal(header.error, undefined);
});

test('rpc surface (control): in-process the same setStorageAt rewrites storage, so the probe above sees effects', async () => {
  const pub = stack.chain.publicClient;
  const forged: Hex = pad(toHex(0xbeef), { size: 32 });
  const original = await pub.getStorageAt({ address: contract, slot: slotKey(SLOT.stateRoot) });
  await stack.devnet!.request({ method: 'hardhat_setStorageAt', params: [contract, toHex(SLOT.stateRoot), forged] });
  assert.equal(await pub.getStorageAt({ address: contract, slot: slotKey(SLOT.stateRoot) }), forged);
  await stack.devnet!.request({ method: 'hardhat_setStorageAt', params: [contract, toHex(SLOT.stateRoot), original ?? pad('0x0', { size: 32 })] });
});
