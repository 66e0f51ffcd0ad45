// docs/apps.md shows real code only: every TypeScript, Solidity and JSON block is preceded by
// `<!-- source: <file> -->` and is, chunk by chunk (chunks split at a line that is only `…` or `// …`), a verbatim
// excerpt of that file, in order: a repository file, or `scaffold:<file>` of an app `geode init notes` writes now.
// The listing after `<!-- init-files -->` is exactly the files geode init writes, and the line counts the page
// gives are the ones geode init reports. Edit the template or the app, and the page must follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInit } from '../../packages/cli/src/commands/init.ts';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const page = readFileSync(join(repo, 'docs/apps.md'), 'utf8');
const CHECKED = new Set(['ts', 'solidity', 'json']);

interface Block { lang: string; body: string; line: number; marker: string | undefined }

/** Fenced blocks with the `<!-- source: x -->` or `<!-- init-files -->` marker on one of the two lines before them. */
export function blocksOf(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!m) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    const marker = [lines[i - 1], lines[i - 2]].map((l) => /^<!-- (source: \S+|init-files) -->$/.exec(l ?? '')?.[1]).find(Boolean);
    out.push({ lang: m[1]!, body: lines.slice(i + 1, end).join('\n'), line: i + 1, marker });
    i = end;
  }
  return out;
}

/** Whether every chunk of `block` (split at elision lines) occurs in `text`, in order. */
export function isExcerpt(block: string, text: string): boolean {
  let at = 0;
  for (const chunk of block.split(/\n[ \t]*(?:\/\/ )?…[ \t]*(?:\n|$)/)) {
    if (chunk.trim() === '') continue;
    const i = text.indexOf(chunk, at);
    if (i < 0) return false;
    at = i + chunk.length;
  }
  return true;
}

test('isExcerpt accepts ordered verbatim chunks and refuses an edited, reordered or invented one', () => {
  const file = 'a\nb\nc\nd\n';
  assert.equal(isExcerpt('a\nb', file), true);
  assert.equal(isExcerpt('a\n…\nd', file), true);
  assert.equal(isExcerpt('a\n// …\nc', file), true);
  assert.equal(isExcerpt('a\nc', file), false);
  assert.equal(isExcerpt('d\n…\na', file), false);
  assert.equal(isExcerpt('a\nB', file), false);
});

test('docs/apps.md: every ts/solidity/json block is an excerpt of its named source; the file list and line counts are geode init\'s', () => {
  const parent = mkdtempSync(join(tmpdir(), 'geode-apps-doc-'));
  try {
    const r = runInit('notes', { dir: parent });
    const blocks = blocksOf(page);
    assert.ok(blocks.filter((b) => b.marker?.startsWith('source:')).length >= 10, 'the page shows the scaffold and the apps');
    for (const b of blocks) {
      if (b.marker === 'init-files') {
        assert.deepEqual(b.body.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean), r.files, `apps.md:${b.line}: the files geode init writes`);
        continue;
      }
      if (!CHECKED.has(b.lang)) continue;
      assert.ok(b.marker, `apps.md:${b.line}: a ${b.lang} block needs a <!-- source: file --> line before it`);
      const src = b.marker.slice('source: '.length);
      const file = src.startsWith('scaffold:') ? join(r.dir, src.slice('scaffold:'.length)) : join(repo, src);
      assert.ok(isExcerpt(b.body, readFileSync(file, 'utf8')), `apps.md:${b.line}: the block is not an excerpt of ${src} (copy it again from the file)`);
    }
    const m = /\*\*contract (\d+)\*\*.*?\*\*enclave (\d+)\*\*.*?\*\*client (\d+)\*\*/s.exec(page);
    assert.ok(m, 'the page gives the minimal app\'s line counts');
    assert.deepEqual({ contract: Number(m[1]), enclave: Number(m[2]), client: Number(m[3]) }, r.lines);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('docs/apps.md mentions none of the removed handler APIs', () => {
  for (const old of ['initialState', 'validatesBeforeMutating', 'state argument', 'harness.ts']) {
    assert.ok(!page.includes(old), `apps.md still mentions ${old}`);
  }
});
