// Long operations report progress on stderr, never on stdout (docs/cli.md#progress): with --json, stdout is the one
// JSON line and stderr gets progress only when it is a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { progressSink } from '../src/output.ts';
import { geode } from './dev-process.ts';

function sink(isTTY: boolean): { lines: string[]; stream: { write(s: string): boolean; isTTY: boolean } } {
  const lines: string[] = [];
  return { lines, stream: { write: (s: string) => (lines.push(s), true), isTTY } };
}

test('progressSink: human mode always, --json only on a terminal; the line says how long since the start', () => {
  for (const [json, isTTY, shown] of [[false, false, true], [false, true, true], [true, false, false], [true, true, true]] as const) {
    const s = sink(isTTY);
    progressSink(json, s.stream)('deploying');
    assert.equal(s.lines.length, shown ? 1 : 0, `json ${json}, tty ${isTTY}`);
    if (shown) assert.match(s.lines[0]!, /^… deploying \(\d+\.\ds\)\n$/);
  }
});

test('a step command: progress on stderr; with --json stdout is one JSON line and stderr (not a terminal) has no progress', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geode-progress-'));
  try {
    const human = await geode(['handshake', '--data-dir', dir]);
    assert.equal(human.code, 1);
    assert.equal(human.stdout, '');
    assert.match(human.stderr, /^… running the session handshake.*\n/);
    assert.match(human.stderr, /error CLI_STEP_MISSING: .*control\.json/);
    const json = await geode(['handshake', '--data-dir', dir, '--json']);
    assert.equal(json.code, 1);
    assert.equal(json.stderr, '');
    const lines = json.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 1);
    assert.equal((JSON.parse(lines[0]!) as { error: { code: string } }).error.code, 'CLI_STEP_MISSING');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
