// `geode dev` failure modes a new user meets, run through the real CLI in child processes with a temp home.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'packages/cli/src/main.ts');

interface Run { code: number; stdout: string; stderr: string }
function geode(args: string[], home: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...process.env, GEODE_HOME: home }, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('geode dev on a port in use: CLI_PORT_UNAVAILABLE with its remedy and docs link, no stack trace, no dev.json', { timeout: 180_000 }, async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as AddressInfo).port;
  try {
    const home = mkdtempSync(join(tmpdir(), 'geode-cli-port-'));
    const [text, json] = await Promise.all([geode(['dev', '--port', String(port), '--home', home], home), geode(['dev', '--port', String(port), '--home', home, '--json'], home)]);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stderr, new RegExp(`error CLI_PORT_UNAVAILABLE: port ${port} on 127\\.0\\.0\\.1 is already in use.*--port 0`));
    assert.match(text.stderr, /see docs\/cli\.md#cli-port-unavailable/);
    assert.doesNotMatch(text.stderr, /internal error|EADDRINUSE.*\n\s+at |at .*\.(ts|js):\d+/, text.stderr);
    assert.equal(json.code, 1, json.stderr);
    const j = JSON.parse(json.stdout.trim().split('\n').at(-1)!) as { ok: boolean; error: { code: string; details: { port: number; reason: string }; docsPath: string } };
    assert.equal(j.ok, false);
    assert.equal(j.error.code, 'CLI_PORT_UNAVAILABLE');
    assert.deepEqual([j.error.details.port, j.error.details.reason], [port, 'EADDRINUSE']);
    // The docs link points at an anchor that exists.
    const [page, anchor] = j.error.docsPath.split('#');
    assert.ok(readFileSync(join(ROOT, 'docs', page!), 'utf8').includes(`<a id="${anchor}"></a>`));
    assert.equal(existsSync(join(home, 'dev.json')), false);
  } finally {
    blocker.close();
  }
});
