// Runs every *.test.ts under packages/*/test and apps/*/test with node's test runner.
// Node 20 has no glob support in --test, so the file list is built here.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['packages', 'apps', 'test'];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts') && p.split('/').includes('test')) files.push(p);
  }
};
for (const r of roots) { try { walk(r); } catch { /* root absent */ } }
const filter = process.argv.slice(2);
// *.slow.test.ts (the standalone install, about 1.5 min) run only when named (`npm run test:slow`, which CI runs
// after `npm test`), so the default suite stays well under its 10-minute budget on two cores.
const selected = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files.filter((f) => !f.endsWith('.slow.test.ts'));
if (selected.length === 0) { console.error('no test files matched'); process.exit(1); }
// Longest files first (node's runner starts files in the order given, `--test-concurrency` at a time): a long file
// started last would run alone at the end while the other slot idles. scripts/test-times.json holds each file's wall
// seconds from a recorded run (`GEODE_TEST_TIMES=record npm test` rewrites it); a file it does not list yet goes
// first, so a new slow file cannot become the tail. Ties and the rest keep path order.
let times = {};
try { times = JSON.parse(readFileSync(new URL('./test-times.json', import.meta.url), 'utf8')); } catch { /* no table: path order */ }
const weight = (f) => times[f] ?? Number.POSITIVE_INFINITY;
selected.sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : a > b ? 1 : 0));
const record = process.env.GEODE_TEST_TIMES === 'record'
  ? ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/test-times-reporter.mjs', '--test-reporter-destination=stdout']
  : ['--test-reporter=spec'];
// Two files at a time on the 2-core reference machine; GEODE_TEST_CONCURRENCY=<n> tries another (e.g. a bigger CI box).
const concurrency = Number.parseInt(process.env.GEODE_TEST_CONCURRENCY ?? '2', 10);
if (!(concurrency >= 1)) { console.error('GEODE_TEST_CONCURRENCY must be a positive integer'); process.exit(1); }
// Workspace packages resolve to their TypeScript source through the 'geode-source' export condition
// (docs/conventions.md#build); NODE_OPTIONS carries it to every process a test spawns with tsx as well.
const NODE_OPTIONS = [process.env.NODE_OPTIONS, '--conditions=geode-source'].filter(Boolean).join(' ');
const r = spawnSync(process.execPath, ['--conditions=geode-source', '--import', 'tsx', '--import', './scripts/test-setup.mjs', '--test', `--test-concurrency=${concurrency}`, ...record, ...selected], { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS } });
process.exit(r.status ?? 1);
