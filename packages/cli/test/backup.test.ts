// `geode enclave recovery-key | backup | restore` (docs/cli.md#backup) against a JSON-RPC endpoint: deploy with a
// recovery key, back up, lose the instance and its data dir, restore into a new one from the backup and a copy of the
// state database, and the new instance commits the next request. Also --help, the --json refusal without a key, and a
// malformed backup file refused with nothing changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAbiItem, hexToBytes, parseEther, type Address, type Hex } from 'viem';
import { GeodeCoreAbi } from '@geode/contracts';
import { privateKeyToAccount } from 'viem/accounts';
import pino from 'pino';
import { devAccounts, serveDevnet, startDevnet } from '@geode/devnet';
import { GeodeClient, createIdentity, verifyActiveSession } from '@geode/client';
import { chainAccessFromUrl } from '@geode/host';
import { defaultApp } from '../src/stack.ts';
import { deployApp, handshake, startEnclave, status } from '../src/steps.ts';
import { restoreStep, writeRecoveryKey } from '../src/backup-steps.ts';
import { geode } from './dev-process.ts';

const payer = devAccounts(0)[0]!;
const quiet = pino({ level: 'silent' });

test('geode enclave recovery-key, backup, restore --help name their options', async () => {
  for (const [cmd, opts] of [['recovery-key', ['--out']], ['backup', ['--data-dir', '--out', '--json']], ['restore', ['--backup', '--recovery-key', '--data-dir', '--request', '--json']]] as const) {
    const r = await geode(['enclave', cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    for (const o of opts) assert.ok(r.stdout.includes(o), `${cmd} --help names ${o}`);
  }
});

test('backup and restore step by step: the restored instance continues the same session and commits', { timeout: 300_000 }, async () => {
  const d = await startDevnet({ fund: [{ address: payer.address, balance: parseEther('1000') }] });
  const srv = await serveDevnet(d, { port: 0 });
  const root = mkdtempSync(join(tmpdir(), 'geode-backup-steps-'));
  const [a, b, plain] = [join(root, 'a'), join(root, 'b'), join(root, 'plain')];
  let running: Awaited<ReturnType<typeof startEnclave>> | undefined;
  const chain = await chainAccessFromUrl(srv.url);
  try {
    // Without a recovery key the backup is refused before the enclave is asked (and --json says why).
    await deployApp({ app: defaultApp(), rpcUrl: srv.url, privateKey: payer.privateKey, dataDir: plain });
    const none = await geode(['enclave', 'backup', '--data-dir', plain, '--out', join(root, 'none.json'), '--json']);
    assert.equal(none.code, 1);
    assert.equal((JSON.parse(none.stdout.trim().split('\n').at(-1)!) as { error: { code: string } }).error.code, 'CLI_BACKUP_NO_RECOVERY_KEY');
    assert.ok(!readdirSync(root).includes('none.json'), 'nothing written');

    const key = await writeRecoveryKey(join(root, 'recovery.json'));
    assert.equal(statSync(key.file).mode & 0o777, 0o600, 'the recovery key file is private');
    const dep = await deployApp({ app: defaultApp(), rpcUrl: srv.url, privateKey: payer.privateKey, dataDir: a, recoveryKey: key.publicKey });
    running = await startEnclave({ dataDir: a, logger: quiet });
    await handshake(a);
    // One committed request (an output-key registration), so there is committed state to restore.
    const session = await verifyActiveSession({ publicClient: chain.publicClient, chainId: chain.chainId, contract: dep.contract as Address, collateral: dep.collateral as never, rootCaDer: hexToBytes(dep.simRootCaDer as Hex), policy: dep.policy as never, now: Math.floor(Date.now() / 1000) });
    const client = async (name: string) => {
      const id = await createIdentity(name);
      const fund = await chain.wallet(privateKeyToAccount(payer.privateKey)).sendTransaction({ to: id.address as Address, value: parseEther('1') });
      await chain.publicClient.waitForTransactionReceipt({ hash: fund, pollingInterval: 50 });
      return new GeodeClient({ publicClient: chain.publicClient, wallet: chain.wallet, chainId: chain.chainId, contract: dep.contract as Address, identity: id, session });
    };
    const alice = await client('alice');
    await alice.waitForOutputs((await alice.registerOutputKey()).seq, { fromBlock: BigInt(dep.fromBlock) });

    const backupFile = join(root, 'backup.json');
    const cli = await geode(['enclave', 'backup', '--data-dir', a, '--out', backupFile, '--json']);
    assert.equal(cli.code, 0, cli.stdout);
    const meta = JSON.parse(cli.stdout.trim().split('\n').at(-1)!) as { ok: boolean; sessionId: string; signer: string };
    assert.deepEqual([meta.ok, meta.sessionId, meta.signer], [true, '1', session.signer.toLowerCase()]);
    assert.equal(JSON.parse(readFileSync(backupFile, 'utf8')).format, 'geode.backup.v1');
    // The operator's copy of the sealed state database, then the disaster: the instance and its data dir are gone.
    const dbCopy = join(root, 'db-copy');
    mkdirSync(dbCopy);
    for (const f of readdirSync(join(a, 'enclave'))) if (f.startsWith('state-')) cpSync(join(a, 'enclave', f), join(dbCopy, f));
    await running.stop();
    running = undefined;

    // A new machine: the deployment's files and the db copy, then `geode enclave start` with no keys, then restore.
    mkdirSync(join(b, 'enclave'), { recursive: true, mode: 0o700 });
    for (const f of ['deployment.json', 'operator-key.json', 'sim-pki.json']) cpSync(join(a, f), join(b, f));
    for (const f of readdirSync(dbCopy)) cpSync(join(dbCopy, f), join(b, 'enclave', f));
    rmSync(a, { recursive: true, force: true });
    running = await startEnclave({ dataDir: b, logger: quiet });
    // A malformed backup file (a field missing, another format, a non-hex ciphertext) is refused before anything is
    // asked of the newcomer or the chain: no handover request filed, the newcomer's files unchanged.
    const requested = async () => (await chain.publicClient.getLogs({ address: dep.contract as Address, event: getAbiItem({ abi: GeodeCoreAbi, name: 'HandoverRequested' }), fromBlock: 0n, toBlock: 'latest' })).length;
    const enclaveFiles = () => Object.fromEntries(readdirSync(join(b, 'enclave')).sort().map((f) => [f, readFileSync(join(b, 'enclave', f)).toString('base64')]));
    const good = JSON.parse(readFileSync(backupFile, 'utf8')) as Record<string, unknown>;
    const beforeBad = { requested: await requested(), files: enclaveFiles() };
    const { ciphertext: _c, ...noCiphertext } = good;
    for (const [i, bad] of [noCiphertext, { ...good, format: 'geode.backup.v0' }, { ...good, ciphertext: 'not hex' }].entries()) {
      const f = join(root, `bad-${i}.json`);
      writeFileSync(f, JSON.stringify(bad));
      await assert.rejects(restoreStep({ dataDir: b, backup: f, recoveryKey: key.file }), (e: unknown) => (e as { code?: string }).code === 'CLI_BACKUP_MALFORMED', `bad backup ${i}`);
    }
    const badCli = await geode(['enclave', 'restore', '--backup', join(root, 'bad-0.json'), '--recovery-key', key.file, '--data-dir', b, '--json']);
    assert.equal(badCli.code, 1);
    assert.equal((JSON.parse(badCli.stdout.trim().split('\n').at(-1)!) as { error: { code: string } }).error.code, 'CLI_BACKUP_MALFORMED');
    assert.deepEqual({ requested: await requested(), files: enclaveFiles() }, beforeBad, 'a malformed backup changes nothing');
    const r = await restoreStep({ dataDir: b, backup: backupFile, recoveryKey: key.file });
    assert.equal(r.sessionId, '1');
    assert.equal(r.signer, session.signer.toLowerCase());
    // The restored instance commits the next request, in the same session.
    const bob = await client('bob');
    await bob.waitForOutputs((await bob.registerOutputKey()).seq, { fromBlock: BigInt(dep.fromBlock) });
    const st = await status(dep, b);
    assert.equal(st.ok, true, JSON.stringify(st));
    assert.deepEqual([st.committedSeq, st.requestCount, !('error' in st.session) && st.session.id], ['2', '2', '1']);
  } finally {
    await running?.stop();
    await chain.close();
    await srv.close();
    await d.close();
    rmSync(root, { recursive: true, force: true });
  }
});
