/**
 * The `geode` executable as a real child process for CLI tests: one-shot runs (`geode`) and `geode dev` (start it
 * and wait for its `--json` ready line, stop it). Every test runs the prebuilt bundle through bin/geode.mjs, as a
 * user does (docs/cli.md#startup), so `npm run build` must have run since the last source change: loading this
 * module throws, naming the stale bundle, otherwise.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The executable users run: it imports the bundle. */
export const GEODE_BIN = join(ROOT, 'packages/cli/bin/geode.mjs');
/** The bundle entry (scripts/build-cli.ts). */
export const CLI_BUNDLE = join(ROOT, 'packages/cli/dist/bin/geode.mjs');

/** Newest modification time (ms) of the TypeScript sources the bundle is built from. */
function newestSource(): { file: string; mtimeMs: number } {
  let best = { file: '', mtimeMs: 0 };
  const walk = (dir: string): void => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      const st = statSync(p);
      if (st.isDirectory()) { if (n !== 'node_modules' && n !== 'dist' && n !== 'test') walk(p); }
      else if (n.endsWith('.ts') && st.mtimeMs > best.mtimeMs) best = { file: p, mtimeMs: st.mtimeMs };
    }
  };
  for (const r of ['packages', 'apps']) for (const p of readdirSync(join(ROOT, r))) if (existsSync(join(ROOT, r, p, 'src'))) walk(join(ROOT, r, p, 'src'));
  return best;
}
if (!existsSync(CLI_BUNDLE)) throw new Error(`the CLI bundle ${CLI_BUNDLE} is missing: run \`npm run build\` before the CLI tests`);
{
  const src = newestSource();
  if (src.mtimeMs > statSync(CLI_BUNDLE).mtimeMs) throw new Error(`the CLI bundle is older than ${src.file}: run \`npm run build\` before the CLI tests`);
}

/**
 * Spawn `cmd ...args` in `cwd` with `env`, collecting stdout and stderr; resolves on exit, never rejects.
 * NODE_TEST_CONTEXT is removed from `env`: a nested `node --test` would otherwise report to this runner instead of
 * printing its results.
 */
export function runChild(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const e: NodeJS.ProcessEnv = { ...env };
    delete e.NODE_TEST_CONTEXT;
    const child = spawn(cmd, [...args], { cwd, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One finished `geode` run: exit code (1 when killed or timed out), stdout, stderr. */
export interface GeodeRun { code: number; stdout: string; stderr: string }

/** Run `geode ...args` (the bundle) in the repo root with `env` (default: this process's). Never rejects. */
export function geode(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<GeodeRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [GEODE_BIN, ...args], { cwd: ROOT, env: opts.env ?? process.env, timeout: opts.timeout ?? 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/**
 * Spawn `geode dev --port 0 --json ...args` with `env`; resolves with the child once it prints its JSON line with
 * `ok: true`, rejects with that line (ok: false) or with the tail of stderr if it exits first.
 */
export function startDev(args: readonly string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [GEODE_BIN, 'dev', '--port', '0', '--json', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) (JSON.parse(line) as { ok: boolean }).ok ? resolve(child) : reject(new Error(line));
    });
    child.once('exit', (code) => reject(new Error(`geode dev exited ${code}: ${err.slice(-2000)}`)));
  });
}

/** SIGTERM `child` and resolve once it has exited (at once if it already has). */
export function stopDev(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
