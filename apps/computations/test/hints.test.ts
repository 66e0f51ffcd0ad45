// The CLI prints the enclave's refusal hints as the command to run, not the app's API (issue 9 §2,
// docs/cli.md#refusal-hints). Every hint the enclave's messages contain must have a command: the enclave source is
// scanned, so a new hint without a command fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commandsForApiHints, nextCommand } from '../src/client/commands.ts';

const ENCLAVE = fileURLToPath(new URL('../src/enclave/', import.meta.url));

/** The API hints in the enclave's source: each `{ op: '…' … }` and the "through the Computations contract" phrase. */
function enclaveHints(): string[] {
  const hints = new Set<string>();
  for (const f of readdirSync(ENCLAVE).filter((n) => n.endsWith('.ts'))) {
    const src = readFileSync(ENCLAVE + f, 'utf8');
    // Only inside the messages of thrown errors (the string after `Error(`), not in code or comments.
    for (const m of src.matchAll(/Error\((["'`])(.*?)\1[,)]/g)) for (const h of m[2]!.matchAll(/\{ op: '\w+'[^}]*\}|through the \w+ contract/g)) hints.add(h[0]);
  }
  return [...hints].sort();
}

test('every hint in the enclave\'s messages becomes the command that sends it', () => {
  const hints = enclaveHints();
  assert.ok(hints.length >= 4, `the scan finds the enclave's hints: ${hints.join(' | ')}`);
  for (const h of hints) {
    const shown = commandsForApiHints(`do this: ${h}.`, 'avg', 'dave');
    assert.doesNotMatch(shown, /\{ op:|through the \w+ contract/, h);
    assert.match(shown, /`geode computation (create|submit|result) avg\b[^`]*--as dave`/, h);
    assert.ok(nextCommand(`do this: ${h}.`, 'avg', 'dave')?.startsWith('geode computation '), h);
  }
});

test('the refusals a newcomer meets first read as commands', () => {
  assert.equal(
    commandsForApiHints('no computation named "avg"; check the name, or create it through the Computations contract', 'avg', 'alice'),
    'no computation named "avg"; check the name, or create it with `geode computation create avg --type <type> --participants <names> --quorum <n> --as alice`',
  );
  assert.equal(
    commandsForApiHints('"avg" is locked: its result is fixed and no more submissions are accepted; request the result with { op: \'result\' }', 'avg', 'bob'),
    '"avg" is locked: its result is fixed and no more submissions are accepted; request the result with `geode computation result avg --as bob`',
  );
  // A name a shell would split is quoted; an unknown op is left as the enclave wrote it.
  assert.match(commandsForApiHints("{ op: 'result' }", 'my avg', 'bob'), /result "my avg" --as bob/);
  assert.equal(commandsForApiHints("{ op: 'unknownOp' }", 'avg', 'bob'), "{ op: 'unknownOp' }");
  assert.equal(nextCommand('nothing to do', 'avg', 'bob'), undefined);
});
