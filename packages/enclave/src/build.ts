import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hex } from 'viem';

/**
 * Enclave bundle step (docs/enclave.md#bundle): esbuild bundles an app's enclave entry and everything it
 * imports into one ESM file for Node 20; the simulated measurement (mr_enclave) is SHA-256 of that file.
 * Build options are fixed for reproducibility: no minify, no sourcemap, no legal comments, no metafile-dependent
 * content, a fixed banner.
 *
 * The state store's SQLite addon (better_sqlite3.node) cannot be bundled: it is copied beside the bundle and its
 * SHA-256 is compiled into the bundle (GEODE_SQLITE_NATIVE_SHA256), which checks it before loading it
 * (store/native.ts). The measurement of the bundle therefore covers the exact native binary the enclave runs.
 */

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** SHA-256 of the file at `file`, 0x hex (the measurement a sim enclave running that bundle reports). */
export function measureEnclave(file: string): Hex {
  return `0x${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}

/**
 * `debug` (pulled in by @ethereumjs/mpt) is CommonJS that require()s node builtins dynamically, which an ESM bundle
 * cannot do without a require shim banner; inside an enclave it must also never log on the host's say-so (it reads
 * the DEBUG env var). It is replaced by a silent stub.
 */
const stubDebug = {
  name: 'geode-stub-debug',
  setup(b: { onResolve: Function; onLoad: Function }) {
    b.onResolve({ filter: /^debug$/ }, () => ({ path: 'debug', namespace: 'geode-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'geode-stub' }, () => ({
      loader: 'js',
      contents: 'const noop = () => {}; noop.enabled = false; noop.extend = () => noop;\nconst debug = () => noop; debug.enable = () => {}; debug.disable = () => \'\'; debug.enabled = () => false;\nexport default debug;\n',
    }));
  },
};

/**
 * better-sqlite3 is CommonJS that require()s 'fs', 'path' and 'util'; an ESM bundle has no require. The banner gives
 * the bundle one that loads node builtins only, so nothing outside the measured bundle can be pulled in through it.
 */
const BANNER = "import { createRequire as __geodeCreateRequire } from 'node:module';\nconst require = (m) => { if (!/^(node:)?(fs|path|util)$/.test(m)) throw new Error('the enclave bundle loads node builtins only: ' + m); return __geodeCreateRequire(import.meta.url)(m); };";

/** better-sqlite3 would locate its addon with 'bindings' (a filesystem search); the enclave always passes the checked addon instead. */
const stubBindings = {
  name: 'geode-stub-bindings',
  setup(b: { onResolve: Function; onLoad: Function }) {
    b.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', namespace: 'geode-stub-bindings' }));
    b.onLoad({ filter: /.*/, namespace: 'geode-stub-bindings' }, () => ({
      loader: 'js',
      contents: "module.exports = () => { throw new Error('the enclave loads its SQLite addon through store/native.ts only'); };\n",
    }));
  },
};

/** The SQLite addon in node_modules: its path and SHA-256 (lowercase hex). */
export function sqliteAddonFile(): { path: string; sha256: string } {
  const path = createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  return { path, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
}

/**
 * Bundle `entry` into `outfile` (esbuild: platform node, format esm, target node20, bundle all dependencies).
 * Copies the SQLite addon to `<dir of outfile>/better_sqlite3.node`.
 * Returns the absolute outfile and its measurement. Throws esbuild's error on a build failure.
 */
export async function buildEnclave(opts: { entry: string; outfile: string }): Promise<{ outfile: string; measurement: Hex }> {
  const { build } = await import('esbuild');
  const outfile = resolve(opts.outfile);
  mkdirSync(dirname(outfile), { recursive: true });
  const addon = sqliteAddonFile();
  copyFileSync(addon.path, resolve(dirname(outfile), 'better_sqlite3.node'));
  await build({
    // Paths in the bundle's module comments are relative to the repo root, whatever the caller's cwd.
    absWorkingDir: REPO_ROOT,
    entryPoints: [resolve(opts.entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
    banner: { js: BANNER },
    define: { GEODE_SQLITE_NATIVE_SHA256: JSON.stringify(addon.sha256) },
    plugins: [stubDebug, stubBindings],
  });
  return { outfile, measurement: measureEnclave(outfile) };
}

/**
 * Bundle every app enclave entry found at apps/<app>/src/enclave/main.ts into dist/enclave/<app>.mjs and print
 * each measurement. Called from scripts/build.ts. Returns the results in app-name order.
 */
export async function buildAllEnclaves(log: (line: string) => void = console.log): Promise<{ app: string; outfile: string; measurement: Hex }[]> {
  const { existsSync, readdirSync } = await import('node:fs');
  const apps = resolve(REPO_ROOT, 'apps');
  const out: { app: string; outfile: string; measurement: Hex }[] = [];
  for (const app of existsSync(apps) ? readdirSync(apps).sort() : []) {
    const entry = resolve(apps, app, 'src/enclave/main.ts');
    if (!existsSync(entry)) continue;
    const r = await buildEnclave({ entry, outfile: resolve(REPO_ROOT, 'dist/enclave', `${app}.mjs`) });
    log(`enclave ${app}: ${r.outfile} measurement ${r.measurement}`);
    out.push({ app, ...r });
  }
  return out;
}
