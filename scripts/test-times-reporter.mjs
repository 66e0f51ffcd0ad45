// node --test reporter (scripts/test.mjs adds it with GEODE_TEST_TIMES=record): writes each test file's wall time,
// in seconds, from its runner `test:complete` event (the whole file's child process, hooks included) into
// scripts/test-times.json, merged with the files this run did not select. scripts/test.mjs starts the longest files
// first from that table. Prints nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const TABLE = new URL('./test-times.json', import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export default async function* timesReporter(source) {
  const groups = JSON.parse(process.env.GEODE_TEST_GROUPS || '{}');
  const seen = {};
  for await (const ev of source) {
    // The file-level test is named by its absolute path; tests inside a file carry the file as `file` only.
    if (ev.type === 'test:complete' && ev.data.nesting === 0 && ev.data.file && ev.data.name === ev.data.file) {
      // A group entry (scripts/test.mjs: small files sharing a process) is recorded as `group:<area>`.
      const area = groups[ev.data.file];
      seen[area ? `group:${area}` : relative(ROOT, ev.data.file)] = Math.round(ev.data.details.duration_ms / 100) / 10;
    }
  }
  let table = {};
  try { table = JSON.parse(readFileSync(TABLE, 'utf8')); } catch { /* first recording */ }
  const merged = { ...table, ...seen };
  const sorted = Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]]));
  writeFileSync(TABLE, `${JSON.stringify(sorted, null, 1)}\n`);
}
