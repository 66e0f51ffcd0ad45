// CLI bundle step of `npm run build` (docs/cli.md#startup): esbuild bundles the CLI and the workspace packages it
// imports (from TypeScript source, under the 'geode-source' condition) into packages/cli/dist/bin/geode.mjs, with
// code splitting so each command module that main.ts loads lazily is its own chunk (`geode --version` and `--help`
// parse only the command table). Third-party packages stay external: node resolves them from node_modules at run
// time, so the native better-sqlite3 and EDR addons, solc and pino's worker files load as installed. The enclave
// bundle is found from the repository root at run time (workspaceRoot), not from this bundle's location.
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCE_CONDITION } from './packages.ts';
import { REPO_ROOT, discoverApps, type PrebuiltRecord } from '../packages/cli/src/apps.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Directory of the CLI bundle; bin/geode.mjs imports `geode.mjs` from it. */
export const CLI_BUNDLE_DIR = join(ROOT, 'packages/cli/dist/bin');

/** Workspace packages (@geode/*) are bundled; every other bare specifier is left to node. */
const externalThirdParty = {
  name: 'geode-external-third-party',
  setup(b: { onResolve: Function }) {
    b.onResolve({ filter: /^[^./]/ }, (a: { path: string }) => (a.path.startsWith('@geode/') ? undefined : { path: a.path, external: true }));
  },
};

/** esbuild options the CLI and the prebuilt app client modules share: ESM for node, split chunks, @geode/* inlined. */
const BUNDLE_OPTIONS: import('esbuild').BuildOptions = {
  absWorkingDir: ROOT,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: [SOURCE_CONDITION],
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [externalThirdParty],
};

/** Bundle the CLI into CLI_BUNDLE_DIR (replacing it). Returns the entry file. Throws esbuild's error on failure. */
export async function buildCli(): Promise<string> {
  const { build } = await import('esbuild');
  rmSync(CLI_BUNDLE_DIR, { recursive: true, force: true });
  await build({ ...BUNDLE_OPTIONS, entryPoints: { geode: join(ROOT, 'packages/cli/src/bin.ts') }, outdir: CLI_BUNDLE_DIR });
  return join(CLI_BUNDLE_DIR, 'geode.mjs');
}

/**
 * Prebuild the client side of every app under apps/ (docs/cli.md#startup): its client module (commands, demo) and
 * its generated artifacts, bundled like the CLI (workspace packages inlined from source, third-party external) into
 * dist/apps/<name>/{client,artifacts}.mjs, so running an app's command or demo needs no TypeScript loader. Beside
 * them, build.json (a PrebuiltRecord) lists every source file read; the CLI uses a prebuilt module only while none
 * of them changed (apps.ts prebuiltModule), and the TypeScript source otherwise. Returns the app folders built.
 */
export async function buildAppClients(): Promise<string[]> {
  const { build } = await import('esbuild');
  const built: string[] = [];
  rmSync(join(REPO_ROOT, 'dist/apps'), { recursive: true, force: true });
  for (const app of discoverApps(REPO_ROOT)) {
    const entryPoints: Record<string, string> = { client: app.clientModule };
    if (existsSync(app.artifactsFile)) entryPoints.artifacts = app.artifactsFile;
    const r = await build({ ...BUNDLE_OPTIONS, entryPoints, outdir: app.prebuiltDir, metafile: true });
    if (!r.metafile) throw new Error(`esbuild wrote no metafile for ${app.name}`);
    const inputs = Object.keys(r.metafile.inputs).map((f) => resolve(ROOT, f));
    const record: PrebuiltRecord = { dir: app.dir, inputs, newestInputMtimeMs: Math.max(...inputs.map((f) => statSync(f).mtimeMs)) };
    mkdirSync(app.prebuiltDir, { recursive: true });
    writeFileSync(join(app.prebuiltDir, 'build.json'), `${JSON.stringify(record, null, 1)}\n`);
    built.push(app.prebuiltDir);
  }
  return built;
}
