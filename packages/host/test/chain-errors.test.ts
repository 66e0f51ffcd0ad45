import { test } from 'node:test';
import assert from 'node:assert/strict';
import { custom } from 'viem';
import { chainAccessFromTransport } from '../src/chain.ts';

/** A transport whose geode_getSignedHeader fails with the JSON-RPC error `code`. */
const failing = (code: number, message: string) =>
  custom({
    async request({ method }) {
      if (method === 'geode_getSignedHeader') throw Object.assign(new Error(message), { code });
      throw Object.assign(new Error('not served in this test'), { code: -32601 });
    },
  }, { retryCount: 0 });

test('chain: only a missing geode_getSignedHeader method is reported as "not a Geode devnet"; other failures say what failed', async () => {
  const missing = chainAccessFromTransport({ chainId: 31337n, transport: failing(-32601, 'the method geode_getSignedHeader does not exist') });
  await assert.rejects(missing.getSignedHeader(5n), (e: Error & { code?: string }) => e.code === 'HOST_CHAIN' && /does not serve geode_getSignedHeader/.test(e.message));
  const unknown = chainAccessFromTransport({ chainId: 31337n, transport: failing(-32000, 'Block 5 does not exist on the devnet yet.') });
  await assert.rejects(unknown.getSignedHeader(5n), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'HOST_CHAIN');
    assert.doesNotMatch(e.message, /does not serve/);
    assert.match(e.message, /geode_getSignedHeader\(5\) failed: .*Block 5 does not exist/);
    return true;
  });
});
