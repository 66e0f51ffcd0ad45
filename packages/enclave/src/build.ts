import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Hex } from 'viem';

/**
 * Enclave bundle step (docs/enclave.md#bundle): esbuild bundles an app's enclave entry and everything it
 * imports into one ESM file for Node 20; the simulated measurement (mr_enclave) is SHA-256 of that file.
 * Build options are fixed for reproducibility: no minify, no sourcemap, no banner, no legal comments,
 * no metafile-dependent content.
 */

/** SHA-256 of the file at `file`, 0x hex (the measurement a sim enclave running that bundle reports). */
export function measureEnclave(file: string): Hex {
  return `0x${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}

/**
 * Bundle `entry` into `outfile` (esbuild: platform node, format esm, target node20, bundle all dependencies).
 * Returns the absolute outfile and its measurement. Throws esbuild's error on a build failure.
 */
export async function buildEnclave(opts: { entry: string; outfile: string }): Promise<{ outfile: string; measurement: Hex }> {
  const { build } = await import('esbuild');
  const outfile = resolve(opts.outfile);
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
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
    // CommonJS dependencies bundled into ESM call require() for node builtins; give them one.
    banner: { js: "import { createRequire as __geodeCreateRequire } from 'node:module'; const require = __geodeCreateRequire(import.meta.url);" },
  });
  return { outfile, measurement: measureEnclave(outfile) };
}
