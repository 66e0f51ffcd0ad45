// geode init: the scaffold is a working app right away. A fresh app is created as a user would (the real CLI, in a
// child process) in a scratch folder of the repository (not apps/, so tests that discover apps never see it half
// made), then `geode demo --app <dir> --json` must end with {"ok":true,…} and the app's own tests must pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInit } from '../src/commands/init.ts';
import { GEODE_BIN, runChild } from './dev-process.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Run node with `args` in the repo root (GEODE_BIN first: the `geode` executable, the prebuilt bundle users run). */
const run = (args: string[]) => runChild(process.execPath, args, ROOT, { ...process.env, GEODE_HOME: join(ROOT, '.geode-init-none') });
const lastJson = (s: string) => JSON.parse(s.trim().split('\n').at(-1)!) as Record<string, unknown>;

test('geode init <name>: geode demo --app <dir> --json ends {"ok":true,…}, the app typechecks and its tests (harness + dev stack) pass', { timeout: 600_000 }, async () => {
  const parent = mkdtempSync(join(ROOT, '.geode-init-'));
  const name = `tally-${process.pid}`;
  try {
    const init = await run([GEODE_BIN, 'init', name, '--dir', parent, '--json']);
    assert.equal(init.code, 0, init.stderr);
    const r = lastJson(init.stdout) as { ok: boolean; dir: string; files: string[]; lines: Record<string, number> };
    assert.equal(r.ok, true);
    assert.equal(r.dir, join(parent, name));
    const Name = `Tally${process.pid}`;
    assert.deepEqual(r.files, [`contracts/${Name}.sol`, 'docs/errors.md', 'package.json', 'src/client/index.ts', 'src/enclave/app.ts', 'src/enclave/main.ts', 'src/errors.ts', 'src/index.ts', 'src/spec.ts', 'test/app.test.ts', 'test/demo.test.ts']);
    for (const side of ['contract', 'enclave', 'client']) assert.ok(r.lines[side]! > 5, side);

    const demo = await run([GEODE_BIN, 'demo', '--app', r.dir, '--json']);
    assert.equal(demo.code, 0, demo.stderr.slice(-2000));
    const d = lastJson(demo.stdout);
    assert.deepEqual([d.ok, d.app, d.totals], [true, name, { alice: 5, bob: 5 }]);
    assert.ok(existsSync(join(r.dir, 'generated/artifacts.ts')), 'the demo compiled the app\'s contract into the app');

    // The scaffold (with its generated ABI module) typechecks under the repository's strict settings.
    writeFileSync(join(parent, 'tsconfig.json'), JSON.stringify({ extends: join(ROOT, 'tsconfig.json'), include: [`${name}/**/*.ts`] }));
    const tsc = await run([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(parent, 'tsconfig.json'), '--noEmit']);
    assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);

    const tests = readdirSync(join(r.dir, 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => join(r.dir, 'test', f));
    const t = await run(['--import', 'tsx', '--test', '--test-reporter=spec', ...tests]);
    assert.equal(t.code, 0, t.stdout.slice(-3000));
    assert.match(t.stdout, /ℹ pass 4/);
    assert.match(t.stdout, /ℹ fail 0/);
  } finally {
    rmSync(parent, { recursive: true, force: true });
    rmSync(join(ROOT, 'dist/enclave', `${name}.mjs`), { force: true });
  }
});

test('geode init refuses a bad name, a CLI command name and an existing folder, writing nothing', () => {
  const parent = mkdtempSync(join(ROOT, '.geode-init-'));
  try {
    for (const bad of ['A', 'x', 'my_app', '-a', 'a--b', '1abc', 'a'.repeat(33), '../up']) {
      assert.throws(() => runInit(bad, { dir: parent }), (e: unknown) => (e as { code?: string }).code === 'CLI_BAD_ARGUMENT', bad);
    }
    assert.throws(() => runInit('dev', { dir: parent }), /taken by the CLI/);
    assert.deepEqual(readdirSync(parent), []);
    runInit('ok-app', { dir: parent });
    assert.throws(() => runInit('ok-app', { dir: parent }), /already exists/);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
