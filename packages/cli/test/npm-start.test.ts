// `npm start -- --json` prints only the demo's JSON line on stdout (issue 9 §2, docs/cli.md#npm-start): npm's own
// "> geode start" banner goes to stderr because the repository's .npmrc sets npm's json mode, and the start script
// sends the build's progress to stderr. The demo itself is not run here (it rebuilds dist/, which other CLI tests
// run from): a throwaway package with the repository's .npmrc and a start script printing one JSON line shows what
// npm does with that configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function npmStart(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Only the child's own configuration counts: drop the npm_config_* this test runner may have inherited.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  return new Promise((resolve) => {
    execFile('npm', ['start', '--', ...args], { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('npm start -- --json: stdout is the script\'s JSON line only (npm\'s banner on stderr), with the repository\'s .npmrc', { timeout: 120_000 }, async () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  // The start script's build step writes to stderr; the demo's --json line is the only thing on stdout.
  assert.match(scripts.start!, /^npm run build --silent >&2 && node packages\/cli\/bin\/geode\.mjs demo$/);
  const dir = mkdtempSync(join(tmpdir(), 'geode-npm-start-'));
  try {
    writeFileSync(join(dir, 'probe.mjs'), 'console.log(JSON.stringify({ ok: true, args: process.argv.slice(2) }));\n');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'probe', version: '1.0.0', private: true, scripts: { start: 'node probe.mjs' } }));
    const without = await npmStart(dir, ['--json']);
    assert.equal(without.code, 0, without.stderr);
    assert.match(without.stdout, /^\s*> probe@1\.0\.0 start/m, 'self-check: without the repository\'s .npmrc, npm prints its banner on stdout');
    copyFileSync(join(ROOT, '.npmrc'), join(dir, '.npmrc'));
    const r = await npmStart(dir, ['--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter((l) => l.trim() !== ''), ['{"ok":true,"args":["--json"]}']);
    assert.match(r.stderr, /> probe@1\.0\.0 start/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
