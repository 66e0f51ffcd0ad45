// `geode dev` failure modes a new user meets, run through the real CLI in child processes with a temp home.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { geode as run, startDev as spawnDev, stopDev } from './dev-process.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Run { code: number; stdout: string; stderr: string }
function geode(args: string[], home: string): Promise<Run> {
  return run(args, { env: { ...process.env, GEODE_HOME: home }, timeout: 90_000 });
}
/** `geode ... --json` that must succeed: its last stdout line parsed. */
async function ok<T = Record<string, unknown>>(args: string[], home: string): Promise<T> {
  const r = await geode([...args, '--json'], home);
  assert.equal(r.code, 0, `geode ${args.join(' ')}: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

/** Start `geode dev` on any free port and resolve once it printed its JSON line (stack up, dev.json written). */

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

interface Listed { name: string; type: string; locked: boolean | null; lockedSeenBy?: string }

test('computation list shows what this home knows of each lock: unknown, then locked once an identity here got the result; key matchers never lock', { timeout: 300_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'geode-cli-list-'));
  const dev = await spawnDev(['--home', home], { ...process.env, GEODE_HOME: home });
  try {
    for (const who of ['alice', 'bob']) await ok(['identity', 'create', who], home);
    // geode dev runs the steps' enclave host: `geode status` (no --data-dir) gets its health from it.
    const st = await ok<{ ok: boolean; enclave: { running: boolean } | null; host: { relaying: boolean } | null }>(['status'], home);
    assert.deepEqual([st.ok, st.enclave?.running, st.host?.relaying], [true, true, true]);
    // Outputs name the participants as this home knows them, not only by address.
    const created = await ok<{ participantNames: string[] }>(['computation', 'create', 'avg', '--type', 'average', '--participants', 'alice,bob', '--quorum', '2', '--as', 'alice'], home);
    assert.deepEqual(created.participantNames, ['alice', 'bob']);
    await ok(['computation', 'create', 'km', '--type', 'keyMatcher', '--participants', 'alice,bob', '--quorum', '1', '--as', 'alice'], home);
    await ok(['computation', 'submit', 'avg', '1', '--as', 'alice'], home);
    await ok(['computation', 'submit', 'avg', '3', '--as', 'bob'], home);
    const before = await ok<{ computations: Listed[] }>(['computation', 'list'], home);
    assert.deepEqual(before.computations.map((c) => [c.name, c.locked, c.lockedSeenBy]), [['avg', null, undefined], ['km', false, undefined]]);
    const text = await geode(['computation', 'list'], home);
    assert.match(text.stdout, /avg .*lock state not known here/);
    assert.match(text.stdout, /km .*never locks/);
    assert.match(text.stdout, /lock state is private to the enclave/);
    await ok(['computation', 'result', 'avg', '--as', 'bob'], home);
    const after = await ok<{ computations: Listed[] }>(['computation', 'list'], home);
    assert.deepEqual(after.computations.map((c) => [c.name, c.locked, c.lockedSeenBy]), [['avg', true, 'bob'], ['km', false, undefined]]);
    assert.match((await geode(['computation', 'list'], home)).stdout, /avg .*locked \(bob received its result\)/);
    // Refusal hints name the command to run, not the API's { op: … } objects.
    const late = await geode(['computation', 'submit', 'avg', '5', '--as', 'alice'], home);
    assert.equal(late.code, 1);
    assert.match(late.stdout, /refused by the enclave: APP_LOCKED: .*request the result with `geode computation result avg --as alice`/);
    assert.doesNotMatch(late.stdout, /\{ op:/);
    const lateJson = await geode(['computation', 'submit', 'avg', '5', '--as', 'alice', '--json'], home);
    const lj = JSON.parse(lateJson.stdout.trim().split('\n').at(-1)!) as { error: { code: string; message: string }; command: string };
    assert.deepEqual([lj.error.code, lj.command], ['APP_LOCKED', 'geode computation result avg --as alice']);
    assert.match(lj.error.message, /\{ op: 'result' \}/, 'the enclave message itself is kept verbatim in --json');
    const km = await geode(['computation', 'result', 'km', '--as', 'bob'], home);
    assert.match(km.stdout, /submit keys with `geode computation submit km --key <key> --message <text> --as bob`/);
  } finally {
    await stopDev(dev);
  }
});

test('after geode dev restarts, an old identity is reported unfunded with the command that fixes it; identity register funds and re-registers it', { timeout: 300_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'geode-cli-restart-'));
  let dev = await spawnDev(['--home', home], { ...process.env, GEODE_HOME: home });
  try {
    await ok(['identity', 'create', 'alice'], home);
    await ok(['identity', 'create', 'bob', '--offline'], home); // a participant only (the contract wants two or more)
    await stopDev(dev);
    dev = await spawnDev(['--home', home], { ...process.env, GEODE_HOME: home }); // a new devnet and deployment: alice's account is empty, her output key unknown
    const args = ['computation', 'create', 'c1', '--type', 'average', '--participants', 'alice,bob', '--quorum', '1', '--as', 'alice'];
    const text = await geode(args, home);
    assert.equal(text.code, 1);
    assert.match(text.stderr, /error CLI_IDENTITY_UNFUNDED: identity "alice" \(0x[0-9a-fA-F]{40}\) has no funds on this devnet.*Run `geode identity register alice`/);
    assert.match(text.stderr, /see docs\/cli\.md#cli-identity-unfunded/);
    assert.doesNotMatch(text.stderr, /Missing or invalid parameters/);
    assert.ok(readFileSync(join(ROOT, 'docs/cli.md'), 'utf8').includes('<a id="cli-identity-unfunded"></a>'));
    const submit = await geode(['computation', 'submit', 'c1', '1', '--as', 'alice', '--json'], home);
    assert.equal((JSON.parse(submit.stdout.trim().split('\n').at(-1)!) as { error: { code: string } }).error.code, 'CLI_IDENTITY_UNFUNDED');
    const reg = await ok<{ identities: { name: string; funded: boolean; registered: boolean }[] }>(['identity', 'register'], home);
    assert.deepEqual(reg.identities.map((i) => [i.name, i.funded, i.registered]).sort(), [['alice', true, true], ['bob', true, true]]);
    // Funded and registered again: the enclave's verdict reaches alice (her output key is registered).
    const made = await ok<{ ok: boolean; name: string }>(args, home); // ok only on the enclave's creation verdict
    assert.deepEqual([made.ok, made.name], [true, 'c1']);
    // Already funded: register only re-registers.
    const again = await ok<{ identities: { funded: boolean }[] }>(['identity', 'register', 'alice'], home);
    assert.equal(again.identities[0]!.funded, false);
    const unknown = await geode(['identity', 'register', 'zed', '--json'], home);
    assert.equal((JSON.parse(unknown.stdout.trim().split('\n').at(-1)!) as { error: { code: string } }).error.code, 'CLIENT_UNKNOWN_IDENTITY');
  } finally {
    await stopDev(dev);
  }
});
