/**
 * Geode apps as packages (docs/apps.md#layout): an app is a folder with a package.json whose `"geode"` field is its
 * manifest, naming the three parts the framework runs:
 *
 *   "geode": { "contract": "Notes", "enclave": "src/enclave/main.ts", "client": "src/client/index.ts" }
 *
 * - `contract`: the app contract's name; its ABI and bytecode are `<Name>Abi` / `<Name>Bytecode` in the app's own
 *   `generated/artifacts.ts` (written by `npm run build`, packages/contracts/src/build.ts);
 * - `enclave`: the trusted entry point (calls runEnclave), bundled to `dist/enclave/<app>.mjs` of the repository
 *   (of the app's own folder when it is its own project);
 * - `client`: the untrusted client module, an {@link AppClientModule}: the app's CLI commands and demo scenario.
 *
 * The app's name is its folder's name. Nothing here names a particular app: the CLI finds apps by --app, by the
 * running dev stack's dev.json, or by scanning the repository's apps/ folder.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { z } from 'zod';
import type { Abi, Hex } from 'viem';
import { packageRoot } from '@geode/protocol/files';
import { COMMAND_NAME, REPO_ROOT } from './app-listing.ts';
import { CliAppError } from './errors.ts';
import type { AppClientModule } from './app-kit.ts';

export { REPO_ROOT };

const commandName = z.string().regex(COMMAND_NAME, 'a command name: lower-case letters, digits and single hyphens');

/**
 * One top-level command an app contributes (manifest `commands`): its name, the one-line summary `geode --help`
 * lists (exactly the description its client module registers), and its subcommands' names in registration order.
 * `geode --help` reads these, never the app's code (docs/cli.md#startup); packages/cli/test/app-manifest.test.ts
 * checks every app's declaration against what its client module registers.
 */
export const appCommandSchema = z.object({
  name: commandName,
  summary: z.string().min(1).max(200),
  subcommands: z.array(commandName).max(64).default([]),
}).strict();
export type AppCommand = z.infer<typeof appCommandSchema>;

/** The manifest: package.json's `"geode"` field. Paths are relative to the app folder. */
export const appManifestSchema = z.object({
  contract: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a Solidity contract name'),
  enclave: z.string().min(1),
  client: z.string().min(1),
  /** The commands the client module's registerCommands adds; absent: not declared (help then loads the module). */
  commands: z.array(appCommandSchema).max(32).optional(),
}).strict();
export type AppManifest = z.infer<typeof appManifestSchema>;

/** An app folder with its manifest read and its paths made absolute. */
export interface GeodeApp {
  /** The folder's name, e.g. "computations": names the bundle (dist/enclave/<name>.mjs) and the artifacts. */
  readonly name: string;
  /** Absolute path of the app folder. */
  readonly dir: string;
  readonly manifest: AppManifest;
  /** Absolute path of the enclave entry (manifest.enclave). */
  readonly enclaveEntry: string;
  /** Absolute path of the client module (manifest.client). */
  readonly clientModule: string;
  /** Absolute path of the generated ABI/bytecode module: <dir>/generated/artifacts.ts. */
  readonly artifactsFile: string;
  /**
   * Absolute path of the sim enclave bundle: <repo>/dist/enclave/<name>.mjs for an app inside the repository (a
   * workspace), else <app>/dist/enclave/<name>.mjs (an app that is its own project, `geode init --standalone`).
   */
  readonly bundle: string;
  /**
   * Absolute path of the prebuilt client-side modules (`npm run build`, scripts/build-cli.ts): <repo>/dist/apps/<name>/
   * with client.mjs, artifacts.mjs and build.json (the app folder and the sources they were built from).
   */
  readonly prebuiltDir: string;
}

/** Whether `dir` is `root` or inside it. */
const isInside = (dir: string, root: string) => { const r = relative(root, dir); return r === '' || (!r.startsWith('..') && !isAbsolute(r)); };

/** Whether `root` is a workspace root (its package.json declares "workspaces", like this repository's). */
function isWorkspace(root: string): boolean {
  try {
    return 'workspaces' in (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as object);
  } catch {
    return false;
  }
}

/**
 * The directories whose files go into `app`'s enclave bundle: the app's src/ and the trusted framework packages'
 * src/ (@geode/enclave, @geode/protocol, @geode/attestation: the repository's, or the installed packages', which
 * ship their src/). A bundle older than any file in them is rebuilt.
 */
export function trustedSourceDirs(app: GeodeApp, repoRoot: string = REPO_ROOT): string[] {
  const from = join(app.dir, 'package.json');
  const dirOf = (name: string) => {
    const inRepo = join(repoRoot, 'packages', name.slice('@geode/'.length));
    return existsSync(join(inRepo, 'src')) && isWorkspace(repoRoot) ? inRepo : packageRoot(name, from);
  };
  return [join(app.dir, 'src'), ...['@geode/enclave', '@geode/protocol', '@geode/attestation'].map((n) => join(dirOf(n), 'src'))];
}

