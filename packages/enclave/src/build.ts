import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hex } from 'viem';

/**
 * Enclave bundle step (docs/enclave.md#bundle): esbuild bundles an app's enclave entry and everything it
 * imports into one ESM file for Node 20; the simulated measurement (mr_enclave) is SHA-256 of that file.
 * Build options are fixed for reproducibility: no minify, no sourcemap, no banner, no legal comments,
 * no metafile-dependent content.
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

/** The TEE a bundle is built for: the simulator (default) or a hardware platform (docs/enclave.md#platform). */
export type BuildTee = 'sim' | 'sgx' | 'tdx' | 'sev-snp';
/** Every BuildTee value. */
export const BUILD_TEES: readonly BuildTee[] = ['sim', 'sgx', 'tdx', 'sev-snp'];

/** Sources that are simulation code: a hardware bundle that would include one fails to build. */
const SIM_SOURCES = /[\\/]packages[\\/](enclave[\\/]src[\\/]platform[\\/]sim\.ts|enclave[\\/]src[\\/]platform[\\/]default\.ts|attestation[\\/]src[\\/]sim[\\/])/;

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

/**
 * Bundle `entry` into `outfile` (esbuild: platform node, format esm, target node20, bundle all dependencies) for
 * `tee` (default 'sim'). Hardware builds (`sgx`, `tdx`, `sev-snp`) define `GEODE_TEE` and exclude every simulation
 * source (see hardwareOnly). Returns the absolute outfile and `measurement` = SHA-256 of the bundle: the sim
 * mr_enclave; on hardware the TEE measures more than the bundle (docs/attestation.md#enclave-identity).
 * Throws esbuild's error on a build failure (also when a hardware build reaches simulation code).
 */
export async function buildEnclave(opts: { entry: string; outfile: string; tee?: BuildTee }): Promise<{ outfile: string; measurement: Hex }> {
  const tee = opts.tee ?? 'sim';
  if (!BUILD_TEES.includes(tee)) throw new TypeError(`buildEnclave: tee must be one of ${BUILD_TEES.join(', ')}`);
  const { build } = await import('esbuild');
  const outfile = resolve(opts.outfile);
  mkdirSync(dirname(outfile), { recursive: true });
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
    logLevel: tee === 'sim' ? 'warning' : 'silent',
    define: { GEODE_TEE: JSON.stringify(tee) },
    plugins: tee === 'sim' ? [stubDebug] : [stubDebug, hardwareOnly],
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
