// `npm run check:pack` (after `npm run build:packages`, which the script runs first): proves the packed tarballs are
// installable by another project (issue 9 §1). Packs every built package (scripts/packages.ts) into a temp dir,
// installs the tarballs into a fresh temp project (third-party dependencies from the npm cache, --prefer-offline;
// install scripts off: the SQLite addon is only needed to open a store), then, from plain node with no export
// condition and no tsx, imports every entry point of every package and runs the installed `geode --version`.
// Prints one line per entry point and exits non-zero on the first failure. Too slow for `npm test` (minutes); the
// fast checks of the same package.json fields are in test/packages/exports.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_PACKAGES, packageEntries } from './packages.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The consumer must not inherit this repo's 'geode-source' condition (.npmrc node-options).
const env = { ...process.env, NODE_OPTIONS: '' };

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'geode-pack-'));
  const keep = process.argv.includes('--keep');
  try {
    const tarDir = join(work, 'tarballs');
    mkdirSync(tarDir);
    const packs = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tarDir, ...BUILT_PACKAGES.flatMap((r) => ['-w', r])], { cwd: ROOT, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'] })) as { name: string; filename: string; size: number; entryCount: number }[];
    for (const p of packs) console.log(`packed ${p.name}: ${p.entryCount} files, ${(p.size / 1024).toFixed(0)} KiB`);

    const app = join(work, 'consumer');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'geode-pack-consumer', version: '0.0.0', private: true, type: 'module' }, null, 2));
    const t0 = performance.now();
    execFileSync('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', ...packs.map((p) => join(tarDir, p.filename))], { cwd: app, env, stdio: 'inherit' });
    console.log(`installed ${packs.length} tarballs into ${app} in ${Math.round(performance.now() - t0)} ms`);

    const specs: string[] = [];
    for (const rel of BUILT_PACKAGES) {
      const { name } = JSON.parse(readFileSync(join(ROOT, rel, 'package.json'), 'utf8')) as { name: string };
      for (const e of packageEntries(join(ROOT, rel))) specs.push(e.subpath === '.' ? name : `${name}/${e.subpath.slice(2)}`);
    }
    writeFileSync(join(app, 'check.mjs'), `for (const s of ${JSON.stringify(specs)}) {\n  const m = await import(s);\n  console.log('import', s, '->', Object.keys(m).length, 'exports');\n}\n`);
    execFileSync(process.execPath, ['check.mjs'], { cwd: app, env, stdio: 'inherit' });
    const version = execFileSync(join(app, 'node_modules/.bin/geode'), ['--version'], { cwd: app, env, encoding: 'utf8' }).trim();
    console.log(`installed geode --version: ${version}`);
    console.log('check:pack ok');
  } finally {
    if (keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main();
