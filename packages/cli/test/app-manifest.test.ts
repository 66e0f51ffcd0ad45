// App commands declared in the manifest (package.json "geode.commands", docs/cli.md#startup): `geode --help` lists
// them without loading any app code, so the declaration must agree with what the client module registers; and the
// prebuilt client modules (`npm run build`) are used only while current.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, commandDrift, discoverApps, loadApp, prebuiltModule, registeredCommands, type AppCommand, type GeodeApp } from '../src/apps.ts';
import { declaredCommands } from '../src/app-listing.ts';
import type { AppClientModule } from '../src/app-kit.ts';
import { runInit } from '../src/commands/init.ts';
import { ensureAppContracts } from '../src/steps.ts';
import { geode } from './dev-process.ts';

/** What the app's client module (its TypeScript source) registers. */
async function sourceCommands(app: GeodeApp): Promise<AppCommand[]> {
  return registeredCommands(await import(pathToFileURL(app.clientModule).href) as AppClientModule);
}

test('every app in apps/ declares its commands, and the declaration is what its client module registers', async () => {
  const apps = discoverApps(REPO_ROOT);
  assert.ok(apps.some((a) => a.name === 'computations'));
  for (const app of apps) {
    assert.ok(app.manifest.commands, `${app.name}: package.json "geode.commands" is declared`);
    assert.deepEqual(commandDrift(app.manifest.commands, await sourceCommands(app)), [], app.name);
    // The help-time reader (no zod) reads the same declaration the schema accepted.
    assert.deepEqual(declaredCommands(app.dir), app.manifest.commands, app.name);
  }
  const computations = apps.find((a) => a.name === 'computations')!;
  assert.deepEqual(computations.manifest.commands!.map((c) => c.name), ['computation']);
});

test('the app `geode init` scaffolds declares the command its client module registers', async () => {
  const parent = mkdtempSync(join(REPO_ROOT, '.geode-init-'));
  try {
    const { dir } = runInit('tally-manifest', { dir: parent });
    const app = loadApp(dir, REPO_ROOT);
    await ensureAppContracts(app); // the client module imports the app's generated artifacts
    assert.deepEqual(app.manifest.commands?.map((c) => c.name), ['tally-manifest']);
    assert.deepEqual(commandDrift(app.manifest.commands, await sourceCommands(app)), []);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('commandDrift names each disagreement (so the agreement test can fail)', () => {
  const registered: AppCommand[] = [{ name: 'computation', summary: 'Create computations', subcommands: ['create', 'list'] }];
  assert.deepEqual(commandDrift(undefined, registered), [], 'an undeclared manifest: help loads the module instead');
  assert.deepEqual(commandDrift(registered, registered), []);
  assert.match(commandDrift([], registered).join(), /declares the commands \[none\] but the client module registers \[computation\]/);
  assert.match(commandDrift([{ ...registered[0]!, summary: 'Old words' }], registered).join(), /"computation": the summary is "Old words"/);
  assert.match(commandDrift([{ ...registered[0]!, subcommands: ['create'] }], registered).join(), /declares the subcommands \[create\] but the client module registers \[create, list\]/);
});

test('declaredCommands: a malformed declaration reads as undeclared (loadApp then says why)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'geode-manifest-'));
  const write = (commands: unknown) => writeFileSync(join(dir, 'package.json'), JSON.stringify({ geode: { contract: 'X', enclave: 'e.ts', client: 'c.ts', commands } }));
  try {
    write([{ name: 'ok-name', summary: 'fine' }]);
    assert.deepEqual(declaredCommands(dir), [{ name: 'ok-name', summary: 'fine', subcommands: [] }]);
    for (const bad of ['x', [{ name: 'Bad Name', summary: 's' }], [{ name: 'a', summary: '' }], [{ name: 'a', summary: 's', subcommands: [1] }], [null]]) {
      write(bad);
      assert.equal(declaredCommands(dir), undefined, JSON.stringify(bad));
    }
    writeFileSync(join(dir, 'e.ts'), '');
    writeFileSync(join(dir, 'c.ts'), '');
    write([{ name: 'Bad Name', summary: 's' }]);
    assert.throws(() => loadApp(dir, REPO_ROOT), (e: unknown) => (e as { code?: string }).code === 'CLI_BAD_APP' && /commands\.0\.name/.test((e as Error).message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a prebuilt client module is used only while every source it was built from is unchanged', () => {
  const app = discoverApps(REPO_ROOT).find((a) => a.name === 'computations')!;
  assert.equal(prebuiltModule(app, 'client'), join(app.prebuiltDir, 'client.mjs'), 'npm run build prebuilt the computations client');
  const scratch = mkdtempSync(join(tmpdir(), 'geode-prebuilt-'));
  try {
    const source = join(scratch, 'src.ts');
    writeFileSync(source, 'export {};\n');
    const built = new Date('2026-01-01T00:00:00Z');
    utimesSync(source, built, built);
    const prebuiltDir = join(scratch, 'dist');
    mkdirSync(prebuiltDir);
    cpSync(join(app.prebuiltDir, 'client.mjs'), join(prebuiltDir, 'client.mjs'));
    const record = (dir: string) => writeFileSync(join(prebuiltDir, 'build.json'), JSON.stringify({ dir, inputs: [source], newestInputMtimeMs: built.getTime() }));
    const copy: GeodeApp = { ...app, prebuiltDir };
    record(app.dir);
    assert.equal(prebuiltModule(copy, 'client'), join(prebuiltDir, 'client.mjs'));
    assert.equal(prebuiltModule(copy, 'artifacts'), undefined, 'not built: the source is imported');
    record('/elsewhere/computations');
    assert.equal(prebuiltModule(copy, 'client'), undefined, 'built from another folder of the same name');
    record(app.dir);
    const edited = new Date(built.getTime() + 1000);
    utimesSync(source, edited, edited);
    assert.equal(prebuiltModule(copy, 'client'), undefined, 'a source changed since the build');
    rmSync(source);
    assert.equal(prebuiltModule(copy, 'client'), undefined, 'a source is gone');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('geode --help lists an app\'s declared commands without loading its code; running one loads it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geode-help-app-'));
  try {
    // A client module that fails as soon as it is imported: help must not import it.
    writeFileSync(join(dir, 'client.mjs'), "throw new Error('client module imported');\n");
    writeFileSync(join(dir, 'enclave.mjs'), '');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ geode: { contract: 'Auction', enclave: 'enclave.mjs', client: 'client.mjs', commands: [{ name: 'auction', summary: 'Bid in sealed-bid auctions', subcommands: ['bid'] }] } }));
    const env = { ...process.env, GEODE_HOME: join(dir, 'home') };
    const help = await geode(['--app', dir, '--help'], { env });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^ {2}auction\s+Bid in sealed-bid auctions$/m);
    assert.doesNotMatch(help.stderr, /client module imported/);
    const run = await geode(['--app', dir, 'auction', 'bid'], { env });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /the app's commands are not available: client module imported/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
