// CLI bundle step of `npm run build` (docs/cli.md#startup): esbuild bundles the CLI and the workspace packages it
// imports (from TypeScript source, under the 'geode-source' condition) into packages/cli/dist/bin/geode.mjs, with
// code splitting so each command module that main.ts loads lazily is its own chunk (`geode --version` and `--help`
// parse only the command table). Third-party packages stay external: node resolves them from node_modules at run
// time, so the native better-sqlite3 and EDR addons, solc and pino's worker files load as installed. The enclave
// bundle is found from the repository root at run time (workspaceRoot), not from this bundle's location.
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCE_CONDITION } from './packages.ts';

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

/** Bundle the CLI into CLI_BUNDLE_DIR (replacing it). Returns the entry file. Throws esbuild's error on failure. */
export async function buildCli(): Promise<string> {
  const { build } = await import('esbuild');
  rmSync(CLI_BUNDLE_DIR, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { geode: join(ROOT, 'packages/cli/src/bin.ts') },
    outdir: CLI_BUNDLE_DIR,
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
  });
  return join(CLI_BUNDLE_DIR, 'geode.mjs');
}
