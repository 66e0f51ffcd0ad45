/** `geode dev` as a real child process for CLI tests: start it and wait for its `--json` ready line, stop it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'packages/cli/src/main.ts');

/**
 * Spawn `geode dev --port 0 --json ...args` with `env`; resolves with the child once it prints its JSON line with
 * `ok: true`, rejects with that line (ok: false) or with the tail of stderr if it exits first.
 */
export function startDev(args: readonly string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'dev', '--port', '0', '--json', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
