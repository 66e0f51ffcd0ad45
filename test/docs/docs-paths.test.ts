// Every docsPath an error carries points at an existing docs anchor (issue 9 §6). GeodeError.docsPath is a path
// under docs/ ("file.md#anchor"): the CLI prints it as a link with every error. Two ways an error gets one:
// - a string literal `docsPath: '...'` in source: collected by scanning every source file;
// - computed from the code (attestation.md#<code>, apps.md#<code>): collected by constructing every exported error
//   class of the modules that compute it and reading the instance's docsPath.
// Passing an error's own docsPath on (`this.docsPath`, `opts.docsPath`, `g.docsPath`) is not a new target. Any other
// computed docsPath form fails the test, so a new one must be added here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GeodeError } from '@geode/protocol';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const docs = join(repo, 'docs');

function sources(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (n === 'node_modules' || n === 'dist' || n === 'test' || n === 'generated') continue;
    if (statSync(p).isDirectory()) sources(p, out);
    else if (n.endsWith('.ts') && !n.endsWith('.d.ts')) out.push(p);
  }
  return out;
}
const srcFiles = ['packages', 'apps'].flatMap((r) => readdirSync(join(repo, r)).map((p) => join(repo, r, p, 'src')).filter(existsSync)).flatMap((d) => sources(d));

/** GitHub's heading anchors (github-slugger: lower case, punctuation dropped, spaces to '-', repeats numbered) and explicit ids. */
export function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      const base = h[1]!.replace(/<[^>]+>/g, '').toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]!);
  }
  return out;
}

/** Error classes exported by the modules whose docsPath is computed from the code. */
const COMPUTED = [
  { form: /docsPath: opts\.docsPath \?\? `attestation\.md#\$\{code\.toLowerCase\(\)\.replace\(\/_\/g, '-'\)\}`/, modules: ['packages/attestation/src/errors.ts', 'packages/attestation/src/snp/errors.ts', 'packages/attestation/src/nitro/errors.ts', 'packages/attestation/src/sim/errors.ts', 'packages/attestation/src/policy.ts'] },
  { form: /docsPath: `apps\.md#\$\{code\.toLowerCase\(\)\.replace\(\/_\/g, '-'\)\}`/, modules: ['apps/computations/src/errors.ts'] },
  // defineAppErrors (packages/protocol/src/app-errors.ts): every app's declared error classes.
  { form: /docsPath: `\$\{docsPage\}#\$\{code\.toLowerCase\(\)\.replace\(\/_\/g, '-'\)\}`/, modules: ['apps/transfers/src/errors.ts'] },
];

async function collect(): Promise<Map<string, string[]>> {
  const where = new Map<string, string[]>();
  const add = (path: string, from: string) => where.set(path, [...(where.get(path) ?? []), from]);
  const unknown: string[] = [];
  for (const f of srcFiles) {
    const text = readFileSync(f, 'utf8');
    for (const line of text.split('\n')) {
      for (const m of line.matchAll(/docsPath(\??):\s*([^,}]+)/g)) {
        const value = m[2]!.trim();
        if (m[1] === '?' || /^(string|unknown)\b/.test(value)) continue; // a type annotation
        const lit = /^'([^']+)'|^"([^"]+)"/.exec(value);
        if (lit) add(lit[1] ?? lit[2]!, relative(repo, f));
        else if (!/^(this|opts|g)\.docsPath$/.test(value) && !COMPUTED.some((c) => c.form.test(line))) unknown.push(`${relative(repo, f)}: ${line.trim()}`);
      }
    }
  }
  assert.deepEqual(unknown, [], 'a computed docsPath this test does not know: add its module to COMPUTED');
  for (const c of COMPUTED) {
    for (const mod of c.modules) {
      if (!existsSync(join(repo, mod))) continue;
      const exports = (await import(pathToFileURL(join(repo, mod)).href)) as Record<string, unknown>;
      for (const [name, v] of Object.entries(exports)) {
        if (typeof v !== 'function' || !(v.prototype instanceof GeodeError)) continue;
        let e: GeodeError;
        try {
          e = new (v as new (m: string) => GeodeError)('probe');
        } catch {
          continue; // a base class that needs a code: its subclasses are listed too
        }
        if (e.code === 'probe') continue; // a base class whose first argument is the code: its subclasses are listed
        if (e.docsPath) add(e.docsPath, `${mod} ${name} (${e.code})`);
      }
    }
  }
  return where;
}

test('docs paths: every docsPath of every error class names an existing docs file and anchor', async () => {
  const where = await collect();
  assert.ok(where.size >= 20, `expected the scan to find the codebase's docs paths, found ${where.size}`);
  const cache = new Map<string, Set<string> | null>();
  const missing: string[] = [];
  for (const [path, from] of where) {
    const [file, anchor] = path.split('#') as [string, string | undefined];
    const full = resolve(docs, file);
    if (!cache.has(full)) cache.set(full, existsSync(full) ? anchorsOf(readFileSync(full, 'utf8')) : null);
    const anchors = cache.get(full);
    if (!anchors) missing.push(`${path}: no file docs/${file} (from ${from.join('; ')})`);
    else if (anchor && !anchors.has(anchor)) missing.push(`${path}: no anchor #${anchor} in docs/${file} (from ${from.join('; ')})`);
  }
  assert.deepEqual(missing, []);
});

test('docs paths: the anchor check can fail (a missing file, a missing anchor, headings slugged as GitHub does)', () => {
  const a = anchorsOf('# Attacks and outcomes\n### Devnet RPC surface (`rpc-surface.test.ts`)\n## Errors\n## Errors\n| <a id="attest-decode"></a> |\n```\n# not a heading\n```');
  assert.deepEqual([...a].sort(), ['attacks-and-outcomes', 'attest-decode', 'devnet-rpc-surface-rpc-surfacetestts', 'errors', 'errors-1']);
  assert.equal(a.has('not-a-heading'), false);
});
