import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESSION_FIELD, SLOT } from '@geode/protocol';
import { ARTIFACTS_PATH, ContractsCompileError, REPO_ROOT, buildContracts, collectSources, compileContracts, hashSources, recordedSourcesHash, renderArtifacts, type CompileResult } from '../src/build.ts';
import * as artifacts from '../src/generated/artifacts.ts';

let compiled: CompileResult | undefined;
const result = (): CompileResult => (compiled ??= compileContracts());

test('the committed artifacts are up to date (recompile and compare byte for byte)', () => {
  const r = result();
  assert.equal(recordedSourcesHash(), r.sourcesHash, 'sources changed: run `npm run build` and commit the generated file');
  assert.equal(readFileSync(join(REPO_ROOT, ARTIFACTS_PATH), 'utf8'), renderArtifacts(r));
  assert.deepEqual(Object.keys(r.contracts), ['Computations', 'DcapCollateralRegistry', 'DcapQuoteVerifier', 'GeodeCore', 'IAttestationVerifier', 'SimQuoteVerifier', 'Transfers']);
  assert.equal(artifacts.sourcesHash, r.sourcesHash);
  assert.equal(r.warnings.length, 0, r.warnings.join('\n'));
});

test('GeodeCore (and every app contract, which inherits it) storage layout matches SLOT and SESSION_FIELD', () => {
  for (const name of ['GeodeCore', 'Computations', 'Transfers']) {
    const layout = result().contracts[name]!.storageLayout;
    const bySlot = layout.storage.filter((e) => BigInt(e.slot) <= 8n);
    assert.deepEqual(
      bySlot.map((e) => [e.label, BigInt(e.slot), e.offset]),
      Object.entries(SLOT).map(([label, slot]) => [label, slot, 0]),
      `${name}: proven variables moved`,
    );
    for (const e of bySlot) assert.equal(layout.types![e.type]!.numberOfBytes, '32', `${e.label} must fill its slot`);
    const sessions = bySlot.find((e) => e.label === 'sessions')!;
    const valueType = /t_mapping\(t_uint256,(t_struct\(Session\)\d+_storage)\)/.exec(sessions.type)![1]!;
    const members = layout.types![valueType]!.members!;
    assert.deepEqual(
      members.map((m) => [m.label, BigInt(m.slot), m.offset]),
      Object.entries(SESSION_FIELD).map(([label, slot]) => [label, slot, 0]),
    );
    assert.equal(layout.types![valueType]!.numberOfBytes, String(32 * Object.keys(SESSION_FIELD).length));
  }
});

test('the build compiles, skips when up to date, rebuilds on change, fails with solc messages on a compile error', async () => {
  // A scratch repo with one small contract keeps this fast; the real sources are covered by the test above.
  const root = mkdtempSync(join(tmpdir(), 'geode-contracts-'));
  mkdirSync(join(root, 'packages/contracts/src'), { recursive: true });
  mkdirSync(join(root, 'apps/demo/contracts'), { recursive: true });
  const src = (body: string) => `// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.30;\n/// @title X\n/// @notice test\ncontract Extra {${body}}\n`;
  writeFileSync(join(root, 'packages/contracts/src/Extra.sol'), src(''));
  writeFileSync(join(root, 'apps/demo/contracts/App.sol'), '// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.30;\nimport {Extra} from "@geode/contracts/Extra.sol";\n/// @notice app\ncontract App is Extra { uint256 public x; }\n');
  const logs: string[] = [];
  const log = (m: string) => logs.push(m);

  const first = await buildContracts({ root, log });
  assert.equal(first.compiled, true);
  assert.deepEqual(Object.keys(first.result!.contracts), ['App', 'Extra']);
  assert.equal(logs[0], 'contracts: compiling 2 contracts…');
  assert.match(logs.at(-1)!, /^contracts: compiled 2 contracts in \d+\.\d s/);
  const file = readFileSync(join(root, ARTIFACTS_PATH), 'utf8');
  assert.match(file, /export const AppAbi = \[/);
  assert.match(file, /export const AppBytecode = '0x[0-9a-f]+' as const;/);
  assert.equal(recordedSourcesHash(root), hashSources(collectSources(root)));

  logs.length = 0;
  assert.deepEqual(await buildContracts({ root, log }), { compiled: false });
  assert.deepEqual(logs, ['contracts: up to date']);

  writeFileSync(join(root, 'packages/contracts/src/Extra.sol'), src(' function f() external { y = 1; } '));
  await assert.rejects(buildContracts({ root, log }), (e: unknown) => {
    assert.ok(e instanceof ContractsCompileError);
    assert.equal(e.code, 'CHAIN_CONTRACTS_COMPILE');
    assert.match(e.message, /DeclarationError: Undeclared identifier/);
    assert.match(e.message, /packages\/contracts\/src\/Extra\.sol:5:/);
    return true;
  });
  assert.equal(readFileSync(join(root, ARTIFACTS_PATH), 'utf8'), file, 'a failed build leaves the generated file alone');
});
