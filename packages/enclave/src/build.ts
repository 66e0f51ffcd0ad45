import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type { Hex } from 'viem';

/**
 * Enclave bundle step (docs/enclave.md#bundle): esbuild bundles an app's enclave entry and everything it
 * imports into one ESM file for Node 20; the simulated measurement (mr_enclave) is SHA-256 of that file.
 * Build options are fixed for reproducibility: no minify, no sourcemap, no legal comments, no metafile-dependent
 * content.
 *
 * The state store's SQLite addon (better_sqlite3.node) cannot be bundled: it is copied beside the bundle and its
 * SHA-256 is compiled into the bundle (GEODE_SQLITE_NATIVE_SHA256), which checks it before loading it
 * (store/native.ts). The measurement of the bundle therefore covers the exact native binary the enclave runs.
 */

import { workspaceRoot } from '@geode/protocol/files';

export { workspaceRoot };

const REPO_ROOT = workspaceRoot();

/**
 * Package-export condition that selects a workspace package's TypeScript source (docs/conventions.md#build): the
 * enclave is always bundled from source, in this repository and from installed tarballs (which ship src/), so the
 * measured bundle does not depend on whether `npm run build:packages` ran.
 */
export const SOURCE_CONDITION = 'geode-source';

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
    b.onLoad({ filter: /^debug$/, namespace: 'geode-stub' }, () => ({
      loader: 'js',
      contents: 'const noop = () => {}; noop.enabled = false; noop.extend = () => noop;\nconst debug = () => noop; debug.enable = () => {}; debug.disable = () => \'\'; debug.enabled = () => false;\nexport default debug;\n',
    }));
  },
};

const NODE_BUILTINS = new Set(builtinModules);

/**
 * better-sqlite3 (the state store) would locate its addon with 'bindings' (a filesystem search); the enclave always
 * passes the hash-checked addon instead (store/native.ts). Its require()s of 'fs', 'path' and 'util' are served by
 * the blsWasm plugin's builtin mapping below.
 */
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
 * The Ethereum light client's BLS (@chainsafe/bls with the herumi backend, docs/protocol.md#ethereum-light-client)
 * is CommonJS WebAssembly glue (bls-eth-wasm): it require()s node builtins and reads `__dirname`, which an ESM
 * bundle has neither of. Three narrow fixes keep it inside the bundle (so the measurement covers it):
 * - a CommonJS require() of a node builtin resolves to a one-line ESM re-export of that builtin;
 * - the emscripten loader gets an empty `__dirname` (its WebAssembly is inlined, it never reads files by it);
 * - @chainsafe/bls-keygen (secret-key generation, never used by a verifier) is replaced by a stub that throws, which
 *   also keeps its CommonJS hash dependencies out.
 */
