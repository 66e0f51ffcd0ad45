// The CLI starts from the prebuilt bundle and loads a command's module only when that command runs (issue 9 §2,
// docs/cli.md#startup). Start-up time itself is measured by `npm run bench:cli`, never asserted here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, buildProgram } from '../src/main.ts';
import { CLI_BUNDLE, geode } from './dev-process.ts';

/** Bare (package) specifiers a bundle file imports statically. */
export function staticPackageImports(js: string): string[] {
  return [...js.matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?["']([^"'.][^"']*)["'];?$/gm)].map((m) => m[1]!);
}

test('each command summary in the table is the description its module registers', async () => {
  const full = await buildProgram();
  // The framework's table first, then the commands apps contribute (their client module's registerCommands).
  assert.deepEqual(full.commands.slice(0, COMMANDS.length).map((c) => c.name()), COMMANDS.map((c) => c.name));
  assert.ok(full.commands.slice(COMMANDS.length).some((c) => c.name() === 'computation'), 'the computations app contributes `geode computation`');
  for (const c of COMMANDS) assert.equal(full.commands.find((x) => x.name() === c.name)!.description(), c.summary, c.name);
});

test('an app-contributed command is loaded from the app when named (not in the framework table)', async () => {
  const p = await buildProgram(['node', 'geode', 'computation', 'list']);
  const computation = p.commands.find((c) => c.name() === 'computation');
  assert.ok(computation && computation.commands.length > 0, 'computation has its subcommands');
  for (const c of p.commands.filter((x) => COMMANDS.some((t) => t.name === x.name()))) assert.equal(c.commands.length + c.options.length, 0, `${c.name()} is a stub`);
});

test('building the program for one command loads only that command (the others are stubs)', async () => {
  const p = await buildProgram(['node', 'geode', 'identity', 'list']);
  const identity = p.commands.find((c) => c.name() === 'identity')!;
  assert.ok(identity.commands.length > 0, 'identity has its subcommands');
  for (const c of p.commands.filter((x) => x.name() !== 'identity')) assert.equal(c.commands.length + c.options.length, 0, `${c.name()} is a stub`);
});

test('the bundle entry statically imports commander only', () => {
  const entry = readFileSync(CLI_BUNDLE, 'utf8');
  assert.deepEqual(staticPackageImports(entry), ['commander']);
  // Self-test: the scan sees a static import of a heavy package.
  assert.deepEqual(staticPackageImports('import { a } from "viem";\nimport "./chunks/x.mjs";\nimport * as y from "zod";\n'), ['viem', 'zod']);
});

test('geode --version and --help from the bundle: the version, and every command listed', async () => {
  const v = await geode(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), JSON.parse(readFileSync(join(CLI_BUNDLE, '../../../package.json'), 'utf8')).version);
  const h = await geode(['--help']);
  assert.equal(h.code, 0, h.stderr);
  for (const c of COMMANDS) assert.match(h.stdout, new RegExp(`^  ${c.name}\\b`, 'm'));
  // The computations app's command is listed from its manifest; `computation --help` loads its (prebuilt) client module.
  assert.match(h.stdout, /^  computation\b/m);
  const app = await geode(['computation', '--help']);
  assert.equal(app.code, 0, app.stderr);
  assert.match(app.stdout, /Create computations, submit private values, and get results/);
  const sub = await geode(['help', 'identity']);
  assert.equal(sub.code, 0, sub.stderr);
  assert.match(sub.stdout, /Usage: geode identity/);
  assert.match(sub.stdout, /\bnew\b|\bcreate\b|\blist\b/);
});
