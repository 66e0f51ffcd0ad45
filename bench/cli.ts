/**
 * CLI start-up benchmark (npm run bench:cli; docs/cli.md#startup). Wall-clock milliseconds from spawn to exit of
 * `geode --version` and `geode --help` run from the prebuilt bundle (packages/cli/bin/geode.mjs, as installed users
 * and the CLI tests run it; help lists app commands from their manifests), and an app command's help (which loads
 * that app's prebuilt client module, dist/apps/<app>/client.mjs), against the same-run reference `node -e 0` (bare Node start-up on this machine), and the
 * old way for comparison (the TypeScript source through tsx). Medians of N runs each, interleaved so machine load
 * hits every variant alike. Needs `npm run build` (the bundle). No assertions: figures and ratios are printed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../packages/cli/bin/geode.mjs', import.meta.url));
const SRC = fileURLToPath(new URL('../packages/cli/src/main.ts', import.meta.url));
const N = Number(process.env.BENCH_CLI_RUNS ?? 10);
const TSX_RUNS = Math.min(N, 3);

const env = { ...process.env, NODE_OPTIONS: '' };
const variants: { name: string; args: string[]; runs: number }[] = [
  { name: 'node -e 0 (reference)', args: ['-e', '0'], runs: N },
  { name: 'geode --version (bundle)', args: [BIN, '--version'], runs: N },
  { name: 'geode --help (bundle)', args: [BIN, '--help'], runs: N },
  { name: 'geode computation --help (bundle)', args: [BIN, 'computation', '--help'], runs: N },
  { name: 'geode --version (tsx, source)', args: ['--conditions=geode-source', '--import', 'tsx', SRC, '--version'], runs: TSX_RUNS },
  { name: 'geode --help (tsx, source)', args: ['--conditions=geode-source', '--import', 'tsx', SRC, '--help'], runs: TSX_RUNS },
];

function once(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(-500)}`);
  return ms;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (!existsSync(fileURLToPath(new URL('../packages/cli/dist/bin/geode.mjs', import.meta.url)))) {
  console.error('bench:cli: the CLI bundle is missing; run `npm run build` first');
  process.exit(1);
}
const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let i = 0; i < N; i++) for (const v of variants) if (i < v.runs) times.get(v.name)!.push(once(v.args));
const ref = median(times.get(variants[0]!.name)!);
console.log(`CLI start-up, median of ${N} runs (tsx: ${TSX_RUNS}), wall ms from spawn to exit:`);
for (const v of variants) {
  const m = median(times.get(v.name)!);
  console.log(`  ${v.name.padEnd(36)} ${m.toFixed(0).padStart(6)} ms   ${(m / ref).toFixed(2)}x node -e 0   (+${(m - ref).toFixed(0)} ms over bare node)`);
}