const blsWasm = {
  name: 'geode-bls-wasm',
  setup(b: { onResolve: Function; onLoad: Function }) {
    b.onResolve({ filter: /.*/ }, (a: { kind: string; path: string }) => {
      const name = a.path.replace(/^node:/, '');
      return a.kind === 'require-call' && NODE_BUILTINS.has(name) ? { path: name, namespace: 'geode-builtin' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'geode-builtin' }, (a: { path: string }) => ({ loader: 'js', contents: `export * from "node:${a.path}";\n` }));
    b.onLoad({ filter: /bls-eth-wasm[\\/]src[\\/]bls_c\.js$/ }, (a: { path: string }) => ({ loader: 'js', contents: `var __dirname = "";\n${readFileSync(a.path, 'utf8')}` }));
    b.onResolve({ filter: /^@chainsafe\/bls-keygen$/ }, () => ({ path: 'bls-keygen', namespace: 'geode-stub' }));
    b.onLoad({ filter: /^bls-keygen$/, namespace: 'geode-stub' }, () => ({ loader: 'js', contents: "export function generateRandomSecretKey() { throw new Error('BLS key generation is not available in the enclave'); }\n" }));
  },
};

/** The TEE a bundle is built for: the simulator (default) or a hardware platform (docs/enclave.md#platform). */
export type BuildTee = 'sim' | 'sgx' | 'tdx' | 'sev-snp';
/** Every BuildTee value. */
export const BUILD_TEES: readonly BuildTee[] = ['sim', 'sgx', 'tdx', 'sev-snp'];

/** Sources that are simulation code: a hardware bundle that would include one fails to build. */
const SIM_SOURCES = /[\\/](?:packages|@geode)[\\/](enclave[\\/]src[\\/]platform[\\/]sim\.ts|enclave[\\/]src[\\/]platform[\\/]default\.ts|attestation[\\/]src[\\/]sim[\\/])/;

/**
 * Hardware builds: main.ts's `./platform/default.ts` (which opens the simulator) becomes
 * `./platform/default-hardware.ts`, and loading any simulation source is a build error naming it, so a hardware
 * bundle provably contains no simulation code or PKI.
 */
const hardwareOnly = {
  name: 'geode-hardware-only',
  setup(b: { onResolve: Function; onLoad: Function }) {
    b.onResolve({ filter: /^\.\/platform\/default\.ts$/ }, (a: { resolveDir: string }) => ({ path: resolve(a.resolveDir, 'platform/default-hardware.ts') }));
    b.onLoad({ filter: SIM_SOURCES }, (a: { path: string }) => ({ errors: [{ text: `simulation code in a hardware enclave bundle: ${a.path.slice(REPO_ROOT.length + 1)} (import it only from sim builds)` }] }));
  },
};

/** The esbuild options every enclave build shares (reproducible output; see the module doc). */
function fixedOptions(tee: BuildTee) {
  return {
    // Paths in the bundle's module comments are relative to the repo root, whatever the caller's cwd.
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node' as const,
    target: 'node20',
    minify: false,
    sourcemap: false,
    legalComments: 'none' as const,
    charset: 'utf8' as const,
    conditions: [SOURCE_CONDITION],
    logLevel: tee === 'sim' ? ('warning' as const) : ('silent' as const),
  };
}

/**
 * Bundle `entry` into `outfile` (esbuild: platform node, format esm, target node20, bundle all dependencies) for
 * `tee` (default 'sim'). Hardware builds (`sgx`, `tdx`, `sev-snp`) define `GEODE_TEE` and exclude every simulation
 * source (see hardwareOnly). Returns the absolute outfile and `measurement` = SHA-256 of the bundle: the sim
 * mr_enclave; on hardware the TEE measures more than the bundle (docs/attestation.md#enclave-identity).
 * Copies the SQLite addon to `<dir of outfile>/better_sqlite3.node` and compiles its SHA-256 into the bundle.
 * Throws esbuild's error on a build failure (also when a hardware build reaches simulation code).
 */
export async function buildEnclave(opts: { entry: string; outfile: string; tee?: BuildTee }): Promise<{ outfile: string; measurement: Hex }> {
  const tee = opts.tee ?? 'sim';
  if (!BUILD_TEES.includes(tee)) throw new TypeError(`buildEnclave: tee must be one of ${BUILD_TEES.join(', ')}`);
  const { build } = await import('esbuild');
  const outfile = resolve(opts.outfile);
  mkdirSync(dirname(outfile), { recursive: true });
  const addon = sqliteAddonFile();
  copyFileSync(addon.path, resolve(dirname(outfile), 'better_sqlite3.node'));
  const hpkeWorker = await bundleHpkeWorker(tee, dirname(resolve(opts.entry)));
  await build({
    ...fixedOptions(tee),
    entryPoints: [resolve(opts.entry)],
    outfile,
    format: 'esm',
    define: { GEODE_TEE: JSON.stringify(tee), GEODE_SQLITE_NATIVE_SHA256: JSON.stringify(addon.sha256), GEODE_HPKE_WORKER_SOURCE: JSON.stringify(hpkeWorker) },
    plugins: tee === 'sim' ? [stubDebug, stubBindings, blsWasm] : [stubDebug, stubBindings, blsWasm, hardwareOnly],
  });
  return { outfile, measurement: measureEnclave(outfile) };
}

/**
 * The worker needs only @geode/protocol's HPKE module (hpkeOpen, hpkeSeal; it imports @hpke/*, @noble/hashes and
 * node:crypto) and the enclave's output key derivation (hpke/output-ekm.ts: @noble/hashes, hash-wasm's Keccak):
 * resolving the package to that module keeps zod and viem out of every worker's start-up.
 */
const protocolHpkeOnly = {
  name: 'geode-protocol-hpke-only',
  setup(b: { onResolve: Function; resolve: Function }) {
    // The package's own source entry (src/index.ts through SOURCE_CONDITION, in this repository and in an install),
    // then its sibling hpke.ts.
    b.onResolve({ filter: /^@geode\/protocol$/ }, async (a: { kind: string; resolveDir: string; pluginData?: { hpkeOnly?: boolean } }) => {
      if (a.pluginData?.hpkeOnly) return undefined;
      const r = (await b.resolve('@geode/protocol', { kind: a.kind, resolveDir: a.resolveDir, pluginData: { hpkeOnly: true } })) as { path: string; errors: unknown[] };
      return r.errors.length > 0 ? { errors: r.errors } : { path: resolve(dirname(r.path), 'hpke.ts') };
    });
  },
};

/**
 * The HPKE worker's entry: hpke/worker.ts beside @geode/enclave's source entry (src/index.ts through
 * SOURCE_CONDITION), resolved from `resolveDir` like any import of the app's enclave (this file may itself run from
 * the CLI's prebuilt bundle, so never relative to it).
 */
const hpkeWorkerEntry = (resolveDir: string) => ({
  name: 'geode-hpke-worker-entry',
  setup(b: { onResolve: Function; resolve: Function }) {
    b.onResolve({ filter: /^geode:hpke-worker$/ }, async () => {
      const r = (await b.resolve('@geode/enclave', { kind: 'import-statement', resolveDir })) as { path: string; errors: unknown[] };
      return r.errors.length > 0 ? { errors: r.errors } : { path: resolve(dirname(r.path), 'hpke/worker.ts') };
    });
  },
});

/**
 * The HPKE worker (hpke/worker.ts of the @geode/enclave that `resolveDir` resolves) bundled into one CommonJS
 * script, returned as text: buildEnclave compiles it into
 * the enclave bundle (define GEODE_HPKE_WORKER_SOURCE), so the measurement covers the code the worker threads run
 * and no worker file is ever read from disk (docs/enclave.md#hpke-pool). Same fixed options as the bundle.
 * Throws esbuild's error on a build failure.
 */
export async function bundleHpkeWorker(tee: BuildTee = 'sim', resolveDir: string = REPO_ROOT): Promise<string> {
  const { build } = await import('esbuild');
  const r = await build({
    ...fixedOptions(tee),
    entryPoints: ['geode:hpke-worker'],
    write: false,
    format: 'cjs', // an eval'd worker script (node:worker_threads `eval: true`) is CommonJS
    plugins: [hpkeWorkerEntry(resolveDir), protocolHpkeOnly],
  });
  return r.outputFiles[0]!.text;
}

/**
 * Bundle the enclave entry of every app under apps/ (the `geode.enclave` path of its package.json manifest,
 * docs/apps.md#layout) into dist/enclave/<app>.mjs and print each measurement. Folders without a manifest are
 * skipped. Called from scripts/build.ts. Returns the results in app-name order.
 */
export async function buildAllEnclaves(log: (line: string) => void = console.log): Promise<{ app: string; outfile: string; measurement: Hex }[]> {
  const { existsSync, readdirSync } = await import('node:fs');
  const apps = resolve(REPO_ROOT, 'apps');
  const out: { app: string; outfile: string; measurement: Hex }[] = [];
  for (const app of existsSync(apps) ? readdirSync(apps).sort() : []) {
    const pkg = resolve(apps, app, 'package.json');
    if (!existsSync(pkg)) continue;
    const rel = (JSON.parse(readFileSync(pkg, 'utf8')) as { geode?: { enclave?: unknown } }).geode?.enclave;
    if (typeof rel !== 'string') continue;
    const entry = resolve(apps, app, rel);
    const r = await buildEnclave({ entry, outfile: resolve(REPO_ROOT, 'dist/enclave', `${app}.mjs`) });
    log(`enclave ${app}: ${r.outfile} measurement ${r.measurement}`);
    out.push({ app, ...r });
  }
  return out;
}

export { gramineManifest, type GramineManifestOptions } from './build-gramine.ts';
