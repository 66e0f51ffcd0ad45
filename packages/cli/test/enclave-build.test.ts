// `geode enclave build --tee sgx` in a child process: a hardware bundle without simulation code, and the Gramine
// manifest template that pins it (parsed back with smol-toml).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { geode as run } from './dev-process.ts';

function geode(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(args, { timeout: 120_000 });
}

test('geode enclave build --tee sgx: hardware bundle + Gramine manifest pinning it (DCAP, no debug, fixed argv, data dir only passthrough)', { timeout: 180_000 }, async () => {
  const d = mkdtempSync(join(tmpdir(), 'geode-enclave-build-'));
  const out = join(d, 'app.mjs');
  const r = await geode(['enclave', 'build', '--tee', 'sgx', '--out', out, '--node', '/opt/node/bin/node', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim()) as { tee: string; bundle: string; bundleSha256: string; manifest: string; measurement?: string; next: string[] };
  assert.equal(j.tee, 'sgx');
  assert.equal(j.bundle, out);
  assert.equal(j.measurement, undefined, 'no simulated measurement for hardware');
  const bundle = readFileSync(out);
  assert.equal(j.bundleSha256, `0x${createHash('sha256').update(bundle).digest('hex')}`);
  for (const m of ['createSimPlatform', 'buildSimQuote', 'geode-sim-signer']) assert.ok(!bundle.toString('utf8').includes(m), `bundle contains ${m}`);
  assert.equal(j.manifest, `${out}.manifest.template`);
  const text = readFileSync(j.manifest, 'utf8');
  assert.match(text, /gramine-sgx-sign/);
  const m = parse(text) as any;
  assert.equal(m.sgx.remote_attestation, 'dcap');
  assert.equal(m.sgx.debug, false);
  assert.equal(m.libos.entrypoint, '/opt/node/bin/node');
  assert.deepEqual(m.loader.argv, ['/opt/node/bin/node', '/geode/enclave.mjs']);
  assert.equal(m.loader.insecure__use_host_env, undefined, 'the host environment is not passed in');
  assert.equal(m.loader.insecure__use_cmdline_argv, undefined, 'the host does not choose argv');
  const pinned = (m.sgx.trusted_files as { uri: string; sha256?: string }[]).find((f) => f.uri === 'file:app.mjs');
  assert.equal(pinned?.sha256, j.bundleSha256.slice(2));
  assert.deepEqual(m.sgx.allowed_files, ['file:geode-data/']);
  assert.ok((m.fs.mounts as { path: string; uri: string }[]).some((x) => x.path === '/geode/data' && x.uri === 'file:geode-data'));
  assert.ok(j.next.some((n) => n.startsWith('gramine-sgx-sign')));
});

test('geode enclave build refuses an unknown --tee (exit 2, CLI_BAD_ARGUMENT)', { timeout: 60_000 }, async () => {
  const r = await geode(['enclave', 'build', '--tee', 'sev', '--json']);
  assert.equal(r.code, 2);
  assert.match(r.stdout + r.stderr, /CLI_BAD_ARGUMENT/);
});

test('geode dev --tee tdx|sev-snp is refused before anything starts: no configured verifier checks that evidence', { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'geode-dev-tee-'));
  const [tdx, snp, bad] = await Promise.all([
    geode(['dev', '--tee', 'tdx', '--home', home, '--json']),
    geode(['dev', '--tee', 'sev-snp', '--home', home]),
    geode(['dev', '--tee', 'nitro', '--home', home]),
  ]);
  assert.equal(tdx.code, 1);
  const j = JSON.parse(tdx.stdout.trim().split('\n').at(-1)!) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(j.ok, false);
  assert.equal(j.error.code, 'HOST_NO_ATTESTATION_VERIFIER');
  assert.match(j.error.message, /checks sgx-sim, not tdx evidence.*Missing: an on-chain DCAP verifier for TDX quotes/);
  assert.equal(snp.code, 1);
  assert.match(snp.stderr, /HOST_NO_ATTESTATION_VERIFIER.*Missing: an on-chain SEV-SNP report verifier/s);
  assert.equal(bad.code, 1, 'dev reports argument errors with exit 1, as for --port');
  assert.match(bad.stderr, /--tee must be one of sim, sgx, tdx, sev-snp/);
  assert.deepEqual(readdirSync(home), [], 'nothing written');
});
