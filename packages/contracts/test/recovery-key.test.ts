// GeodeCore.setRecoveryKey (docs/protocol.md#backup): admin only, non-zero, and only before the first session, so the
// key a backup is sealed to is fixed before any key material exists; it is readable at SLOT.recoveryKey.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEventLog, type Hex } from 'viem';
import { SLOT, slotKey } from '@geode/protocol';
import { GeodeCoreAbi } from '../src/index.ts';
import { expectRevert, randomHex32, send, startChain, type Chain } from './helpers.ts';
import { createSession, deployCore } from './fixtures.ts';

let c: Chain;
before(async () => {
  c = await startChain();
});

test('setRecoveryKey: the admin sets it before the first session (event, view, proven slot); zero, a non-admin or after a session is refused', async () => {
  const d = await deployCore(c);
  const key = randomHex32();
  assert.equal(await c.publicClient.readContract({ address: d.core, abi: GeodeCoreAbi, functionName: 'recoveryKey' }), `0x${'00'.repeat(32)}`);
  await expectRevert(c.wallets[1].writeContract({ address: d.core, abi: GeodeCoreAbi, functionName: 'setRecoveryKey', args: [key] }), 'NotAdmin');
  await expectRevert(c.wallets[0].writeContract({ address: d.core, abi: GeodeCoreAbi, functionName: 'setRecoveryKey', args: [`0x${'00'.repeat(32)}`] }), 'ZeroRecoveryKey');
  const r = await send(c, c.wallets[0], d.core, GeodeCoreAbi, 'setRecoveryKey', [key]);
  const ev = decodeEventLog({ abi: GeodeCoreAbi, ...r.logs[0]! });
  assert.deepEqual([ev.eventName, (ev.args as { key: Hex }).key], ['RecoveryKeySet', key]);
  assert.equal(await c.publicClient.readContract({ address: d.core, abi: GeodeCoreAbi, functionName: 'recoveryKey' }), key);
  assert.equal(await c.publicClient.getStorageAt({ address: d.core, slot: slotKey(SLOT.recoveryKey) }), key, 'the enclave proves this slot');
  // Once a session exists (even pending), the key is fixed.
  await createSession(d);
  await expectRevert(c.wallets[0].writeContract({ address: d.core, abi: GeodeCoreAbi, functionName: 'setRecoveryKey', args: [randomHex32()] }), 'RecoveryKeyFixed');
  assert.equal(await c.publicClient.readContract({ address: d.core, abi: GeodeCoreAbi, functionName: 'recoveryKey' }), key);
});
