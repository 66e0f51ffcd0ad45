// Runs every *.test.ts under packages/*/test and apps/*/test with node's test runner.
// Node 20 has no glob support in --test, so the file list is built here.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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
// Small files share a process: node's runner spawns one process per file, and for a small file that start (tsx and
// the import graph, about 2.5 CPU-seconds) costs more than its tests. A file recorded at most SHARE_MAX_S seconds
// alone, with no top-level hook (a before/after at module level would apply to every file in the process) and no
// write to process-wide state (process.env, e.g. LODESTAR_PRESET, which a library reads once per process; globalThis;
// process.on/chdir), is
// imported with the other such files of its area (packages/<name>, apps/<name>, test/<dir>) by one group entry; its
// tests run in order in that process. A file the table does not list runs alone until recorded.
// GEODE_TEST_SHARE=0 runs every file alone (e.g. to rule out an interaction).
const SHARE_MAX_S = 20;
const TOP_LEVEL_HOOK = /^(?:before|after|beforeEach|afterEach)\s*\(/m;
const PROCESS_STATE = /process\.env(?:\.\w+|\[[^\]]+\])\s*=(?!=)|globalThis\.\w+\s*=(?!=)|process\.(?:on|once|chdir)\(/;
const shareable = (f) => {
  if (process.env.GEODE_TEST_SHARE === '0' || times[f] === undefined || times[f] > SHARE_MAX_S) return false;
  const src = readFileSync(f, 'utf8');
  return !TOP_LEVEL_HOOK.test(src) && !PROCESS_STATE.test(src);
};
const areas = new Map();
for (const f of selected) if (shareable(f)) { const k = f.split('/').slice(0, 2).join('/'); areas.set(k, [...(areas.get(k) ?? []), f]); }
const groupDir = [...areas.values()].some((g) => g.length > 1) ? mkdtempSync(join(tmpdir(), 'geode-test-groups-')) : undefined;
const groups = {}; // group entry path -> area, for the times reporter
const grouped = new Set();
const entries = [];
for (const [area, members] of areas) {
  if (members.length < 2) continue;
  const entry = join(groupDir, `${area.replaceAll('/', '-')}.group.test.mjs`);
  writeFileSync(entry, `// ${area}: ${members.length} small test files in one process (scripts/test.mjs)\n${members.map((f) => `import ${JSON.stringify(pathToFileURL(resolve(f)).href)};`).join('\n')}\n`);
  groups[entry] = area;
  for (const f of members) grouped.add(f);
  entries.push({ path: entry, weight: times[`group:${area}`] ?? members.reduce((t, f) => t + times[f], 0) });
}
const runList = [...selected.filter((f) => !grouped.has(f)).map((f) => ({ path: f, weight: weight(f) })), ...entries]
  .sort((a, b) => b.weight - a.weight || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  .map((e) => e.path);
const record = process.env.GEODE_TEST_TIMES === 'record'
  ? ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/test-times-reporter.mjs', '--test-reporter-destination=stdout']
  : ['--test-reporter=spec'];
// Two files at a time on the 2-core reference machine; GEODE_TEST_CONCURRENCY=<n> tries another (e.g. a bigger CI box).
const concurrency = Number.parseInt(process.env.GEODE_TEST_CONCURRENCY ?? '2', 10);
if (!(concurrency >= 1)) { console.error('GEODE_TEST_CONCURRENCY must be a positive integer'); process.exit(1); }
// Workspace packages resolve to their TypeScript source through the 'geode-source' export condition
// (docs/conventions.md#build); NODE_OPTIONS carries it to every process a test spawns with tsx as well.
const NODE_OPTIONS = [process.env.NODE_OPTIONS, '--conditions=geode-source'].filter(Boolean).join(' ');
const r = spawnSync(process.execPath, ['--conditions=geode-source', '--import', 'tsx', '--import', './scripts/test-setup.mjs', '--test', `--test-concurrency=${concurrency}`, ...record, ...runList], { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS, GEODE_TEST_GROUPS: JSON.stringify(groups) } });
if (groupDir) rmSync(groupDir, { recursive: true, force: true });
process.exit(r.status ?? 1);
