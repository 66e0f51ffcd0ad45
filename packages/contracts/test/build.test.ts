import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESSION_FIELD, SLOT } from '@geode/protocol';
import { ARTIFACTS_PATH, ContractsCompileError, REPO_ROOT, appArtifactsPath, artifactTargets, buildContracts, contractApps, compileContracts, frameworkSources, hashSources, recordedSourcesHash, renderArtifacts, type ArtifactsTarget, type CompileResult } from '../src/build.ts';
import * as artifacts from '../src/generated/artifacts.ts';

/** Every generated module (framework, then each discovered app) with a fresh compile of its sources. */
let compiled: { target: ArtifactsTarget; result: CompileResult }[] | undefined;
const results = () => (compiled ??= artifactTargets().map((target) => {
  const r = compileContracts(target.sources);
  return { target, result: { ...r, sourcesHash: hashSources(target.hashed, r.solcVersion) } };
}));
/** The contracts a target keeps (those whose source unit is under its prefix). */
const kept = (x: { target: ArtifactsTarget; result: CompileResult }) => Object.values(x.result.contracts).filter((c) => c.sourceName.startsWith(x.target.prefix));

test('the committed artifacts are up to date (recompile each framework and app module and compare byte for byte)', () => {
  const all = results();
  assert.equal(all[0]!.target.path, ARTIFACTS_PATH);
  assert.deepEqual(all.slice(1).map((x) => x.target.owner), contractApps(), 'one module per app with contracts');
  assert.ok(all.length >= 2, 'at least one app is discovered under apps/');
  for (const x of all) {
    assert.equal(recordedSourcesHash(REPO_ROOT, x.target.path), x.result.sourcesHash, `${x.target.path}: sources changed: run \`npm run build\` and commit the generated file`);
    assert.equal(readFileSync(join(REPO_ROOT, x.target.path), 'utf8'), renderArtifacts(x.result, x.target.prefix), x.target.path);
    assert.equal(x.result.warnings.length, 0, x.result.warnings.join('\n'));
  }
  assert.deepEqual(kept(all[0]!).map((c) => c.name), ['DcapCollateralRegistry', 'DcapQuoteVerifier', 'GeodeCore', 'IAttestationVerifier', 'SimQuoteVerifier'], 'the framework module holds no app contract');
  assert.equal(artifacts.sourcesHash, all[0]!.result.sourcesHash);
});

/**
 * GeodeCore, and every app contract (discovered) that inherits it, keep the proven variables exactly at SLOT and the
 * Session struct at SESSION_FIELD: the enclave's storage proofs read those slots of whichever app contract it serves.
 */
test('GeodeCore and every app contract that inherits it: storage layout matches SLOT and SESSION_FIELD', () => {
  const all = results();
  // A contract inherits GeodeCore when its ABI has every GeodeCore function (solc reports the most-derived contract
  // as each variable's owner, so the layout alone cannot tell).
  const core = kept(all[0]!).find((c) => c.name === 'GeodeCore')!;
  const sig = (f: unknown) => JSON.stringify([(f as { name?: string }).name, (f as { inputs?: unknown }).inputs]);
  const coreFns = core.abi.filter((f) => (f as { type: string }).type === 'function').map(sig);
  const checked: string[] = [];
  for (const x of all) {
    for (const c of kept(x)) {
      const fns = new Set(c.abi.map(sig));
      const inherits = coreFns.every((f) => fns.has(f));
      if (!inherits) continue;
      checkCoreLayout(c.name, c.storageLayout);
      checked.push(c.name);
    }
  }
  for (const x of all.slice(1)) assert.ok(kept(x).some((c) => checked.includes(c.name)), `app ${x.target.owner}: no contract inherits GeodeCore`);
  assert.ok(checked.includes('GeodeCore') && checked.length >= 2, checked.join());
});

function checkCoreLayout(name: string, layout: CompileResult['contracts'][string]['storageLayout']): void {
  // The batch layout (slots 0..7) and every other slot the enclave proves (SLOT.handoverRequests).
  const bySlot = layout.storage.filter((e) => BigInt(e.slot) <= 7n || e.label in SLOT);
  assert.deepEqual(
    bySlot.map((e) => [e.label, BigInt(e.slot), e.offset]),
    Object.entries(SLOT).map(([label, slot]) => [label, slot, 0]),
    `${name}: proven variables moved`,
  );
  for (const e of bySlot) assert.equal(layout.types![e.type]!.numberOfBytes, '32', `${name}: ${e.label} must fill its slot`);
  const sessions = bySlot.find((e) => e.label === 'sessions')!;
  const valueType = /t_mapping\(t_uint256,(t_struct\(Session\)\d+_storage)\)/.exec(sessions.type)![1]!;
  const members = layout.types![valueType]!.members!;
  assert.deepEqual(
    members.map((m) => [m.label, BigInt(m.slot), m.offset]),
    Object.entries(SESSION_FIELD).map(([label, slot]) => [label, slot, 0]),
    `${name}: Session fields moved`,
  );
  assert.equal(layout.types![valueType]!.numberOfBytes, String(32 * Object.keys(SESSION_FIELD).length));
}

test('the storage-layout check can fail: a contract that inherits GeodeCore after its own variable is caught', () => {
  // Abstract: no constructor arguments needed, and solc still reports its storage layout.
  const src = '// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.30;\nimport {GeodeCore} from "@geode/contracts/GeodeCore.sol";\nabstract contract First { uint256 internal first; }\n/// @notice bad\nabstract contract Shifted is First, GeodeCore {}\n';
  const r = compileContracts({ 'apps/bad/contracts/Shifted.sol': src });
  assert.throws(() => checkCoreLayout('Shifted', r.contracts['Shifted']!.storageLayout), /proven variables moved/);
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
  assert.deepEqual(Object.keys(first.results!), ['framework', 'demo']);
  assert.deepEqual(Object.keys(first.results!.framework!.contracts), ['Extra']);
  assert.equal(logs[0], 'contracts (framework): compiling 1 sources…');
  assert.match(logs[1]!, /^contracts \(framework\): 1 contracts in \d+\.\d s -> packages\/contracts\/src\/generated\/artifacts\.ts$/);
  assert.match(logs.at(-1)!, /^contracts \(demo\): 1 contracts in \d+\.\d s -> apps\/demo\/generated\/artifacts\.ts$/);
  const file = readFileSync(join(root, ARTIFACTS_PATH), 'utf8');
  assert.match(file, /export const ExtraAbi = \[/);
  assert.doesNotMatch(file, /AppAbi/, 'the app contract lives with the app');
  const appFile = readFileSync(join(root, appArtifactsPath('demo')), 'utf8');
  assert.match(appFile, /export const AppAbi = \[/);
  assert.match(appFile, /export const AppBytecode = '0x[0-9a-f]+' as const;/);
  assert.doesNotMatch(appFile, /ExtraAbi/, 'the framework contract it inherits is not copied');
  assert.equal(recordedSourcesHash(root), hashSources(frameworkSources(root)));

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
