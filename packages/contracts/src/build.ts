/**
 * Solidity build for Geode: compiles every contract with the pinned npm `solc` (solc-js, standard JSON) and writes
 * `src/generated/artifacts.ts` (ABIs and bytecode typed for viem).
 *
 * Sources: `packages/contracts/src/*.sol`, `packages/contracts/src/dcap/*.sol` (the on-chain DCAP verifier) and `apps/<app>/contracts/*.sol`, keyed by their repo-relative path
 * (the solc "source unit name"). Apps import the core as `@geode/contracts/GeodeCore.sol` (a solc remapping to
 * `packages/contracts/src/`).
 *
 * The generated file records `sourcesHash` = sha256 over the solc version, the compiler settings and every source
 * (path and content, sorted by path). `buildContracts()` skips the compile when that hash is unchanged.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { defineError } from '@geode/protocol';

const require = createRequire(import.meta.url);

/** Repository root (two levels above packages/contracts/src). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Path of the generated artifacts module, relative to the repo root. */
export const ARTIFACTS_PATH = 'packages/contracts/src/generated/artifacts.ts';

/** solc standard-JSON settings (evmVersion osaka: EIP-7951 P256VERIFY, EIP-1153 transient storage). */
export const SOLC_SETTINGS = {
  evmVersion: 'osaka',
  optimizer: { enabled: true, runs: 200 },
  remappings: ['@geode/contracts/=packages/contracts/src/'],
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'storageLayout'] } },
} as const;

/** Thrown when solc reports errors; `details.errors` holds solc's formatted messages. */
export class ContractsCompileError extends defineError({
  codes: ['CHAIN_CONTRACTS_COMPILE'],
  docsPath: 'conventions.md#build',
  build: (messages: string[]) => ({ code: 'CHAIN_CONTRACTS_COMPILE', message: `Solidity compilation failed:\n${messages.join('\n')}`, details: { errors: messages } }),
}) {}

/** One entry of solc's `storageLayout.storage`. */
export interface StorageEntry {
  label: string;
  slot: string;
  offset: number;
  type: string;
  contract: string;
}

/** solc output for one contract. `bytecode`/`deployedBytecode` are 0x hex ('0x' for interfaces/abstract). */
export interface CompiledContract {
  name: string;
  sourceName: string;
  abi: unknown[];
  bytecode: `0x${string}`;
  deployedBytecode: `0x${string}`;
  storageLayout: { storage: StorageEntry[]; types: Record<string, { label: string; encoding: string; numberOfBytes: string; members?: StorageEntry[] }> | null };
}

/** Result of compileContracts. */
export interface CompileResult {
  solcVersion: string;
  sourcesHash: `0x${string}`;
  /** Contracts by name, sorted by name. */
  contracts: Record<string, CompiledContract>;
  /** solc warnings, formatted. */
  warnings: string[];
}

/** Source files: repo-relative path -> content, sorted by path. */
export function collectSources(root: string = REPO_ROOT): Record<string, string> {
  const paths: string[] = [];
  const addDir = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) if (f.endsWith('.sol')) paths.push(relative(root, join(dir, f)).split('\\').join('/'));
  };
  addDir(join(root, 'packages/contracts/src'));
  addDir(join(root, 'packages/contracts/src/dcap'));
  const apps = join(root, 'apps');
  if (existsSync(apps)) for (const app of readdirSync(apps)) addDir(join(apps, app, 'contracts'));
  paths.sort();
  const out: Record<string, string> = {};
  for (const p of paths) out[p] = readFileSync(join(root, p), 'utf8');
  return out;
}

/** The solc-js compiler module (version pinned by package.json). */
function solc(): { version(): string; compile(input: string, opts?: unknown): string } {
  return require('solc');
}

/** sha256 (0x hex) of solc version, settings and sources. */
export function hashSources(sources: Record<string, string>, solcVersion: string = solc().version()): `0x${string}` {
  const h = createHash('sha256');
  h.update(`solc ${solcVersion}\n${JSON.stringify(SOLC_SETTINGS)}\n`);
  for (const p of Object.keys(sources).sort()) h.update(`${p}\0${sources[p].length}\0${sources[p]}`);
  return `0x${h.digest('hex')}`;
}

/**
 * Compiles `sources` with solc. Throws ContractsCompileError (code CHAIN_CONTRACTS_COMPILE) with solc's formatted
 * messages on any error-severity diagnostic, or when two contracts share a name.
 */
