// Secrets on disk are private (issue 7 item 6; docs/security.md#secrets-on-disk). The real `geode` CLI in child
// processes: every file it writes that holds a key (dev.json with the faucet key, identities, the simulation PKI,
// the enclave's sealed files) is mode 0600 in a 0700 directory, and `geode dev --rpc URL --private-key KEY` writes
// the user's key nowhere under the home (nor the data directory) unless --save-private-key asks for it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { geode as run, startDev as spawnDev, stopDev } from './dev-process.ts';
import { parseEther } from 'viem';
import { devAccounts, serveDevnet, startDevnet } from '@geode/devnet';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'geode-secrets-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Environment of a child: no GEODE_PRIVATE_KEY from the caller; TMPDIR set so the data directory can be inspected. */
function childEnv(tmp: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete env.GEODE_PRIVATE_KEY;
  delete env.GEODE_HOME;
  return env;
}

function geode(args: string[], tmp: string): Promise<{ code: number; stdout: string }> {
  return run(args, { env: childEnv(tmp), timeout: 120_000 });
}

/** Start `geode dev` and resolve once it printed its JSON result line (the stack is up and dev.json written). */

/** Every file and directory under `dir` with its permission bits. */
function tree(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = statSync(p);
      out.push({ path: p, dir: st.isDirectory(), mode: st.mode & 0o777 });
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function assertPrivate(root: string): void {
  assert.equal(statSync(root).mode & 0o777, 0o700, `${root} must be 0700`);
  for (const e of tree(root)) assert.equal(e.mode, e.dir ? 0o700 : 0o600, `${e.path} must be ${e.dir ? '0700' : '0600'}, is 0${e.mode.toString(8)}`);
}

test('secrets: geode dev and identity create write dev.json, identities, sim PKI and sealed files 0600 in 0700 directories', { timeout: 240_000 }, async () => {
  const tmp = mkdtempSync(join(scratch, 'tmp-'));
  const home = join(scratch, 'home-embedded');
  const dev = await spawnDev(['--home', home], childEnv(tmp));
  try {
    const created = await geode(['identity', 'create', 'alice', '--home', home, '--json'], tmp);
    assert.equal(created.code, 0, created.stdout);
    const files = tree(home).map((e) => e.path.slice(home.length + 1)).sort();
    assert.deepEqual(files, ['dev.json', 'identities', 'identities/alice.json']);
    assertPrivate(home);
    const dev_ = JSON.parse(readFileSync(join(home, 'dev.json'), 'utf8')) as { faucetKey?: string };
    assert.match(dev_.faucetKey ?? '', /^0x[0-9a-f]{64}$/i, 'the embedded devnet\'s faucet key is in dev.json (0600)');
    // The data directory (under TMPDIR): sim-pki.json (the simulated attestation key) and the enclave's sealed files.
    const [data] = readdirSync(tmp).filter((n) => n.startsWith('geode-'));
    assert.ok(data, 'the dev stack made its data directory under TMPDIR');
    const dataFiles = tree(join(tmp, data)).map((e) => e.path);
    assert.ok(dataFiles.some((p) => p.endsWith('sim-pki.json')) && dataFiles.some((p) => p.endsWith('keys.sealed')), dataFiles.join(', '));
    assertPrivate(join(tmp, data));
  } finally {
    await stopDev(dev);
  }
});

test('secrets: geode dev --rpc --private-key writes the key nowhere; --save-private-key stores it 0600', { timeout: 300_000 }, async () => {
  const payer = devAccounts(1)[0]!;
  const d = await startDevnet({ fund: [{ address: payer.address, balance: parseEther('1000') }] });
  const srv = await serveDevnet(d, { port: 0 });
  const keyHex = payer.privateKey.slice(2).toLowerCase();
  const holdsKey = (root: string) => tree(root).filter((e) => !e.dir && readFileSync(e.path, 'latin1').toLowerCase().includes(keyHex)).map((e) => e.path);
  try {
    const tmp = mkdtempSync(join(scratch, 'tmp-'));
    const home = join(scratch, 'home-rpc');
    let dev = await spawnDev(['--home', home, '--rpc', srv.url, '--private-key', payer.privateKey], childEnv(tmp));
    try {
      assert.deepEqual(holdsKey(home), [], 'no file under the home holds --private-key');
      assert.deepEqual(holdsKey(tmp), [], 'no file in the data directory holds --private-key');
      assertPrivate(home);
      // Without a stored key, identity create refuses to fund, says how, and saves nothing.
      const refused = await geode(['identity', 'create', 'bob', '--home', home, '--json'], tmp);
      assert.notEqual(refused.code, 0);
      const err = (JSON.parse(refused.stdout.trim().split('\n').pop()!) as { error: { code: string; docsPath?: string } }).error;
      assert.equal(err.code, 'CLI_NO_FAUCET_KEY');
      assert.equal(err.docsPath, 'security.md#secrets-on-disk');
      assert.deepEqual(tree(home).map((e) => e.path.slice(home.length + 1)), ['dev.json']);
    } finally {
      await stopDev(dev);
    }
    dev = await spawnDev(['--home', home, '--rpc', srv.url, '--private-key', payer.privateKey, '--save-private-key'], childEnv(tmp));
    try {
      assert.deepEqual(holdsKey(home), [join(home, 'dev.json')], 'asked for, the key is in dev.json only');
      assertPrivate(home);
    } finally {
      await stopDev(dev);
    }
  } finally {
    await srv.close();
    await d.close();
  }
});
