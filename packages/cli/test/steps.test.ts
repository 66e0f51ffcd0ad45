// The Quartz-style steps one by one against an EVM endpoint (an embedded devnet served over HTTP): geode deploy,
// geode enclave start, geode handshake, geode status — each step's files and what status reports at each point —
// then geode rotate (the admin's rotation, committed by the running host; a non-admin refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hexToBytes, parseEther, type Address, type Hex } from 'viem';
import pino from 'pino';
import { devAccounts, serveDevnet, startDevnet } from '@geode/devnet';
import { GeodeClient, createIdentity, verifyActiveSession } from '@geode/client';
import { chainAccessFromUrl } from '@geode/host';
import { defaultApp } from '../src/stack.ts';
import { deployApp, handshake, startEnclave, status } from '../src/steps.ts';
import { GEODE_BIN } from './dev-process.ts';
import { rotate, setRotationSchedule } from '../src/rotate.ts';
import { GeodeCoreAbi } from '@geode/contracts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const payer = devAccounts(0)[0]!;

function geode(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GEODE_BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}

test('deploy, enclave start, handshake, status: step by step against a JSON-RPC endpoint', { timeout: 300_000 }, async () => {
  const d = await startDevnet({ fund: [{ address: payer.address, balance: parseEther('1000') }] });
  const srv = await serveDevnet(d, { port: 0 });
  const dataDir = join(mkdtempSync(join(tmpdir(), 'geode-steps-')), 'data');
  let running: Awaited<ReturnType<typeof startEnclave>> | undefined;
  try {
    await assert.rejects(startEnclave({ dataDir }), (e: unknown) => (e as { code?: string }).code === 'CLI_STEP_MISSING');
    await assert.rejects(handshake(dataDir), (e: unknown) => (e as { code?: string }).code === 'CLI_STEP_MISSING');

    const dep = await deployApp({ app: defaultApp(), rpcUrl: srv.url, privateKey: payer.privateKey, dataDir });
    assert.deepEqual(readdirSync(dataDir).sort(), ['deployment.json', 'operator-key.json', 'sim-pki.json']);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    for (const f of readdirSync(dataDir)) assert.equal(statSync(join(dataDir, f)).mode & 0o777, 0o600, f);
    const before = await status(dep, dataDir);
    assert.equal(before.ok, false);
    assert.ok('error' in before.session, 'no session before the handshake');
    assert.deepEqual([before.enclave, before.host], [null, null]);

    running = await startEnclave({ dataDir, logger: pino({ level: 'silent' }) });
    const started = await status(dep, dataDir);
    assert.deepEqual([started.ok, started.enclave?.running, started.host?.relaying], [false, true, false], 'started, waiting for the handshake');

    const hs = await handshake(dataDir);
    assert.equal(hs.sessionId, '1');
    const up = await status(dep, dataDir);
    assert.equal(up.ok, true, JSON.stringify(up));
    assert.ok(!('error' in up.session));
    assert.deepEqual([up.session.id, up.session.measurement, up.session.verdict.status, up.session.simulated], ['1', dep.measurement, 'UpToDate', true]);

    // A client of the deployment: one request (an output-key registration) is appended, then committed.
    const chain = await chainAccessFromUrl(srv.url);
    try {
      const session = await verifyActiveSession({ publicClient: chain.publicClient, chainId: chain.chainId, contract: dep.contract as Address, collateral: dep.collateral as never, rootCaDer: hexToBytes(dep.simRootCaDer as Hex), policy: dep.policy as never, now: Math.floor(Date.now() / 1000) });
      const id = await createIdentity('alice');
      const fund = await chain.wallet((await import('viem/accounts')).privateKeyToAccount(payer.privateKey)).sendTransaction({ to: id.address as Address, value: parseEther('1') });
      await chain.publicClient.waitForTransactionReceipt({ hash: fund, pollingInterval: 50 });
      const alice = new GeodeClient({ publicClient: chain.publicClient, wallet: chain.wallet, chainId: chain.chainId, contract: dep.contract as Address, identity: id, session });
      const reg = await alice.registerOutputKey();
      await alice.waitForOutputs(reg.seq, { fromBlock: BigInt(dep.fromBlock) });
    } finally {
      await chain.close();
    }
    const after = await status(dep, dataDir);
    assert.deepEqual([after.ok, after.committedSeq, after.requestCount, after.pending], [true, '1', '1', '0']);
    assert.equal(after.epoch.epoch, '0', 'no rotation yet: epoch 0 is the session key');
    assert.match(after.epoch.encPubKey, /^0x[0-9a-f]{64}$/);
    assert.notEqual(after.epoch.encPubKey, `0x${'00'.repeat(32)}`);

    const cli = await geode(['status', '--data-dir', dataDir, '--json']);
    assert.equal(cli.code, 0);
    const j = JSON.parse(cli.stdout.trim().split('\n').at(-1)!) as { ok: boolean; committedSeq: string; session: { id: string } };
    assert.deepEqual([j.ok, j.committedSeq, j.session.id], [true, '1', '1']);

    // geode rotate (docs/cli.md#rotate): the admin's rotation, committed by the running host; status shows the epoch.
    const rot = await rotate(dataDir, { wait: true, timeoutMs: 60_000 });
    assert.deepEqual([rot.ok, rot.epoch, rot.seq], [true, '1', '2']);
    assert.match(rot.encPubKey ?? '', /^0x[0-9a-f]{64}$/);
    assert.notEqual(rot.encPubKey, after.epoch.encPubKey, 'a new request key');
    assert.deepEqual((await status(dep, dataDir)).epoch, { epoch: '1', encPubKey: rot.encPubKey });
    // Not the admin (another operator key beside the same deployment.json): refused before any transaction.
    const other = mkdtempSync(join(tmpdir(), 'geode-steps-other-'));
    try {
      copyFileSync(join(dataDir, 'deployment.json'), join(other, 'deployment.json'));
      writeFileSync(join(other, 'operator-key.json'), JSON.stringify({ privateKey: payer.privateKey }), { mode: 0o600 });
      const chainState = async () => {
        const c = await chainAccessFromUrl(srv.url);
        try {
          const read = (functionName: 'rotationCount' | 'requestCount') => c.publicClient.readContract({ address: dep.contract as Address, abi: GeodeCoreAbi, functionName });
          return [await read('rotationCount'), await read('requestCount')];
        } finally {
          await c.close();
        }
      };
      const before = await chainState();
      await assert.rejects(rotate(other), (e: unknown) => (e as { code?: string }).code === 'CLI_ROTATE_REFUSED' && (e as { details?: { revert?: string } }).details?.revert === 'NotAdmin');
      assert.deepEqual(await chainState(), before, 'a refused rotation changes nothing on-chain');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    const cliRot = await geode(['rotate', '--data-dir', dataDir, '--wait', '--json']);
    assert.equal(cliRot.code, 0);
    const rj = JSON.parse(cliRot.stdout.trim().split('\n').at(-1)!) as { ok: boolean; epoch: string; encPubKey: string };
    assert.deepEqual([rj.ok, rj.epoch], [true, '2']);
    assert.deepEqual((await status(dep, dataDir)).epoch, { epoch: '2', encPubKey: rj.encPubKey });
    // --every: the schedule (docs/protocol.md#rotation-schedule); too short is refused, 0 turns it off.
    const tooShort = await geode(['rotate', '--data-dir', dataDir, '--every', '3', '--json']);
    assert.equal(tooShort.code, 1);
    assert.equal((JSON.parse(tooShort.stdout.trim().split('\n').at(-1)!) as { error: { code: string } }).error.code, 'CLI_ROTATE_REFUSED');
    const sched = await geode(['rotate', '--data-dir', dataDir, '--every', '8', '--json']);
    assert.equal(sched.code, 0);
    assert.deepEqual(JSON.parse(sched.stdout.trim().split('\n').at(-1)!), { ok: true, everyRequests: '8', fromSeq: '3' });
    assert.deepEqual(await setRotationSchedule(dataDir, 0n), { ok: true, everyRequests: '0', fromSeq: '3' });
    const help = await geode(['rotate', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /GeodeCore\.requestRotation[\s\S]*--wait[\s\S]*--every[\s\S]*--json/);
  } finally {
    await running?.stop();
    await srv.close();
    await d.close();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  }
});
