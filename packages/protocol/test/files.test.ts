import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, FileWriteError, writeFileAtomic } from '@geode/protocol/files';

const root = mkdtempSync(join(tmpdir(), 'geode-files-'));
after(() => rmSync(root, { recursive: true, force: true }));
const mode = (p: string) => statSync(p).mode & 0o7777;

test('writeFileAtomic: creates the directory 0700 and the file 0600, and leaves no temp file', () => {
  const file = join(root, 'a/b/secret.json');
  writeFileAtomic(file, '{"k":1}');
  assert.equal(readFileSync(file, 'utf8'), '{"k":1}');
  assert.equal(mode(file), 0o600);
  assert.equal(mode(join(root, 'a/b')), 0o700);
  assert.deepEqual(readdirSync(join(root, 'a/b')), ['secret.json']);
});

test('writeFileAtomic: tightens an existing 0755 directory and replaces a 0644 file by a 0600 one', () => {
  const dir = join(root, 'open');
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  const file = join(dir, 'dev.json');
  writeFileSync(file, 'old', { mode: 0o644 });
  chmodSync(file, 0o644);
  writeFileAtomic(file, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(file)], [1, 2, 3]);
  assert.equal(mode(file), 0o600);
  assert.equal(mode(dir), 0o700);
});

test('ensurePrivateDir: a shared sticky directory (like /tmp) is refused with FILE_DIR_SHARED and left as it was', () => {
  const shared = join(root, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  assert.throws(() => ensurePrivateDir(shared), (e: unknown) => e instanceof FileWriteError && e.code === 'FILE_DIR_SHARED');
  assert.throws(() => writeFileAtomic(join(shared, 'k'), 'x'), (e: unknown) => e instanceof FileWriteError && e.code === 'FILE_DIR_SHARED');
  assert.equal(mode(shared), 0o1777);
  assert.deepEqual(readdirSync(shared), []);
});

test('writeFileAtomic: a failed write keeps the old content and removes its temp file', () => {
  const dir = join(root, 'blocked');
  const file = join(dir, 'x');
  writeFileAtomic(file, 'old');
  mkdirSync(join(dir, 'sub'));
  // Renaming a file over a directory fails (EISDIR): the write fails after the temp file was written.
  assert.throws(() => writeFileAtomic(join(dir, 'sub'), 'new'), (e: unknown) => e instanceof FileWriteError && e.code === 'FILE_WRITE');
  assert.deepEqual(readdirSync(dir).sort(), ['sub', 'x']);
  assert.equal(readFileSync(file, 'utf8'), 'old');
});
