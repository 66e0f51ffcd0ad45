// Trust boundary: packages/enclave/src and apps/*/src/enclave (and every file they reach by relative import) may
// import only the allowed set below. docs/conventions.md "Trust boundary".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The bundler and the Gramine manifest writer run at build time on the developer's machine, never inside the enclave. */
const EXEMPT = new Set([join(repo, 'packages/enclave/src/build.ts'), join(repo, 'packages/enclave/src/build-gramine.ts')]);

const ALLOWED_PACKAGES = [
  // Public entry points only (each package's package.json "exports"; packages/*/test/exports.test.ts pins them).
  /^@geode\/protocol(\/files)?$/,
  /^@geode\/enclave(\/ethereum)?$/,
  // Pure parsers (no verification, no I/O) the platforms use to read their own evidence, the identity rule, and the
  // sim quote builder (no X.509 PKI).
  /^@geode\/attestation\/(evidence|sim\/quote)$/,
  // A key handover peer's evidence is checked as the restore holder checks a newcomer (handover/evidence.ts): the
  // DCAP and SEV-SNP verifiers and the policy evaluator, pure (time, collateral and roots passed in; never the PCS
  // fetcher dcap/pcs, AMD KDS or the Nitro verifier).
  /^@geode\/attestation\/peer-verifier$/,
  /^viem$/, /^viem\/utils$/,
  /^@noble\/curves\/[a-z0-9.-]+$/, /^@noble\/hashes\/[a-z0-9.-]+$/,
  /^@hpke\/core$/, /^@hpke\/dhkem-x25519$/,
  /^@ethereumjs\/mpt$/, /^@ethereumjs\/rlp$/,
  /^zod$/,
  // Ethereum light client: Lodestar's SSZ types, config and constants, ChainSafe SSZ/BLS (never @lodestar/api or
  // @lodestar/light-client's transport, which do network I/O).
  /^@lodestar\/(types|config|params)$/,
  /^@chainsafe\/ssz$/, /^@chainsafe\/persistent-merkle-tree$/, /^@chainsafe\/bls\/(herumi|types)$/,
  // The state store's embedded database; its native addon is pinned by hash in the bundle (store/native.ts).
  /^better-sqlite3$/,
  // The store's trie hashing: WebAssembly Keccak-256, embedded in the bundle (store/keccak.ts).
  /^hash-wasm$/,
];
/** Names that would bring chain I/O into the enclave through the viem root export. */
const VIEM_FORBIDDEN = /^(create\w*Client|http|webSocket|custom|fallback|ipc|\w+Transport|publicActions|walletActions|testActions)$/;
const BUILTINS = new Set(builtinModules);

export interface Violation { file: string; spec: string; why: string }

/** Import specifiers (static, re-export, dynamic, require) with the named bindings of static imports. */
export function importsOf(src: string): { spec: string; names: string[]; typeOnly: boolean }[] {
  const out: { spec: string; names: string[]; typeOnly: boolean }[] = [];
  const stat = /(?:^|[\n;])\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (const m of src.matchAll(stat)) {
    const names = /\{([^}]*)\}/.exec(m[3] ?? '')?.[1]?.split(',').map((s) => s.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!).filter(Boolean) ?? [];
    out.push({ spec: m[4]!, names, typeOnly: Boolean(m[2]) });
  }
  for (const m of src.matchAll(/(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]/g)) out.push({ spec: m[1]!, names: [], typeOnly: false });
  for (const m of src.matchAll(/\b(?:import|require)\s*\(\s*([^)]*?)\s*\)/g)) {
    const lit = /^['"]([^'"]+)['"]$/.exec(m[1]!);
    out.push({ spec: lit ? lit[1]! : `<computed: ${m[1]}>`, names: [], typeOnly: false });
  }
  return out;
}

/** Check one specifier; `from` is the importing file. Returns the resolved relative target, if any. */
export function checkSpec(from: string, i: { spec: string; names: string[] }, roots: string[]): { violation?: string; next?: string } {
  const s = i.spec;
  if (s.startsWith('<computed')) return { violation: 'dynamic import/require with a computed specifier' };
  if (s.startsWith('.')) {
    const target = resolve(dirname(from), s);
    if (!roots.some((r) => target.startsWith(r + '/'))) return { violation: 'relative import leaves the trusted package/app' };
    if (EXEMPT.has(target)) return { violation: 'trusted code imports the build-time bundler' };
    return { next: target };
  }
  if (s.startsWith('node:') || BUILTINS.has(s)) return {};
  if (!ALLOWED_PACKAGES.some((re) => re.test(s))) return { violation: 'package outside the trusted allow-list' };
  if (s === 'viem' || s === 'viem/utils') {
    const bad = i.names.filter((n) => VIEM_FORBIDDEN.test(n));
    if (bad.length) return { violation: `viem client/transport API (${bad.join(', ')})` };
  }
  return {};
}

function walk(dir: string, acc: string[] = []): string[] {
  if (!existsSync(dir)) return acc;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, acc);
    else if (/\.(ts|mts|js|mjs)$/.test(n)) acc.push(p);
  }
  return acc;
}

/** Scan the trusted roots transitively through relative imports. */
export function scanTrusted(): { files: string[]; violations: Violation[] } {
  const starts: string[] = walk(join(repo, 'packages/enclave/src')).filter((f) => !EXEMPT.has(f));
  const appRoots: string[] = [];
  for (const app of existsSync(join(repo, 'apps')) ? readdirSync(join(repo, 'apps')) : []) {
    const e = join(repo, 'apps', app, 'src/enclave');
    if (existsSync(e)) { starts.push(...walk(e)); appRoots.push(join(repo, 'apps', app, 'src')); }
  }
  const roots = [join(repo, 'packages/enclave/src'), ...appRoots];
  const seen = new Set<string>();
  const queue = [...starts];
  const violations: Violation[] = [];
  while (queue.length) {
    const f = queue.shift()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const src = readFileSync(f, 'utf8');
    for (const i of importsOf(src)) {
      const r = checkSpec(f, i, roots);
      if (r.violation) violations.push({ file: relative(repo, f), spec: i.spec, why: r.violation });
      if (r.next) queue.push(r.next);
    }
  }
  return { files: [...seen], violations };
}

test('trusted code imports only the allowed set', () => {
  const { files, violations } = scanTrusted();
  assert.ok(files.length >= 15, `scanned ${files.length} files`);
  assert.deepEqual(violations, []);
});

test('the boundary check catches forbidden imports (self-test)', () => {
  const f = join(repo, 'packages/enclave/src/x.ts');
  const roots = [join(repo, 'packages/enclave/src')];
  const bad = `import { startDevnet } from '@geode/devnet';\nimport { createPublicClient, http } from 'viem';\nexport * from '@geode/host';\nconst m = await import('@geode/client');\nimport x from '../../cli/src/main.ts';\nimport { buildEnclave } from './build.ts';\nimport { x509 } from '@geode/attestation/sim/pki';\nconst r = require(name);\nimport 'ws';`;
  const why = importsOf(bad).map((i) => checkSpec(f, i, roots).violation);
  assert.equal(why.length, 9);
  assert.ok(why.every(Boolean), JSON.stringify(why));
  const good = `import { keccak256, type Hex } from 'viem';\nimport { readFileSync } from 'node:fs';\nimport type { X } from './app.ts';\nimport { secp256k1 } from '@noble/curves/secp256k1.js';\nimport { buildSimQuote } from '@geode/attestation/sim/quote';`;
  assert.deepEqual(importsOf(good).map((i) => checkSpec(f, i, roots).violation), [undefined, undefined, undefined, undefined, undefined]);
});
