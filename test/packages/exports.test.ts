// Each built package exports only its public API (issue 9 §1, docs/conventions.md#build):
// - package.json "exports" lists explicit entry points, each { "geode-source": src/x.ts, types: dist/x.d.ts,
//   default: dist/x.js } (no "./*" wildcard), "files" ships dist/ and src/, and "dependencies" names every package
//   its src/ imports (else an installed tarball would not resolve);
// - the runtime export names of every entry point equal the checked-in list test/packages/exports.json (@noble
//   style), so an API change is a deliberate, reviewed edit of that list;
// - a subpath that is not an entry point does not resolve (ERR_PACKAGE_PATH_NOT_EXPORTED).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_PACKAGES, distRootOf, packageEntries } from '../../scripts/packages.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LIST = join(repo, 'test/packages/exports.json');
const HOW_TO_FIX =
  'If the API change is deliberate, regenerate the list with `GEODE_UPDATE_EXPORTS=1 node scripts/test.mjs test/packages/exports` ' +
  'and commit test/packages/exports.json. If an import broke instead, import from the package\'s public entry point ' +
  '(the "exports" of its package.json; docs/conventions.md#build) or add a deliberate entry point there.';

type ExportList = Record<string, Record<string, string[]>>;

interface Pj { name: string; exports: Record<string, unknown>; files?: string[]; dependencies?: Record<string, string> }
const pjOf = (rel: string): Pj => JSON.parse(readFileSync(join(repo, rel, 'package.json'), 'utf8')) as Pj;

/** Differences between two export lists, one line per changed entry point ("" when equal). */
export function diffExports(expected: ExportList, actual: ExportList): string[] {
  const out: string[] = [];
  for (const pkg of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    for (const sub of new Set([...Object.keys(expected[pkg] ?? {}), ...Object.keys(actual[pkg] ?? {})])) {
      const e = new Set(expected[pkg]?.[sub] ?? []);
      const a = new Set(actual[pkg]?.[sub] ?? []);
      const added = [...a].filter((n) => !e.has(n));
      const removed = [...e].filter((n) => !a.has(n));
      if (!(pkg in expected) || !(sub in (expected[pkg] ?? {}))) out.push(`${pkg} "${sub}": new entry point (${a.size} names)`);
      else if (!(pkg in actual) || !(sub in (actual[pkg] ?? {}))) out.push(`${pkg} "${sub}": entry point removed`);
      else if (added.length || removed.length) out.push(`${pkg} "${sub}": added [${added.join(', ')}], removed [${removed.join(', ')}]`);
    }
  }
  return out;
}

async function actualExports(): Promise<ExportList> {
  const out: ExportList = {};
  for (const rel of BUILT_PACKAGES) {
    const { name } = pjOf(rel);
    out[name] = {};
    for (const e of packageEntries(join(repo, rel))) {
      const spec = e.subpath === '.' ? name : `${name}/${e.subpath.slice(2)}`;
      out[name]![e.subpath] = Object.keys(await import(spec)).sort();
    }
  }
  return out;
}

test('every entry point exports exactly the names in test/packages/exports.json', async () => {
  const actual = await actualExports();
  if (process.env.GEODE_UPDATE_EXPORTS === '1') writeFileSync(LIST, JSON.stringify(actual, null, 2) + '\n');
  const expected = JSON.parse(readFileSync(LIST, 'utf8')) as ExportList;
  const diff = diffExports(expected, actual);
  assert.deepEqual(diff, [], `the public API changed:\n  ${diff.join('\n  ')}\n${HOW_TO_FIX}`);
});

test('the export-list comparison reports added, removed and new entries (self-test)', () => {
  const base: ExportList = { '@geode/x': { '.': ['a', 'b'] } };
  assert.deepEqual(diffExports(base, base), []);
  assert.deepEqual(diffExports(base, { '@geode/x': { '.': ['a', 'c'] } }), ['@geode/x ".": added [c], removed [b]']);
  assert.deepEqual(diffExports(base, { '@geode/x': { '.': ['a', 'b'], './y': ['z'] } }), ['@geode/x "./y": new entry point (1 names)']);
  assert.deepEqual(diffExports(base, { '@geode/x': {} }), ['@geode/x ".": entry point removed']);
});

