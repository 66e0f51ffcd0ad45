// `geode dev --light-client ethereum` through the real CLI: the devnet serves its Beacon light-client API on the
// JSON-RPC port, dev.json records the light client and its anchor, and the everyday commands work through the
// sync-committee light client (each waits for the devnet's finality).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { geode as run, startDev, stopDev } from './dev-process.ts';

/** `geode ... --json` through the prebuilt bundle (as `geode dev` itself runs): exit code and last stdout line. */
async function geode(args: string[], home: string): Promise<{ code: number; last: Record<string, any> }> {
  const r = await run([...args, '--json'], { env: { ...process.env, GEODE_HOME: home }, timeout: 120_000 });
  return { code: r.code, last: JSON.parse(r.stdout.trim().split('\n').at(-1) || '{}') };
}

test('geode dev --light-client ethereum: Beacon API on the RPC port, dev.json names the anchor, a computation runs end to end', { timeout: 300_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'geode-cli-eth-'));
  const dev = await startDev(['--home', home, '--light-client', 'ethereum'], { ...process.env, GEODE_HOME: home });
  try {
    const info = JSON.parse(readFileSync(join(home, 'dev.json'), 'utf8')) as { lightClient: string; beaconUrl: string; rpcUrl: string; ethereumAnchor: { checkpoint: string; preset: string } };
    assert.equal(info.lightClient, 'ethereum');
    assert.equal(info.beaconUrl, info.rpcUrl);
    assert.equal(info.ethereumAnchor.preset, 'mainnet');
    const fin = await fetch(`${info.beaconUrl}/eth/v1/beacon/light_client/finality_update`);
    assert.equal(fin.status, 200);
    assert.equal(((await fin.json()) as { version: string }).version, 'electra');
    const boot = await fetch(`${info.beaconUrl}/eth/v1/beacon/light_client/bootstrap/${info.ethereumAnchor.checkpoint}`);
    assert.equal(boot.status, 200);
    const must = async (args: string[]) => { const x = await geode(args, home); assert.equal(x.code, 0, `${args.join(' ')}: ${JSON.stringify(x.last)}`); return x.last; };
    for (const who of ['alice', 'bob']) await must(['identity', 'create', who]);
    await must(['computation', 'create', 'avg', '--type', 'average', '--participants', 'alice,bob', '--quorum', '1', '--as', 'alice']);
    await must(['computation', 'submit', 'avg', '7', '--as', 'alice']);
    const r = await geode(['computation', 'result', 'avg', '--as', 'alice'], home);
    assert.equal(r.code, 0, JSON.stringify(r.last));
    assert.deepEqual(r.last.output, { type: 'average', value: 7, count: 1 });
  } finally {
    await stopDev(dev);
  }
});

test('geode dev --light-client: an unknown kind, or ethereum with --rpc, is refused before anything starts', { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'geode-cli-eth-bad-'));
  const bad = await geode(['dev', '--light-client', 'tendermint'], home);
  assert.equal(bad.code, 1);
  assert.equal(bad.last.error.code, 'CLI_BAD_ARGUMENT');
  assert.match(bad.last.error.message, /--light-client must be one of devnet, ethereum/);
  const withRpc = await geode(['dev', '--light-client', 'ethereum', '--rpc', 'http://127.0.0.1:1', '--private-key', `0x${'11'.repeat(32)}`], home);
  assert.equal(withRpc.code, 1);
  assert.equal(withRpc.last.error.code, 'CLI_BAD_ARGUMENT');
  assert.match(withRpc.last.error.message, /--light-client ethereum runs the embedded devnet/);
});
