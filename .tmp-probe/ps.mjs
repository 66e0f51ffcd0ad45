import Database from 'better-sqlite3';
import { copyFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
const [src, ps] = process.argv.slice(2);
const f = `/tmp/ps-${ps}.db`;
rmSync(f, { force: true }); rmSync(f + '-wal', { force: true });
let t = performance.now();
if (ps === "cp") copyFileSync(src, f); else { const s = new Database(src, { readonly: true }); s.exec(`VACUUM INTO '${f}'`); s.close(); }
if (ps !== "same" && ps !== "cp") { const d = new Database(f); d.pragma('journal_mode = DELETE'); d.pragma(`page_size = ${ps}`); d.exec('VACUUM'); d.close(); }
console.error('prep ms', (performance.now() - t).toFixed(0));
const db = new Database(f); db.pragma('locking_mode = EXCLUSIVE'); db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL');
console.error('page_size', db.pragma('page_size', { simple: true }), 'pages', db.pragma('page_count', { simple: true }));
const put = db.prepare('INSERT OR REPLACE INTO records (k, v) VALUES (?, ?)');
const tx = db.transaction((rows) => { for (const [k, v] of rows) put.run(k, v); });
const times = [];
for (let r = 0; r < 60; r++) {
  const rows = Array.from({ length: 750 }, () => [randomBytes(33), randomBytes(130)]).sort((a, b) => Buffer.compare(a[0], b[0]));
  const t0 = performance.now(); tx(rows); times.push(performance.now() - t0);
}
const m = times.slice(10); m.sort((a, b) => a - b);
console.log(ps, 'mean', (m.reduce((a, b) => a + b) / m.length).toFixed(1), 'median', m[m.length >> 1].toFixed(1), 'p90', m[Math.floor(m.length * 0.9)].toFixed(1));
db.close(); rmSync(f, { force: true }); rmSync(f + '-wal', { force: true });
