// The framework packages and their public entry points, read from each package.json (the one source of truth).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The packages that build to dist/ and pack to installable tarballs, as directories relative to the repo root, in
 * dependency order (each imports only earlier ones): the framework (packages/<name>, @geode/<name>) and the apps
 * the CLI depends on (the computations app's client side). @geode/testing follows the CLI (its dev stack builds on it).
 */
export const BUILT_PACKAGES = [
  'packages/protocol', 'packages/attestation', 'packages/contracts', 'packages/devnet', 'packages/enclave',
  'packages/host', 'packages/client', 'packages/cli', 'packages/testing', 'apps/computations',
] as const;

/** One public entry point: its export subpath ('.', './files'), source file and built JS / declaration files (relative to the package dir). */
export interface PackageEntry { subpath: string; source: string; js: string; types: string }

/** The condition under which an export resolves to TypeScript source (docs/conventions.md#build). */
export const SOURCE_CONDITION = 'geode-source';

/**
 * Entry points of the package in `dir`, from its package.json "exports" (each value `{ "geode-source", types,
 * default }`). Throws TypeError for an export of another shape, naming the package and subpath.
 */
export function packageEntries(dir: string): PackageEntry[] {
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  return Object.entries(pj.exports).map(([subpath, v]) => {
    const t = v as Record<string, unknown>;
    if (typeof t !== 'object' || t === null || typeof t[SOURCE_CONDITION] !== 'string' || typeof t.types !== 'string' || typeof t.default !== 'string') {
      throw new TypeError(`${pj.name} exports["${subpath}"] must be { "${SOURCE_CONDITION}": "./src/x.ts", "types": "./dist/x.d.ts", "default": "./dist/x.js" }`);
    }
    return { subpath, source: t[SOURCE_CONDITION] as string, js: t.default as string, types: t.types as string };
  });
}

/**
 * The directory, relative to the package dir `dir`, whose layout dist/ mirrors: 'src' for a framework package ('./src/x.ts'
 * -> './dist/x.js'); '.' for an app, whose entries include its generated/artifacts.ts beside src/ ('./src/x.ts' ->
 * './dist/src/x.js', './generated/artifacts.ts' -> './dist/generated/artifacts.js').
 */
export function distRootOf(dir: string): 'src' | '.' {
  return existsSync(join(dir, 'generated')) ? '.' : 'src';
}
