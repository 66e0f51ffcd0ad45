// Calls into viem keep their ABI typing (issue 9 §7): no `as never` / `as any` casts in the host, client, CLI,
// devnet, contracts packages or the benchmarks; typed ABIs (`as const` artifacts) and viem's typed
// writeContract/readContract/encodeFunctionData check function names and arguments at compile time instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ROOTS = ['packages/host/src', 'packages/client/src', 'packages/cli/src', 'packages/devnet/src', 'packages/contracts/src', 'bench'];

/** Lines (1-based) of `src` that throw types away with `as never` or `as any`. */
export function typeDiscardingCasts(src: string): number[] {
  // Comments are prose ("as late as any"): only the code before a `//` and outside `*` doc lines counts.
  const code = (l: string): string => (/^\s*\*/.test(l) ? '' : l.replace(/\/\/.*$/, ''));
  return src.split('\n').flatMap((l, i) => (/\bas\s+(never|any)\b/.test(code(l)) ? [i + 1] : []));
}

test('no `as never` / `as any` in host, client, cli, devnet, contracts and bench sources', () => {
  assert.deepEqual(typeDiscardingCasts('const a = 1;\nf(x as never);\ng(y as any[]);\nconst never = 2; // as late as any\n * as any doc'), [2, 3]);
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) { if (n !== 'generated') walk(p); }
      else if (n.endsWith('.ts')) for (const line of typeDiscardingCasts(readFileSync(p, 'utf8'))) found.push(`${relative(repo, p)}:${line}`);
    }
  };
  for (const r of ROOTS) walk(join(repo, r));
  assert.deepEqual(found, [], 'use the typed ABI (`as const` artifacts) with viem\'s typed calls instead of discarding the types');
});