test('package.json: explicit entry points mapping src/x.ts to dist/x.js + dist/x.d.ts, dist and src shipped', () => {
  for (const rel of BUILT_PACKAGES) {
    const pj = pjOf(rel);
    assert.ok(!Object.keys(pj.exports).some((k) => k.includes('*')), `${pj.name}: no wildcard exports (${HOW_TO_FIX})`);
    for (const e of packageEntries(join(repo, rel))) {
      // A framework package maps ./src/x.ts -> ./dist/x.js; an app (distRootOf '.') ./<path>.ts -> ./dist/<path>.js.
      const m = distRootOf(join(repo, rel)) === 'src' ? /^\.\/src\/(.+)\.ts$/.exec(e.source) : /^\.\/((?:src|generated)\/.+)\.ts$/.exec(e.source);
      assert.ok(m, `${pj.name} "${e.subpath}": source must be ./src/<x>.ts (an app: ./src/<x>.ts or ./generated/<x>.ts), got ${e.source}`);
      assert.equal(e.js, `./dist/${m[1]}.js`, `${pj.name} "${e.subpath}"`);
      assert.equal(e.types, `./dist/${m[1]}.d.ts`, `${pj.name} "${e.subpath}"`);
      assert.ok(existsSync(join(repo, rel, e.source)), `${pj.name} "${e.subpath}": ${e.source} exists`);
    }
    assert.ok(pj.files?.includes('dist') && pj.files.includes('src'), `${pj.name}: "files" ships dist and src`);
  }
});

/** Package names a source tree imports (static, dynamic, require), without node builtins. */
function importedPackages(dir: string, acc = new Set<string>()): Set<string> {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) importedPackages(p, acc);
    else if (n.endsWith('.ts')) {
      const src = readFileSync(p, 'utf8');
      for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(?:\/[\w./-]*)?)['"]/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) continue;
        acc.add(/^(@[^/]+\/[^/]+|[^/]+)/.exec(spec)![1]!);
      }
    }
  }
  return acc;
}

test('package.json "dependencies" name every package the source imports (an installed tarball resolves them)', () => {
  for (const rel of BUILT_PACKAGES) {
    const pj = pjOf(rel);
    const declared = new Set(Object.keys(pj.dependencies ?? {}));
    const missing = [...importedPackages(join(repo, rel, 'src'))].filter((d) => d !== pj.name && !declared.has(d));
    assert.deepEqual(missing, [], `${pj.name}: add to ${rel}/package.json "dependencies" (exact version as installed)`);
  }
});

test('a subpath that is not an entry point does not resolve', async () => {
  await assert.rejects(import('@geode/protocol/hash' as string), (e: NodeJS.ErrnoException) => e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  await assert.rejects(import('@geode/enclave/runtime' as string), (e: NodeJS.ErrnoException) => e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED');
});

test('npm pack ships each entry point source, package.json, and no tests', () => {
  const args = ['pack', '--dry-run', '--json', '--ignore-scripts', ...BUILT_PACKAGES.flatMap((rel) => ['-w', rel])];
  const packs = JSON.parse(execFileSync('npm', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { name: string; files: { path: string }[] }[];
  assert.equal(packs.length, BUILT_PACKAGES.length);
  for (const rel of BUILT_PACKAGES) {
    const pack = packs.find((p) => p.name === pjOf(rel).name);
    assert.ok(pack, `npm pack produced ${rel}`);
    const files = new Set(pack.files.map((f) => f.path));
    assert.ok(files.has('package.json'), rel);
    for (const e of packageEntries(join(repo, rel))) assert.ok(files.has(e.source.slice(2)), `${rel}: tarball has ${e.source}`);
    // The CLI's app templates (templates/app/test/*.tmpl) are what `geode init` writes, not the package's tests.
    assert.deepEqual([...files].filter((f) => /(^|\/)test\/|\.test\.ts$/.test(f) && !f.startsWith('templates/')), [], `${rel}: no test files in the tarball`);
  }
});