/** Read the app at `dir` (absolute or relative to cwd). `repoRoot` holds dist/. Throws CliAppError (CLI_BAD_APP). */
export function loadApp(dir: string, repoRoot: string): GeodeApp {
  const abs = resolve(dir);
  const pkgFile = join(abs, 'package.json');
  if (!existsSync(pkgFile)) throw new CliAppError(`${abs} is not a Geode app: it has no package.json (create one with \`geode init <name>\`)`);
  let pkg: { geode?: unknown };
  try {
    pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { geode?: unknown };
  } catch {
    throw new CliAppError(`${pkgFile} is not valid JSON`);
  }
  if (pkg.geode === undefined) throw new CliAppError(`${pkgFile} has no "geode" field naming the app's contract, enclave entry and client module`);
  const m = appManifestSchema.safeParse(pkg.geode);
  if (!m.success) throw new CliAppError(`${pkgFile}: the "geode" field is invalid: ${m.error.issues.map((i) => `${i.path.join('.') || 'geode'}: ${i.message}`).join('; ')}`);
  const name = basename(abs);
  const app: GeodeApp = {
    name, dir: abs, manifest: m.data,
    enclaveEntry: resolve(abs, m.data.enclave), clientModule: resolve(abs, m.data.client),
    artifactsFile: join(abs, 'generated/artifacts.ts'),
    bundle: join(isInside(abs, repoRoot) && isWorkspace(repoRoot) ? repoRoot : abs, 'dist/enclave', `${name}.mjs`),
    prebuiltDir: join(repoRoot, 'dist/apps', name),
  };
  for (const [what, f] of [['enclave', app.enclaveEntry], ['client', app.clientModule]] as const) {
    if (!existsSync(f)) throw new CliAppError(`${pkgFile}: "geode.${what}" points at ${f}, which does not exist`);
  }
  return app;
}

/**
 * The app `geode dev`/`geode demo` run without --app: the repository's package.json `"geode": { "defaultApp": dir }`
 * (a repository setting, so no framework file names an app). Throws CliAppError when it is not set.
 */
export function defaultApp(): GeodeApp {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { geode?: { defaultApp?: string } };
  const dir = pkg.geode?.defaultApp;
  if (!dir) throw new CliAppError('no --app given and the repository\'s package.json sets no "geode.defaultApp"');
  return loadApp(join(REPO_ROOT, dir), REPO_ROOT);
}

/** Every app under `<repoRoot>/apps/` (folders whose package.json has a "geode" field), sorted by name. */
export function discoverApps(repoRoot: string): GeodeApp[] {
  const root = join(repoRoot, 'apps');
  if (!existsSync(root)) return [];
  const out: GeodeApp[] = [];
  for (const d of readdirSync(root).sort()) {
    const pkg = join(root, d, 'package.json');
    if (!existsSync(pkg)) continue;
    try {
      if ((JSON.parse(readFileSync(pkg, 'utf8')) as { geode?: unknown }).geode === undefined) continue;
    } catch {
      continue;
    }
    out.push(loadApp(join(root, d), repoRoot));
  }
  return out;
}

/**
 * What scripts/build-cli.ts records beside an app's prebuilt modules (dist/apps/<name>/build.json): the app folder
 * they were built from, every source file esbuild read (absolute paths) and the newest of their modification times.
 */
export const prebuiltRecordSchema = z.object({
  dir: z.string(),
  inputs: z.array(z.string()),
  newestInputMtimeMs: z.number(),
}).strict();
export type PrebuiltRecord = z.infer<typeof prebuiltRecordSchema>;

/** The prebuilt modules of a client-side entry (built by `npm run build`). */
export type PrebuiltEntry = 'client' | 'artifacts';

/**
 * The prebuilt module for `entry` of `app` when it is current: built from this very app folder and no source it was
 * built from has changed or gone since (one stat per input, a few ms). Otherwise undefined: the caller imports the
 * TypeScript source instead (correct, only slower to start), e.g. for an app outside the repository's apps/ or
 * right after an edit before `npm run build`.
 */
export function prebuiltModule(app: GeodeApp, entry: PrebuiltEntry): string | undefined {
  const file = join(app.prebuiltDir, `${entry}.mjs`);
  const recordFile = join(app.prebuiltDir, 'build.json');
  if (!existsSync(file) || !existsSync(recordFile)) return undefined;
  let record: PrebuiltRecord;
  try {
    record = prebuiltRecordSchema.parse(JSON.parse(readFileSync(recordFile, 'utf8')));
  } catch {
    return undefined;
  }
  if (record.dir !== app.dir) return undefined;
  for (const f of record.inputs) {
    try {
      if (statSync(f).mtimeMs > record.newestInputMtimeMs) return undefined;
    } catch {
      return undefined;
    }
  }
  return file;
}

