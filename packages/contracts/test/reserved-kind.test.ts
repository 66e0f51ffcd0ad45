// An app contract cannot append the framework's request kinds (docs/protocol.md#rotation): GeodeCore's
// _appendPublicRequest reverts ReservedKind for every kind that begins with "geode." (a rotation request, an output-key
// registration, anything the framework may add), so only GeodeCore itself (requestRotation, registerOutputKey) puts
// them into the ordered log. The probe is an app contract that hands any kind to _appendPublicRequest.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEventLog, type Abi, type Hex } from 'viem';
import { compileContracts } from '../src/build.ts';
import { expectRevert, send, startChain, type Chain } from './helpers.ts';
import { deployCore, openSession, readCore as read, type Deployment } from './fixtures.ts';

const PROBE = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;
import {GeodeCore} from "@geode/contracts/GeodeCore.sol";
contract KindProbe is GeodeCore {
    constructor(bytes32[] memory m, address v, address s, bytes32 g, bytes32 p, address a) GeodeCore(m, v, s, g, p, a) {}
    function append(string calldata kind) external returns (uint256) { return _appendPublicRequest(msg.sender, kind, ""); }
}
`;

let c: Chain;
let d: Deployment;
before(async () => {
  const probe = compileContracts({ 'test/KindProbe.sol': PROBE }).contracts.KindProbe!;
  c = await startChain();
  d = await deployCore(c, { abi: probe.abi as Abi, bytecode: probe.bytecode });
  await openSession(d);
});

const logState = async () => ({ requestCount: await read<bigint>(d, 'requestCount'), accumulator: await read<Hex>(d, 'accumulator'), rotationCount: await read<bigint>(d, 'rotationCount') });

test('ReservedKind: an app contract appending a geode.* kind is reverted and the log is unchanged; other kinds are appended', async () => {
  const before = await logState();
  for (const kind of ['geode.rotate-epoch', 'geode.register-key', 'geode.', 'geode.anything-new']) {
    await expectRevert(send(c, c.wallets[1], d.core, d.abi, 'append', [kind]), 'ReservedKind');
  }
  assert.deepEqual(await logState(), before, 'no request appended, no accumulator step, no rotation');
  // Names that only resemble the prefix are the app's own.
  let n = before.requestCount;
  for (const kind of ['geode', 'geodes.x', 'Geode.rotate-epoch', 'app.geode.x']) {
    const r = await send(c, c.wallets[1], d.core, d.abi, 'append', [kind]);
    const ev = r.logs.map((l) => decodeEventLog({ abi: d.abi, ...l })).find((e) => e.eventName === 'RequestSubmitted');
    assert.equal((ev?.args as unknown as { seq: bigint }).seq, ++n, kind);
  }
  const after = await logState();
  assert.equal(after.requestCount, n);
  assert.equal(after.rotationCount, 0n);
  assert.notEqual(after.accumulator, before.accumulator);
});
