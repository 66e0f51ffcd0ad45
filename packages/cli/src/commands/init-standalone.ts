/**
 * `geode init <dir> --standalone` (docs/apps.md#standalone): the scaffold of `geode init` as its own npm project
 * outside this repository, on the packed Geode packages:
 *
 * 1. `<dir>` must not exist and must be outside the repository; its base name is the app name (checkName);
 * 2. the framework packages (this repository's workspaces under packages/) must be built and current: each one's
 *    dist/ newer than its src/, and the CLI bundle present (else: run `npm run build && npm run build:packages`);
 * 3. the template files are written as for `geode init`, then `npm pack` writes each package's tarball to
 *    `<dir>/vendor/`, and package.json depends on them as `file:vendor/<tarball>` plus the exact versions of the
 *    third-party packages the app imports (zod, viem, commander; EDR's Linux binary, see DEPENDENCIES) and of its
 *    test tools (tsx, typescript, @types/node), read from this repository's package.json; tsconfig.json, README.md
 *    and .gitignore complete it.
 *
 * Then, inside it: `npm install`, `npx geode demo --app . --json`, `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../apps.ts';
import { CliArgumentError } from '../errors.ts';
import { checkName, writeScaffold, type InitResult } from './init.ts';

/**
 * Third-party packages of a standalone app: what its code imports, then its test and typecheck tools. EDR's
 * Linux x64 binary is a direct dependency for the reason the repository's is (README.md#requirements-and-decisions:
 * npm skips it on Node 20 as an optional dependency of EDR, which declares Node >= 22).
 */
const DEPENDENCIES = ['@nomicfoundation/edr-linux-x64-gnu', 'commander', 'viem', 'zod'] as const;
const DEV_DEPENDENCIES = ['@types/node', 'tsx', 'typescript'] as const;

/** Newest modification time (ms) of any file under `dir` (0 for a missing dir). */
function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The repository's framework packages (workspaces under packages/), as directories relative to the repository. */
function frameworkPackages(pkg: { workspaces?: string[] }): string[] {
  return (pkg.workspaces ?? []).filter((w) => w.startsWith('packages/'));
}

/**
 * Create the standalone app at `dir` (absolute or relative to the working directory). Returns what `geode init`
 * returns, `files` including the vendored tarballs. Throws CliArgumentError, with nothing written, for a bad name,
 * an existing folder, a folder inside the repository, a CLI not run from a repository checkout, or stale builds;
 * `npm pack`'s error if packing fails (the half-made folder is removed).
 */
export function runInitStandalone(dirArg: string): InitResult {
  const dir = resolve(dirArg);
  const name = basename(dir);
  checkName(name);
  if (existsSync(dir)) throw new CliArgumentError(`${dir} already exists; pick another folder or remove it`);
  const rootPkgFile = join(REPO_ROOT, 'package.json');
  const rootPkg = existsSync(rootPkgFile) ? JSON.parse(readFileSync(rootPkgFile, 'utf8')) as { workspaces?: string[]; dependencies?: Record<string, string>; devDependencies?: Record<string, string> } : {};
  const packages = frameworkPackages(rootPkg);
  if (!packages.length) throw new CliArgumentError('geode init --standalone packs the Geode packages of a repository checkout; run it from the Geode repository (npm run geode -- init <dir> --standalone)');
  const rel = relative(REPO_ROOT, dir);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) throw new CliArgumentError(`${dir} is inside the Geode repository; a standalone app is its own project: pick a folder outside ${REPO_ROOT} (or use \`geode init ${name}\` for an app of the repository)`);
  const stale = packages.filter((p) => newest(join(REPO_ROOT, p, 'src')) > newest(join(REPO_ROOT, p, 'dist')));
  const bundle = join(REPO_ROOT, 'packages/cli/dist/bin/geode.mjs');
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < Math.max(...packages.map((p) => newest(join(REPO_ROOT, p, 'src'))))) stale.push('the CLI bundle packages/cli/dist/bin');
  if (stale.length) throw new CliArgumentError(`the packed packages would be out of date (${stale.join(', ')}): run \`npm run build && npm run build:packages\` in ${REPO_ROOT} first`);
  const version = (n: string) => {
    const v = rootPkg.dependencies?.[n] ?? rootPkg.devDependencies?.[n];
    if (!v) throw new CliArgumentError(`the repository's package.json pins no version of ${n}`);
    return v;
  };

  const r = writeScaffold(name, dir);
  try {
    const vendor = join(dir, 'vendor');
    mkdirSync(vendor);
    const packs = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', vendor, ...packages.flatMap((p) => ['-w', p])], {
      cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' },
    })) as { name: string; filename: string }[];
    const template = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports: unknown; geode: unknown };
    const pkg = {
      name, version: '0.1.0', private: true, type: 'module',
      description: `The ${name} Geode app (geode init --standalone).`,
      exports: template.exports,
      geode: template.geode,
      scripts: {
        demo: 'geode demo --app . --json',
        dev: 'geode dev --app .',
        test: 'node --import tsx --test test/app.test.ts test/demo.test.ts',
        typecheck: 'tsc -p tsconfig.json',
      },
      dependencies: Object.fromEntries([
        ...packs.map((p) => [p.name, `file:vendor/${p.filename}`] as const),
        ...DEPENDENCIES.map((n) => [n, version(n)] as const),
      ].sort(([a], [b]) => a.localeCompare(b))),
      devDependencies: Object.fromEntries(DEV_DEPENDENCIES.map((n) => [n, version(n)])),
    };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, allowImportingTsExtensions: true, skipLibCheck: true, isolatedModules: true, lib: ['ES2023'], types: ['node'] },
      include: ['src/**/*.ts', 'test/**/*.ts', 'generated/**/*.ts'],
    }, null, 2)}\n`);
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\ndist/\n.geode/\n');
    writeFileSync(join(dir, 'README.md'), [
      `# ${name}`, '',
      `A Geode app made by \`geode init ${name} --standalone\`: a private total per sender (docs/apps.md of Geode).`, '',
      '```sh',
      'npm install                  # the Geode packages come from vendor/*.tgz',
      'npx geode demo --app . --json  # embedded devnet, contract, attested enclave: {"ok":true,…}',
      'npm test                     # unit tests (@geode/testing) and the end-to-end test',
      'npx geode dev --app .        # keep a devnet running; then: npx geode identity create alice && npx geode ' + name + ' add 2 --as alice',
      '```', '',
      'Files: `contracts/` the app contract, `src/spec.ts` + `src/errors.ts` the declaration both sides share,',
      '`src/enclave/` the trusted handlers and entry point, `src/client/` commands and the demo, `test/`, `docs/errors.md`.',
      '`generated/artifacts.ts` (ABI, bytecode) and `dist/enclave/` (the measured enclave bundle) are built on first use.', '',
    ].join('\n'));
    const files = [...r.files.filter((f) => f !== 'package.json'), '.gitignore', 'README.md', 'package.json', 'tsconfig.json', ...packs.map((p) => `vendor/${p.filename}`)].sort();
    return { ...r, files, next: [`cd ${relative(process.cwd(), dir) || '.'}`, 'npm install', 'npx geode demo --app . --json', 'npm test'] };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
