// Atomic private file writes: the one helper every Geode package uses to put a file on disk (sealed enclave state,
// identities, dev.json, the simulation PKI, cached collateral). It lives in @geode/protocol because both the trusted
// enclave and host/CLI code may import it (the enclave may import nothing from host code), and uses node builtins only.
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineError } from './errors.ts';

/** Mode of a file that holds a key or any other secret: owner read/write only. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of a directory that holds such files: owner only. */
export const PRIVATE_DIR_MODE = 0o700;

/** A file or its directory could not be written (permissions, disk full, a shared directory). */
export class FileWriteError extends defineError({
  codes: ['FILE_WRITE', 'FILE_DIR_SHARED'],
  docsPath: 'security.md#secrets-on-disk',
  build: (code: 'FILE_WRITE' | 'FILE_DIR_SHARED', message: string, file: string, cause?: unknown) => ({ code, message, cause, details: { file } }),
}) {}

/**
 * Create `dir` (and parents) as a private directory, or make an existing one private: mode 0700.
 * A directory others may write to with the sticky bit set (a shared temp directory such as /tmp) is never
 * chmod-ed; it is refused with FILE_DIR_SHARED, because private files cannot be kept private in it.
 * Throws FileWriteError (FILE_WRITE when the directory cannot be created or chmod-ed).
 */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (e) {
    throw new FileWriteError('FILE_WRITE', `Could not create directory ${dir}: ${(e as Error).message}. Check its parent's permissions.`, dir, e);
  }
  const mode = statSync(dir).mode & 0o7777;
  if ((mode & 0o1000) !== 0 && (mode & 0o002) !== 0) {
    throw new FileWriteError('FILE_DIR_SHARED', `${dir} is a shared directory (world-writable, sticky); Geode keeps keys only in a private directory. Pass a dedicated directory inside it instead (e.g. ${join(dir, 'geode')}).`, dir);
  }
  if ((mode & 0o777) !== PRIVATE_DIR_MODE) {
    try {
      chmodSync(dir, PRIVATE_DIR_MODE);
    } catch (e) {
      throw new FileWriteError('FILE_WRITE', `Could not make ${dir} private (mode 0700): ${(e as Error).message}. Run as its owner or pick another directory.`, dir, e);
    }
  }
}

/**
 * Write `data` (bytes, or a string as UTF-8) to `file` atomically and privately:
 * 1. make the directory private (ensurePrivateDir: created or chmod-ed to 0700);
 * 2. write a fresh temp file in the same directory, created with mode 0600 (never readable by others, not even
 *    for an instant), and fsync it;
 * 3. rename it over `file` (atomic on POSIX: a reader sees the old or the new content, never a torn one);
 * 4. fsync the directory, so the rename survives a power loss.
 * On failure the temp file is removed and `file` keeps its old content. Throws FileWriteError.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const dir = dirname(file);
  ensurePrivateDir(dir);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', PRIVATE_FILE_MODE);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* never created, or already renamed */ }
    throw new FileWriteError('FILE_WRITE', `Could not write ${file}: ${(e as Error).message}. Check the directory's permissions and free space.`, file, e);
  }
}

/**
 * The workspace root: the nearest directory at or above `from` (default: this module's file) whose package.json
 * declares "workspaces" (the Geode repository). A fixed '../../..' would be right from src/ and dist/ but not from
 * the CLI bundle (packages/cli/dist/bin), which inlines this module (the contracts build and the enclave build use it). Falls back to process.cwd() outside a workspace
 * (an installed package). Absolute path.
 */
export function workspaceRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(resolve(from)); ; dir = dirname(dir)) {
    const pj = resolve(dir, 'package.json');
    if (existsSync(pj) && 'workspaces' in (JSON.parse(readFileSync(pj, 'utf8')) as object)) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}


/**
 * The root folder (the one holding its package.json) of package `name` as the module at `from` (absolute file path
 * or file: URL) resolves it: Node's resolution through node_modules, with the process's export conditions. For
 * code that must find a Geode package's shipped files (its `src/`, its Solidity sources) outside the repository,
 * where the package is installed from its tarball. Throws Node's MODULE_NOT_FOUND error when it is not installed.
 */
export function packageRoot(name: string, from: string | URL): string {
  const entry = createRequire(from).resolve(name);
  for (let dir = dirname(entry); dirname(dir) !== dir; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === name) return dir;
  }
  return dirname(entry);
}
