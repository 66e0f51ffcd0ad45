// The real `geode` CLI in child processes with a temp GEODE_HOME: every command's --help, malformed arguments,
// corrupt config (dev.json, identity files, policy files). Each failure exits non-zero, names the problem on
// stderr (or {ok:false,error:{code}} with --json), and leaves the home directory unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { docsLink } from '../src/output.ts';
import { geode as run } from './dev-process.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TDX_QUOTE = join(ROOT, '../shared/fixtures/attestation/dcap-qvl/tdx_quote');

interface Run { code: number; stdout: string; stderr: string }
function geode(args: string[], home: string): Promise<Run> {
  return run(args, { env: { ...process.env, GEODE_HOME: home }, timeout: 60_000 });
}
/** Run many CLI invocations, 4 at a time. */
async function all<T>(items: T[], f: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: 4 }, async () => { while (i < items.length) await f(items[i++]!); }));
}
/** Snapshot of a directory tree: path -> content. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => { for (const n of readdirSync(d)) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else out[p] = readFileSync(p, 'latin1'); } };
  walk(dir);
  return out;
}

const HELP: [string[], string[]][] = [
  [[], ['demo', 'dev', 'identity', 'computation', 'attest', 'enclave']],
  [['demo'], ['--json', '--verbose']],
  [['dev'], ['--port', '--host', '--home', '--tee', '--save-private-key', '--json']],
  [['identity'], ['create', 'register', 'list']],
  [['identity', 'register'], ['--home', '--json']],
  [['identity', 'create'], ['--home', '--offline', '--json']],
  [['identity', 'list'], ['--home', '--json']],
  [['computation'], ['create', 'submit', 'result', 'list']],
  [['computation', 'create'], ['--type', '--participants', '--quorum', '--as', '--timeout', '--home', '--rpc', '--json']],
  [['computation', 'submit'], ['--as', '--key', '--message', '--timeout', '--json']],
  [['computation', 'result'], ['--as', '--timeout', '--json']],
  [['computation', 'list'], ['--home', '--rpc', '--json']],
  [['attest'], ['verify', 'inspect']],
  [['attest', 'verify'], ['--collateral', '--now', '--policy', '--json']],
  [['attest', 'inspect'], ['--json']],
  [['enclave'], ['build']],
  [['enclave', 'build'], ['--tee', '--entry', '--out', '--node', '--data-dir', '--json']],
];

test('every command has --help: exit 0 and it lists its options', { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'geode-cli-help-'));
  await all(HELP, async ([cmd, words]) => {
    const r = await geode([...cmd, '--help'], home);
    assert.equal(r.code, 0, `geode ${cmd.join(' ')} --help: ${r.stderr}`);
    for (const w of words) assert.ok(r.stdout.includes(w), `geode ${cmd.join(' ')} --help mentions ${w}:\n${r.stdout}`);
  });
  assert.deepEqual(readdirSync(home), [], '--help writes nothing');
});

test('malformed arguments and corrupt config: non-zero exit, the problem named, --json {ok:false,error:{code}}, home unchanged', { timeout: 300_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'geode-cli-input-'));
  mkdirSync(join(home, 'identities'));
  // A valid identity (offline) to make argument checks reach later stages.
  const made = await geode(['identity', 'create', 'alice', '--offline', '--json'], home);
  assert.equal(made.code, 0, made.stderr);
  // Corrupt config: an identity file that is not JSON, one with a bad key, and a dev.json that is garbage.
  writeFileSync(join(home, 'identities', 'broken.json'), '{"name": "broken", "address": ');
  writeFileSync(join(home, 'identities', 'badkey.json'), JSON.stringify({ name: 'badkey', address: '0x' + '11'.repeat(20), privateKey: '0x1234', outputKey: { privateKey: '0x', publicKey: '0x' } }));
  writeFileSync(join(home, 'dev.json'), '\u0000\u00ff not json');
  writeFileSync(join(home, 'policy.json'), '{"teeTypes": ["sgx"], "acceptedStatuses": 7}');
  writeFileSync(join(home, 'policy.yaml'), 'teeTypes: [sgx\n  : : :');
  writeFileSync(join(home, 'quote.bin'), Buffer.from([1, 2, 3, 4]));
  const before = snapshot(home);
  const longName = 'n'.repeat(10_000);
  const nonUtf8 = Buffer.from([0x61, 0xff, 0xfe, 0x62]).toString('latin1');
  // [args, expected code in --json (or null: commander usage error, exit 2 and no JSON), stderr pattern]
  const cases: [string[], string | null, RegExp][] = [
    [['identity', 'create', 'bad name!', '--offline'], 'CLIENT_IDENTITY', /invalid/i],
    [['identity', 'create', longName, '--offline'], 'CLIENT_IDENTITY', /invalid/i],
    [['identity', 'create', nonUtf8, '--offline'], 'CLIENT_IDENTITY', /invalid/i],
    [['identity', 'create', '', '--offline'], 'CLIENT_IDENTITY', /invalid/i],
    [['identity', 'create', 'alice', '--offline'], 'CLIENT_IDENTITY', /already exists/],
    [['identity', 'create', 'bob'], 'CLI_NO_DEVNET', /dev\.json is corrupt/],
    [['computation', 'list'], 'CLI_NO_DEVNET', /dev\.json is corrupt/],
    [['computation', 'create', 'c1', '--type', 'median', '--participants', 'alice', '--quorum', '1', '--as', 'alice'], 'CLI_BAD_ARGUMENT', /--type must be one of/],
    [['computation', 'create', 'c1', '--type', 'average', '--participants', 'alice', '--quorum', 'two', '--as', 'alice'], 'CLI_BAD_ARGUMENT', /--quorum must be a positive integer/],
    [['computation', 'create', 'c1', '--type', 'average', '--participants', 'alice', '--quorum', '0', '--as', 'alice'], 'CLI_BAD_ARGUMENT', /--quorum/],
    [['computation', 'create', 'c1', '--type', 'average', '--participants', 'alice,zed', '--quorum', '1', '--as', 'alice'], 'CLIENT_UNKNOWN_IDENTITY', /zed/],
    [['computation', 'submit', 'c1', 'abc', '--as', 'alice'], 'CLI_BAD_ARGUMENT', /value must be a finite number/],
    [['computation', 'submit', 'c1', 'Infinity', '--as', 'alice'], 'CLI_BAD_ARGUMENT', /finite number/],
    [['computation', 'submit', 'c1', '--as', 'alice'], 'CLI_BAD_ARGUMENT', /finite number/],
    [['computation', 'submit', 'c1', '5', '--as', 'nobody'], 'CLIENT_UNKNOWN_IDENTITY', /nobody/],
    [['computation', 'submit', 'c1', '5', '--as', 'alice', '--timeout', '-3'], 'CLI_BAD_ARGUMENT', /--timeout/],
    [['computation', 'result', 'c1', '--as', 'alice', '--timeout', 'soon'], 'CLI_BAD_ARGUMENT', /--timeout/],
    [['attest', 'verify', TDX_QUOTE, '--policy', join(home, 'policy.json')], 'POLICY_INVALID', /POLICY_INVALID.*acceptedStatuses/],
    [['attest', 'verify', TDX_QUOTE, '--policy', join(home, 'policy.yaml')], 'POLICY_INVALID', /neither JSON nor YAML/],
    [['attest', 'verify', join(home, 'quote.bin')], 'ATTEST_', /ATTEST_UNSUPPORTED_EVIDENCE/],
    [['attest', 'verify', join(home, 'missing.bin')], 'CLI_FILE', /missing\.bin/],
    [['attest', 'inspect', join(home, 'quote.bin')], 'ATTEST_', /./],
    [['computation', 'create', 'c1'], null, /required option/],
    [['computation', 'frobnicate'], null, /unknown command/],
    [['dev', '--port', '99999'], 'CLI_BAD_ARGUMENT', /--port must be an integer/],
    [['identity', 'list', '--bogus'], null, /unknown option/],
  ];
  const jsonChecked = new Set<string>();
  await all(cases, async ([args, code, pattern]) => {
    const what = `geode ${args.join(' ').slice(0, 120)}`;
    const r = await geode(args, home);
    assert.notEqual(r.code, 0, `${what} exits non-zero`);
    const said = args[0] === 'attest' ? r.stderr + r.stdout : r.stderr; // attest prints its verdict on stdout
    assert.match(said, pattern, `${what}: stderr names the problem:\n${r.stderr}\n${r.stdout}`);
    assert.doesNotMatch(r.stderr, /internal error|TypeError|ReferenceError|at .*\.ts:\d+/, `${what}: no stack trace:\n${r.stderr}`);
    // --json once per expected code (each CLI start costs seconds).
    if (code === null || jsonChecked.has(code)) return;
    jsonChecked.add(code);
    const j = await geode([...args, '--json'], home);
    assert.notEqual(j.code, 0, `${what} --json exits non-zero`);
    const line = j.stdout.trim().split('\n').at(-1) ?? '';
    let parsed: { ok?: boolean; accepted?: boolean; error?: { code?: string; docsPath?: string } };
    try { parsed = JSON.parse(line) as typeof parsed; } catch { assert.fail(`${what} --json printed no JSON: ${j.stdout}\n${j.stderr}`); }
    assert.ok(parsed.ok === false || (args[0] === 'attest' && parsed.accepted === false), `${what}: ${line}`); // attest reports {accepted:false}
    assert.ok(parsed.error?.code && parsed.error.code.startsWith(code) && parsed.error.code !== 'INTERNAL', `${what} --json code ${parsed.error?.code}, expected ${code}…`);
    // The docs page of the code: docsPath in --json, "see docs/…" in the human output.
    if (parsed.error?.docsPath) assert.ok(said.includes(`see ${docsLink(parsed.error.docsPath)}`), `${what}: prints its docs link ${parsed.error.docsPath}:\n${said}`);
    if (code === 'CLI_NO_DEVNET') assert.equal(parsed.error?.docsPath, '../README.md#by-hand');
    if (code === 'POLICY_INVALID') assert.match(said, /see docs\/attestation\.md#policy-invalid/);
  });
  // identity list: corrupt identity files are reported, not fatal.
  const l = await geode(['identity', 'list', '--json'], home);
  assert.equal(l.code, 0);
  const listed = JSON.parse(l.stdout) as { identities: { name: string }[]; unreadable: string[] };
  assert.deepEqual(listed.identities.map((i) => i.name), ['alice']);
  assert.deepEqual(listed.unreadable.sort(), ['badkey.json', 'broken.json']);
  assert.deepEqual(snapshot(home), before, 'no file written, changed or half-written');
});
