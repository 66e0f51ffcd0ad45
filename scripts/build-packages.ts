// `npm run build:packages`: compile each framework package to JavaScript + type declarations in packages/<name>/dist
// (docs/conventions.md#build). The roots of each package's program are its public entry points (package.json
// "exports", "geode-source" targets); tsc follows their imports. Packages build in dependency order without the
// "geode-source" condition, so `@geode/protocol` in attestation's program resolves to protocol's freshly emitted
// dist/*.d.ts, exactly what an installed consumer sees. rewriteRelativeImportExtensions turns './x.ts' into './x.js'.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { BUILT_PACKAGES, distRootOf, packageEntries } from './packages.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  resolveJsonModule: true,
  esModuleInterop: true,
  skipLibCheck: true,
  isolatedModules: true,
  lib: ['lib.es2023.d.ts'],
  types: ['node'],
  declaration: true,
  rewriteRelativeImportExtensions: true,
  allowImportingTsExtensions: true,
  noEmitOnError: true,
};

/** A compiler host whose parsed files outside the workspace packages (lib, @types, node_modules) are shared by all programs. */
function sharedHost(): ts.CompilerHost {
  const host = ts.createCompilerHost(OPTIONS);
  const cache = new Map<string, ts.SourceFile | undefined>();
  const get = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, onError, fresh) => {
    if (!file.includes('/node_modules/') || file.includes('/node_modules/@geode/')) return get(file, lang, onError, fresh);
    const key = `${file}\0${typeof lang === 'object' ? lang.languageVersion : lang}`;
    if (!cache.has(key)) cache.set(key, get(file, lang, onError, fresh));
    return cache.get(key);
  };
  return host;
}

function main(): void {
  const host = sharedHost();
  const only = process.argv.slice(2);
  for (const rel of BUILT_PACKAGES) {
    if (only.length && !only.some((o) => rel.includes(o))) continue;
    const dir = join(ROOT, rel);
    const name = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string }).name;
    const roots = packageEntries(dir).map((e) => join(dir, e.source));
    // Stale modules must not linger in a tarball; dist/bin is the CLI bundle (`npm run build`), not tsc's.
    for (const f of existsSync(join(dir, 'dist')) ? readdirSync(join(dir, 'dist')) : []) if (f !== 'bin') rmSync(join(dir, 'dist', f), { recursive: true, force: true });
    const t0 = performance.now();
    const program = ts.createProgram({ rootNames: roots, options: { ...OPTIONS, rootDir: join(dir, distRootOf(dir)), outDir: join(dir, 'dist') }, host });
    const emitted = program.emit();
    const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
    if (diagnostics.length) {
      console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' }));
      console.error(`build:packages: ${name} has ${diagnostics.length} error(s); nothing emitted for it`);
      process.exit(1);
    }
    const files = program.getSourceFiles().filter((f) => f.fileName.startsWith(join(dir, distRootOf(dir)) + '/')).length;
    console.log(`${name}: ${files} modules -> ${rel}/dist (${Math.round(performance.now() - t0)} ms)`);
  }
}

main();
