// Every error the CLI prints shows its docs link (issue 9 §2 and §6, docs/cli.md#errors): each error family declared
// with defineError in a package's or an app's source carries a docsPath, its own or its base family's (whose block
// is checked the same way). test/docs/docs-paths.test.ts checks that each docsPath's anchor exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../src/output.ts';
import { CliArgumentError } from '../src/errors.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (['node_modules', 'dist', 'test', 'generated'].includes(n)) continue;
    if (statSync(p).isDirectory()) sources(p, out);
    else if (n.endsWith('.ts') && !n.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The defineError({ … }) spec blocks of `src` (comments removed) that give no docsPath and no base family. */
export function familiesWithoutDocs(src: string): string[] {
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (let i = code.indexOf('defineError({'); i >= 0; i = code.indexOf('defineError({', i + 1)) {
    let depth = 0;
    let j = i + 'defineError'.length;
    for (; j < code.length; j++) {
      if ('({['.includes(code[j]!)) depth++;
      else if (')}]'.includes(code[j]!) && --depth === 0) break;
    }
    const block = code.slice(i, j + 1);
    if (!/\bdocsPath\b/.test(block) && !/\bbase:/.test(block)) out.push(/codes?: \[?'([A-Z_]+)'/.exec(block)?.[1] ?? block.slice(0, 60));
  }
  return out;
}

test('every error family in packages/*/src and apps/*/src carries a docsPath (its own or its base family\'s)', () => {
  const files = ['packages', 'apps'].flatMap((r) => readdirSync(join(ROOT, r)).map((p) => join(ROOT, r, p, 'src')).filter(existsSync)).flatMap((d) => sources(d));
  assert.ok(files.length > 50);
  const missing = files.flatMap((f) => familiesWithoutDocs(readFileSync(f, 'utf8')).map((c) => `${relative(ROOT, f)}: ${c}`));
  assert.deepEqual(missing, []);
});

test('familiesWithoutDocs finds a family without a docs link (so the scan can fail)', () => {
  assert.deepEqual(familiesWithoutDocs("export class A extends defineError({\n  codes: ['X_ONE'],\n  build: (m: string) => ({ code: 'X_ONE', message: m }),\n}) {}\n"), ['X_ONE']);
  assert.deepEqual(familiesWithoutDocs("export class A extends defineError({ codes: ['X_ONE'], docsPath: 'cli.md#x', build: (m: string) => ({ code: 'X_ONE', message: m }) }) {}"), []);
  assert.deepEqual(familiesWithoutDocs("export class D extends defineError({ code: 'X_TWO', base: Base }) {}"), []);
  // A commented-out example is not a declaration.
  assert.deepEqual(familiesWithoutDocs("/**\n * export class A extends defineError({ codes: ['X_ONE'] }) {}\n */\n// defineError({ codes: ['X_ONE'] })\n"), []);
});

test('the CLI prints an error with its docs link, and --json carries docsPath', (t) => {
  const err: string[] = [];
  const out: string[] = [];
  t.mock.method(process.stderr, 'write', (s: string) => { err.push(s); return true; });
  t.mock.method(process.stdout, 'write', (s: string) => { out.push(s); return true; });
  const saved = process.exitCode;
  try {
    fail({ json: false }, new CliArgumentError('--port must be an integer 0-65535, got "x"'), 2);
    fail({ json: true }, new CliArgumentError('--port must be an integer 0-65535, got "x"'), 2);
  } finally {
    t.mock.restoreAll();
    process.exitCode = saved;
  }
  assert.equal(err.join(''), 'error CLI_BAD_ARGUMENT: --port must be an integer 0-65535, got "x" (see --help)\n  see docs/cli.md#cli-bad-argument\n');
  assert.equal((JSON.parse(out.join('')) as { error: { docsPath: string } }).error.docsPath, 'cli.md#cli-bad-argument');
});