let typeScriptLoader: Promise<void> | undefined;

/**
 * Import one of an app's modules (its client module or generated artifacts; absolute path). An app is TypeScript
 * source, and the prebuilt CLI bundle runs with no loader (docs/cli.md#startup), so before the first `.ts` import
 * this registers tsx's loader and the "geode-source" condition (the app's `@geode/*` imports then resolve to source,
 * as in the repository). From source (a loader already present: this module is itself `.ts`) nothing is registered.
 */
async function importAppModule(file: string): Promise<unknown> {
  if (/\.[cm]?ts$/.test(file) && !import.meta.url.endsWith('.ts')) {
    typeScriptLoader ??= (async () => {
      const { register } = await import('node:module');
      const hook = `export async function resolve(s, c, next) { return next(s, c.conditions.includes('geode-source') ? c : { ...c, conditions: [...c.conditions, 'geode-source'] }); }`;
      register(`data:text/javascript,${encodeURIComponent(hook)}`);
      (await import('tsx/esm/api')).register();
    })();
    await typeScriptLoader;
  }
  return import(pathToFileURL(file).href);
}

/** The app's contract ABI and creation bytecode from its generated module. Throws CliAppError when not built. */
export async function appContract(app: GeodeApp): Promise<{ abi: Abi; bytecode: Hex }> {
  if (!existsSync(app.artifactsFile)) throw new CliAppError(`${app.artifactsFile} is missing: run \`npm run build\` to compile the app's contracts`);
  const mod = await importAppModule(prebuiltModule(app, 'artifacts') ?? app.artifactsFile) as Record<string, unknown>;
  const abi = mod[`${app.manifest.contract}Abi`];
  const bytecode = mod[`${app.manifest.contract}Bytecode`];
  if (!Array.isArray(abi) || typeof bytecode !== 'string') {
    throw new CliAppError(`${app.artifactsFile} has no deployable contract ${app.manifest.contract} (the manifest's "contract"): check its name in the app's contracts/ and run \`npm run build\``);
  }
  return { abi: abi as Abi, bytecode: bytecode as Hex };
}

/**
 * Import the app's client module: its prebuilt bundle when current (prebuiltModule), else its source through tsx.
 * A client module may import the app's generated ABI module, which a fresh app (`geode init`) does not have yet: then
 * the app's contracts are compiled first (once; solc, @geode/contracts/build).
 * Throws CliAppError when it exports neither `registerCommands` nor `demo`, ContractsCompileError on a Solidity error.
 */
export async function appClient(app: GeodeApp): Promise<AppClientModule> {
  if (!existsSync(app.artifactsFile)) await (await import('@geode/contracts/build')).buildContracts({ log: () => undefined, apps: [app.dir] });
  const mod = await importAppModule(prebuiltModule(app, 'client') ?? app.clientModule) as AppClientModule;
  if (typeof mod.registerCommands !== 'function' && (typeof mod.demo !== 'object' || mod.demo === null)) {
    throw new CliAppError(`${app.clientModule} (the app's "geode.client") exports neither registerCommands nor demo`);
  }
  return mod;
}

/** The commands `client.registerCommands` adds to a program, in the manifest's `commands` shape (registration order). */
export function registeredCommands(client: AppClientModule): AppCommand[] {
  const probe = new Command('geode');
  client.registerCommands?.(probe);
  return probe.commands.map((c) => ({ name: c.name(), summary: c.description(), subcommands: c.commands.map((s) => s.name()) }));
}

/**
 * Where a manifest's `commands` and what the client module registers disagree, one sentence each (empty: they
 * agree). An undeclared manifest (`commands` absent) agrees with anything: `geode --help` then loads the module.
 */
export function commandDrift(declared: readonly AppCommand[] | undefined, registered: readonly AppCommand[]): string[] {
  if (declared === undefined) return [];
  const out: string[] = [];
  const names = (xs: readonly AppCommand[]) => xs.map((c) => c.name).join(', ') || 'none';
  if (names(declared) !== names(registered)) out.push(`declares the commands [${names(declared)}] but the client module registers [${names(registered)}]`);
  for (const d of declared) {
    const r = registered.find((x) => x.name === d.name);
    if (!r) continue;
    if (r.summary !== d.summary) out.push(`"${d.name}": the summary is ${JSON.stringify(d.summary)} but the client module's description is ${JSON.stringify(r.summary)}`);
    if (r.subcommands.join(',') !== d.subcommands.join(',')) out.push(`"${d.name}": declares the subcommands [${d.subcommands.join(', ')}] but the client module registers [${r.subcommands.join(', ')}]`);
  }
  return out;
}
