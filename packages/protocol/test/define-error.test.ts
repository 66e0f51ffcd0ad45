// defineError (packages/protocol/src/errors.ts) is the one way errors are declared (issue 9 §7): classes it makes
// keep GeodeError's contract (code, message, details, docsPath, name, instanceof), and no package declares an error
// class any other way (a scan of every src/ tree, which proves it can fail on a sample).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineError, GeodeError, isGeodeError } from '@geode/protocol';

class FamilyError extends defineError({
  build: (code: string, message: string, opts: { details?: Record<string, unknown>; docsPath?: string } = {}) => ({ code, message, ...opts }),
  docsPath: (code) => `family.md#${code.toLowerCase()}`,
}) {}
class OneError extends defineError({ code: 'FAM_ONE', base: FamilyError }) {}
class BuiltError extends defineError({
  codes: ['X_A', 'X_B'],
  docsPath: 'x.md#errors',
  build: (which: 'X_A' | 'X_B', n: number) => ({ code: which, message: `failed ${n} times. Retry.`, details: { n } }),
}) {}

test('a defined class: code, message, details, docsPath, name and instanceof as a hand-written GeodeError subclass', () => {
  const e = new BuiltError('X_B', 3);
  assert.ok(e instanceof BuiltError && e instanceof GeodeError && e instanceof Error && isGeodeError(e));
  assert.equal(e.name, 'BuiltError');
  assert.equal(e.code, 'X_B');
  assert.equal(e.message, 'failed 3 times. Retry.');
  assert.deepEqual(e.details, { n: 3 });
  assert.equal(e.docsPath, 'x.md#errors');
  assert.deepEqual(e.toJSON(), { name: 'BuiltError', code: 'X_B', message: 'failed 3 times. Retry.', details: { n: 3 }, docsPath: 'x.md#errors' });
  assert.deepEqual(BuiltError.codes, ['X_A', 'X_B']);
});

test('a fixed-code class on a family base: (message, opts) constructor, the family docsPath unless opts names one', () => {
  const e = new OneError('bad', { details: { at: 1 }, cause: 'c' });
  assert.ok(e instanceof OneError && e instanceof FamilyError && e instanceof GeodeError);
  assert.ok(!(new FamilyError('FAM_TWO', 'x') instanceof OneError));
  assert.equal(e.name, 'OneError');
  assert.equal(e.code, 'FAM_ONE');
  assert.equal(e.docsPath, 'family.md#fam_one');
  assert.equal(e.cause, 'c');
  assert.equal(new OneError('bad', { docsPath: 'other.md#here' }).docsPath, 'other.md#here');
});

test('a code outside the declared codes is a TypeError at construction; a malformed declared code at definition', () => {
  assert.throws(() => new BuiltError('X_C' as 'X_A', 1), TypeError);
  assert.throws(() => new FamilyError('', 'x'), TypeError);
  assert.throws(() => defineError({ code: 'not-a-code' }), TypeError);
  // An open family relays a code it did not declare (e.g. an enclave refusal the host reports).
  assert.equal(new FamilyError('ENCLAVE_SOMETHING_NEW', 'x').code, 'ENCLAVE_SOMETHING_NEW');
});

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Error classes declared without defineError: `class X extends GeodeError` or `extends Error`, outside protocol/src/errors.ts. */
export function handWrittenErrorClasses(src: string): string[] {
  return [...src.matchAll(/\bclass\s+(\w+)\s+extends\s+(GeodeError|Error)\b/g)].map((m) => m[1]!);
}

/** Errors that are deliberately not GeodeErrors: the devnet's JSON-RPC error (numeric EIP-1474 code, what viem's transports expect). */
const NOT_GEODE_ERRORS = new Set(['RpcError']);

test('no package or app declares an error class other than with defineError', () => {
  assert.deepEqual(handWrittenErrorClasses('export class A extends GeodeError {}\nclass B extends Error {\n}\nclass C extends defineError({ code: "C_X" }) {}'), ['A', 'B']);
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const n of readdirSync(dir)) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.ts') && p !== join(repo, 'packages/protocol/src/errors.ts')) {
        for (const c of handWrittenErrorClasses(readFileSync(p, 'utf8'))) if (!NOT_GEODE_ERRORS.has(c)) found.push(`${relative(repo, p)}: ${c}`);
      }
    }
  };
  for (const r of ['packages', 'apps']) for (const p of readdirSync(join(repo, r))) if (existsSync(join(repo, r, p, 'src'))) walk(join(repo, r, p, 'src'));
  assert.deepEqual(found, [], 'declare these with defineError from @geode/protocol (docs/conventions.md "Errors")');
});
