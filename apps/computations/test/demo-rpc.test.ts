import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEther } from 'viem';
import pino from 'pino';
import { devAccounts, serveDevnet, startDevnet } from '@geode/devnet';
import { fileURLToPath } from 'node:url';
import { runAppDemo, type Reporter } from '@geode/cli/app-kit';
import type { DemoResult } from '../src/client/demo.ts';

/** `geode demo --app apps/computations`, typed with this app's result. */
const runDemo = async (rep: Reporter, o: Parameters<typeof runAppDemo>[2] = {}) => (await runAppDemo(fileURLToPath(new URL('..', import.meta.url)), rep, o)) as unknown as DemoResult;
const quiet: Reporter = { json: true, progress() {}, say() {}, result() {}, logger: pino({ level: 'silent' }) };
const payer = devAccounts(0)[0]!; // 'deployer' dev key, funded below

async function chain(plainEvm: boolean) {
  const d = await startDevnet({ fund: [{ address: payer.address, balance: parseEther('1000') }] });
  const srv = await serveDevnet(d, { port: 0, plainEvm });
  return { url: srv.url, async stop() { await srv.close(); await d.close(); } };
}

test('--rpc: a Geode devnet over HTTP works with its signed headers (light client, not trusted RPC)', { timeout: 180_000 }, async () => {
  const c = await chain(false);
  try {
    const r = await runDemo(quiet, { rpc: c.url, privateKey: payer.privateKey });
    assert.equal(r.ok, true);
    assert.equal(r.attestation.trustedRpc, false);
    assert.deepEqual(r.computations.find((x) => x.name === 'top-seller')!.results.alice, { max: 'bob' });
  } finally {
    await c.stop();
  }
});

test('--rpc: any other EVM endpoint is refused without --insecure-trusted-rpc, and works with it', { timeout: 180_000 }, async () => {
  const c = await chain(true);
  try {
    await assert.rejects(runDemo(quiet, { rpc: c.url, privateKey: payer.privateKey }), (e: unknown) => (e as { code?: string }).code === 'CLI_BAD_ARGUMENT' && /insecure-trusted-rpc/.test((e as Error).message));
    const r = await runDemo(quiet, { rpc: c.url, privateKey: payer.privateKey, insecureTrustedRpc: true });
    assert.equal(r.ok, true);
    assert.equal(r.attestation.trustedRpc, true);
    const avg = (100_000 + 130_000 + 90_000) / 3;
    assert.deepEqual(r.computations.find((x) => x.name === 'salary-average')!.results.dave, { average: avg, count: 3 });
  } finally {
    await c.stop();
  }
});

test('--rpc argument errors are refused before anything starts', async () => {
  await assert.rejects(runDemo(quiet, { rpc: 'ftp://x' , privateKey: payer.privateKey }), /http\(s\):\/\/ or ws\(s\):\/\//);
  await assert.rejects(runDemo(quiet, { rpc: 'http://127.0.0.1:1' }), /private-key/);
  await assert.rejects(runDemo(quiet, { insecureTrustedRpc: true }), /only applies with --rpc/);
});
