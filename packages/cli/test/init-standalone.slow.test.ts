// geode init <dir> --standalone: the app as its own npm project in a temp folder OUTSIDE the repository, on the packed
// Geode packages (vendor/*.tgz). As a user would: init, npm install, `npx geode demo --app . --json` ({"ok":true,…}),
// `npm test`, `npm run typecheck` — every child with plain node (no 'geode-source' condition, no tsx of this repo).
//
// Offline here: the third-party packages come from npm's cache (--prefer-offline). Install scripts are off (as in
// `npm run check:pack`): the one that matters, better-sqlite3's, would download a prebuilt SQLite addon or else
// compile SQLite from source (which works offline with npm_config_nodedir, but takes minutes on this machine), so
// the test puts in its place the addon this repository's install built for the same better-sqlite3 version and the
// same Node, where a prebuilt download would go. Slow (minutes: it packs, installs and runs a devnet): one scenario.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from './dev-process.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => runChild(cmd, args, cwd, { ...process.env, NODE_OPTIONS: '', ...env });
const lastJson = (s: string) => JSON.parse(s.trim().split('\n').at(-1)!) as Record<string, unknown>;
const newest = (dir: string): number => !existsSync(dir) ? 0 : Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs));

test('geode init <dir> --standalone outside the repository: npm install, geode demo --app . --json ends {"ok":true,…}, npm test and typecheck pass', { timeout: 900_000 }, async () => {
  // The tarballs are packed from packages/*/dist and the CLI bundle: build them when older than the source.
  const pkgs = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces.filter((w) => w.startsWith('packages/'));
  const src = Math.max(...pkgs.map((p) => newest(join(ROOT, p, 'src'))));
  if (pkgs.some((p) => newest(join(ROOT, p, 'src')) > newest(join(ROOT, p, 'dist')))) {
    const b = await run(process.execPath, ['--import', 'tsx', 'scripts/build-packages.ts'], ROOT);
    assert.equal(b.code, 0, b.stderr.slice(-3000));
  }
  const bundle = join(ROOT, 'packages/cli/dist/bin/geode.mjs');
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < src) {
    const b = await run(process.execPath, ['--conditions=geode-source', '--import', 'tsx', '--input-type=module', '-e', "await (await import('./scripts/build-cli.ts')).buildCli()"], ROOT);
    assert.equal(b.code, 0, b.stderr.slice(-3000));
  }
  const parent = mkdtempSync(join(tmpdir(), 'geode-standalone-'));
  assert.ok(relative(ROOT, parent).startsWith('..'), 'the app is outside the repository');
  const dir = join(parent, 'tally');
  try {
    const init = await run(process.execPath, ['--conditions=geode-source', '--import', 'tsx', join(ROOT, 'packages/cli/src/main.ts'), 'init', dir, '--standalone', '--json'], ROOT);
    assert.equal(init.code, 0, init.stderr);
    const r = lastJson(init.stdout) as { ok: boolean; app: string; files: string[] };
    assert.deepEqual([r.ok, r.app], [true, 'tally']);
    for (const f of ['package.json', 'tsconfig.json', 'README.md', 'contracts/Tally.sol', 'test/app.test.ts', 'vendor/geode-cli-0.1.0.tgz', 'vendor/geode-testing-0.1.0.tgz']) assert.ok(r.files.includes(f), f);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.equal(pkg.dependencies['@geode/testing'], 'file:vendor/geode-testing-0.1.0.tgz');
    assert.ok(Object.values(pkg.dependencies).every((v) => v.startsWith('file:vendor/') || /^\d+\.\d+\.\d+$/.test(v)), 'tarballs and exact versions only');

    const install = await run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], dir);
    assert.equal(install.code, 0, install.stderr.slice(-3000));
    assert.ok(!existsSync(join(dir, 'node_modules/@geode/cli/node_modules')), 'one copy of each Geode package');
    const addon = 'better-sqlite3/build/Release/better_sqlite3.node';
    mkdirSync(dirname(join(dir, 'node_modules', addon)), { recursive: true });
    copyFileSync(createRequire(import.meta.url).resolve(addon), join(dir, 'node_modules', addon));

    const demo = await run(join(dir, 'node_modules/.bin/geode'), ['demo', '--app', '.', '--json'], dir);
    assert.equal(demo.code, 0, demo.stderr.slice(-3000) + demo.stdout.slice(-2000));
    const d = lastJson(demo.stdout);
    assert.deepEqual([d.ok, d.app, d.totals], [true, 'tally', { alice: 5, bob: 5 }]);
    assert.ok(existsSync(join(dir, 'generated/artifacts.ts')), 'the contract compiled into the app, from the installed @geode/contracts sources');
    assert.ok(existsSync(join(dir, 'dist/enclave/tally.mjs')), 'the enclave bundle is the app\'s own');

    const t = await run('npm', ['test'], dir);
    assert.equal(t.code, 0, t.stdout.slice(-3000) + t.stderr.slice(-1000));
    assert.match(t.stdout, /# pass 4/);
    assert.match(t.stdout, /# fail 0/);
    const tsc = await run('npm', ['run', 'typecheck'], dir);
    assert.equal(tsc.code, 0, tsc.stdout.slice(-3000));
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('geode init --standalone refuses a folder inside the repository and --dir, writing nothing', async () => {
  const inside = join(ROOT, 'standalone-inside');
  const a = await run(process.execPath, ['--conditions=geode-source', '--import', 'tsx', join(ROOT, 'packages/cli/src/main.ts'), 'init', inside, '--standalone', '--json'], ROOT);
  assert.equal(a.code, 2, a.stderr);
  assert.match(a.stdout + a.stderr, /inside the Geode repository/);
  assert.ok(!existsSync(inside));
  const b = await run(process.execPath, ['--conditions=geode-source', '--import', 'tsx', join(ROOT, 'packages/cli/src/main.ts'), 'init', 'x-y', '--standalone', '--dir', tmpdir()], ROOT);
  assert.equal(b.code, 2);
  assert.match(b.stdout + b.stderr, /--dir does not apply/);
});