export function compileContracts(sources: Record<string, string> = collectSources(), root: string = REPO_ROOT): CompileResult {
  const compiler = solc();
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([p, content]) => [p, { content }])),
    settings: SOLC_SETTINGS,
  };
  const findImports = (path: string) => {
    const file = join(root, path);
    return existsSync(file) ? { contents: readFileSync(file, 'utf8') } : { error: `File not found: ${path}` };
  };
  const output = JSON.parse(compiler.compile(JSON.stringify(input), { import: findImports })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } }; storageLayout: CompiledContract['storageLayout'] }>>;
  };
  const diags = output.errors ?? [];
  const errors = diags.filter((d) => d.severity === 'error').map((d) => d.formattedMessage.trimEnd());
  if (errors.length) throw new ContractsCompileError(errors);
  const warnings = diags.filter((d) => d.severity !== 'error').map((d) => d.formattedMessage.trimEnd());
  const contracts: Record<string, CompiledContract> = {};
  for (const sourceName of Object.keys(output.contracts ?? {}).sort()) {
    for (const [name, c] of Object.entries(output.contracts![sourceName])) {
      // Libraries (runtime code starts with the call-protection PUSH20 <address>) are inlined into their users:
      // their internal functions are not callable, so they get no artifact.
      if (c.evm.deployedBytecode.object.startsWith('73')) continue;
      if (contracts[name]) throw new ContractsCompileError([`duplicate contract name ${name} in ${contracts[name].sourceName} and ${sourceName}`]);
      contracts[name] = {
        name,
        sourceName,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
        storageLayout: c.storageLayout,
      };
    }
  }
  const sorted = Object.fromEntries(Object.keys(contracts).sort().map((k) => [k, contracts[k]]));
  return { solcVersion: compiler.version(), sourcesHash: hashSources(sources, compiler.version()), contracts: sorted, warnings };
}

/**
 * Renders the generated artifacts module: `sourcesHash`, `solcVersion`, and for each contract
 * `<Name>Abi` (as const), plus `<Name>Bytecode` / `<Name>DeployedBytecode` for deployable contracts. Deterministic.
 */
export function renderArtifacts(r: CompileResult): string {
  const lines: string[] = [
    '// GENERATED by packages/contracts/src/build.ts (`npm run build`). Do not edit by hand.',
    '// Checked in so types resolve without a build; a test fails when it is out of date.',
    '/* eslint-disable */',
    '',
    `/** sha256 of solc version, settings and all Solidity sources this file was generated from. */`,
    `export const sourcesHash = '${r.sourcesHash}' as const;`,
    `/** solc version used. */`,
    `export const solcVersion = '${r.solcVersion}' as const;`,
    '',
  ];
  for (const c of Object.values(r.contracts)) {
    lines.push(`/** ABI of ${c.name} (${c.sourceName}). */`);
    lines.push(`export const ${c.name}Abi = [`);
    for (const item of c.abi) lines.push(`  ${JSON.stringify(item)},`);
    lines.push('] as const;');
    if (c.bytecode !== '0x') {
      lines.push(`/** Creation bytecode of ${c.name}. */`);
      lines.push(`export const ${c.name}Bytecode = '${c.bytecode}' as const;`);
      lines.push(`/** Runtime bytecode of ${c.name} (immutables zeroed). */`);
      lines.push(`export const ${c.name}DeployedBytecode = '${c.deployedBytecode}' as const;`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Reads the sourcesHash recorded in the generated file, or null if the file is missing/unparseable. */
export function recordedSourcesHash(root: string = REPO_ROOT): string | null {
  const file = join(root, ARTIFACTS_PATH);
  if (!existsSync(file)) return null;
  const m = /export const sourcesHash = '(0x[0-9a-f]{64})'/.exec(readFileSync(file, 'utf8'));
  return m ? m[1] : null;
}

/**
 * Compiles the contracts and writes the artifacts module unless its recorded sourcesHash is current.
 * Prints progress with `log` (default console.log). Throws ContractsCompileError on compile errors.
 * @returns whether it compiled, and the result when it did.
 */
export async function buildContracts(opts: { root?: string; force?: boolean; log?: (msg: string) => void } = {}): Promise<{ compiled: boolean; result?: CompileResult }> {
  const root = opts.root ?? REPO_ROOT;
  const log = opts.log ?? ((m: string) => console.log(m));
  const sources = collectSources(root);
  const hash = hashSources(sources);
  if (!opts.force && recordedSourcesHash(root) === hash) {
    log('contracts: up to date');
    return { compiled: false };
  }
  const t0 = performance.now();
  log(`contracts: compiling ${Object.keys(sources).length} contracts…`);
  const result = compileContracts(sources, root);
  for (const w of result.warnings) log(w);
  const file = join(root, ARTIFACTS_PATH);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderArtifacts(result));
  log(`contracts: compiled ${Object.keys(result.contracts).length} contracts in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${ARTIFACTS_PATH}`);
  return { compiled: true, result };
}
