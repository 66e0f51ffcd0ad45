/**
 * Solidity build for Geode: compiles every contract with the pinned npm `solc` (solc-js, standard JSON) and writes
 * one generated module of ABIs and bytecode typed for viem per owner (docs/apps.md#layout):
 *
 * 1. the framework: `packages/contracts/src/*.sol` and `packages/contracts/src/dcap/*.sol` (the on-chain DCAP
 *    verifier) -> `packages/contracts/src/generated/artifacts.ts`;
 * 2. each app found under `apps/<app>/contracts/*.sol` -> `apps/<app>/generated/artifacts.ts`, holding only that
 *    app's contracts. Apps import the core as `@geode/contracts/GeodeCore.sol` (a solc remapping to
 *    `packages/contracts/src/`), resolved from the repository, or, for an app outside it, from the installed
 *    @geode/contracts package (which ships its src/), so an app never copies framework code.
 *
 * Sources are keyed by their repo-relative path (the solc "source unit name"). Each generated file records
 * `sourcesHash` = sha256 over the solc version, the compiler settings and every source it may depend on (path and
 * content, sorted by path: the framework's for the framework file, the framework's and the app's for an app file).
 * `buildContracts()` compiles only the targets whose hash changed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { defineError } from '@geode/protocol';
import { packageRoot, workspaceRoot } from '@geode/protocol/files';

const require = createRequire(import.meta.url);

/** Repository root: the workspace root found from this module (source, dist, or the CLI bundle that inlines it). */
export const REPO_ROOT = workspaceRoot(fileURLToPath(import.meta.url));
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

/** Read the `.sol` files of `dirs` (repo-relative) into repo-relative path -> content, sorted by path. */
function readSources(root: string, dirs: string[]): Record<string, string> {
  const paths: string[] = [];
  for (const d of dirs) {
    const dir = join(root, d);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.sol')) paths.push(relative(root, join(dir, f)).split('\\').join('/'));
  }
  paths.sort();
  const out: Record<string, string> = {};
  for (const p of paths) out[p] = readFileSync(join(root, p), 'utf8');
  return out;
}

/**
 * An app's `.sol` files under `<dir>/contracts/`, keyed `apps/<name>/contracts/<file>` (name = the folder's name)
 * wherever the folder is, so an app outside the repository compiles to the same source units (and bytecode) as
 * inside it. Imports of `@geode/contracts/…` resolve from the repository.
 */
function appSources(dir: string): Record<string, string> {
  const contracts = join(dir, 'contracts');
  const name = basename(resolve(dir));
  const out: Record<string, string> = {};
  if (!existsSync(contracts)) return out;
  for (const f of readdirSync(contracts).filter((x) => x.endsWith('.sol')).sort()) out[`apps/${name}/contracts/${f}`] = readFileSync(join(contracts, f), 'utf8');
  return out;
}

/** Source-unit prefix of the framework's Solidity files (the remapping target of `@geode/contracts/`). */
const FRAMEWORK_UNITS = 'packages/contracts/';

/**
 * Where the framework's Solidity files are: `<root>/packages/contracts` in the repository, else (an app built
 * outside it, e.g. `geode init --standalone`) the installed @geode/contracts package, which ships its `src/`.
 * Either way their source units are named `packages/contracts/src/…`, so an app compiles to the same bytecode.
 */
function frameworkDir(root: string): string {
  const inRepo = join(root, FRAMEWORK_UNITS);
  return existsSync(join(inRepo, 'src')) ? inRepo : packageRoot('@geode/contracts', import.meta.url);
}

/** The file of source unit `unit`: framework units from frameworkDir, any other relative to `root`. */
function sourceFile(root: string, unit: string): string {
  return unit.startsWith(FRAMEWORK_UNITS) ? join(frameworkDir(root), unit.slice(FRAMEWORK_UNITS.length)) : join(root, unit);
}

/** The framework's Solidity sources (packages/contracts/src and its dcap/ folder): repo-relative path -> content. */
export function frameworkSources(root: string = REPO_ROOT): Record<string, string> {
  const dir = frameworkDir(root);
  const units = readSources(dir, ['src', 'src/dcap']);
  return Object.fromEntries(Object.entries(units).map(([p, c]) => [`${FRAMEWORK_UNITS}${p}`, c]));
}

/** Apps with Solidity sources: the names of the folders `apps/<name>/contracts/` that hold a `.sol` file, sorted. */
export function contractApps(root: string = REPO_ROOT): string[] {
  const apps = join(root, 'apps');
  if (!existsSync(apps)) return [];
  return readdirSync(apps).filter((a) => Object.keys(readSources(root, [`apps/${a}/contracts`])).length > 0).sort();
}

/** One generated artifacts module: where it goes, the sources compiled for it and the source prefix it keeps. */
export interface ArtifactsTarget {
  /** 'framework' or the app's folder name. */
  owner: string;
  /** Repo-relative path of the generated module. */
  path: string;
  /** Sources given to solc (imports outside them resolve from the repository). */
  sources: Record<string, string>;
  /** Sources the output depends on (hashed): the framework's, plus the app's own for an app. */
  hashed: Record<string, string>;
  /** Only contracts whose source unit starts with this prefix are written to `path`. */
  prefix: string;
}

/**
 * The generated modules to build: the framework's first, then one per app with contracts: those of `appDirs`
 * (absolute app folders, anywhere; their module goes to `<dir>/generated/artifacts.ts`) or by default every app of
 * the repository (contractApps).
 */
export function artifactTargets(root: string = REPO_ROOT, appDirs?: readonly string[]): ArtifactsTarget[] {
  const framework = frameworkSources(root);
  // Outside the repository the framework's generated module is the installed package's own: never rewritten.
  const inRepo = existsSync(join(root, FRAMEWORK_UNITS, 'src'));
  const targets: ArtifactsTarget[] = inRepo ? [{ owner: 'framework', path: ARTIFACTS_PATH, sources: framework, hashed: framework, prefix: FRAMEWORK_UNITS }] : [];
  for (const dir of appDirs ?? contractApps(root).map((a) => join(root, 'apps', a))) {
    const own = appSources(dir);
    if (!Object.keys(own).length) continue;
    const app = basename(resolve(dir));
    const inRepo = resolve(dir) === resolve(root, 'apps', app);
    targets.push({ owner: app, path: inRepo ? appArtifactsPath(app) : join(resolve(dir), 'generated/artifacts.ts'), sources: own, hashed: { ...framework, ...own }, prefix: `apps/${app}/` });
  }
  return targets;
}

/** Repo-relative path of an app's generated artifacts module: `apps/<app>/generated/artifacts.ts`. */
export function appArtifactsPath(app: string): string {
  return `apps/${app}/generated/artifacts.ts`;
}

/** Every Solidity source, framework and apps: repo-relative path -> content, sorted by path. */
export function collectSources(root: string = REPO_ROOT): Record<string, string> {
  const all: Record<string, string> = {};
  for (const t of artifactTargets(root)) Object.assign(all, t.hashed);
  return Object.fromEntries(Object.keys(all).sort().map((p) => [p, all[p]!]));
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
    const file = sourceFile(root, path);
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
export function renderArtifacts(r: CompileResult, prefix?: string): string {
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
    if (prefix !== undefined && !c.sourceName.startsWith(prefix)) continue;
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

/**
 * The installed solc's full version without loading the compiler (seconds of start-up) when a generated file
 * records it: the recorded `solcVersion` if it belongs to the installed npm `solc` (same release), else the
 * compiler's own answer.
 */
function installedSolcVersion(root: string, path: string): string {
  const file = resolve(root, path);
  const recorded = existsSync(file) ? /export const solcVersion = '([^']+)'/.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
  const release = (require('solc/package.json') as { version: string }).version;
  return recorded?.startsWith(`${release}+`) ? recorded : solc().version();
}

/** Reads the sourcesHash recorded in a generated file (default the framework's), or null if missing/unparseable. */
export function recordedSourcesHash(root: string = REPO_ROOT, path: string = ARTIFACTS_PATH): string | null {
  const file = resolve(root, path);
  if (!existsSync(file)) return null;
  const m = /export const sourcesHash = '(0x[0-9a-f]{64})'/.exec(readFileSync(file, 'utf8'));
  return m ? m[1] : null;
}

/**
 * Compiles the contracts and writes each generated module (artifactTargets) whose recorded sourcesHash is not
 * current. Prints progress with `log` (default console.log). Throws ContractsCompileError on compile errors, before
 * writing that target (a failed build leaves its generated file alone).
 * `apps`: build only these app folders (absolute, anywhere) besides the framework; default every app of the repo.
 * @returns whether anything compiled, and the result per compiled owner ('framework' or the app's folder name).
 */
export async function buildContracts(opts: { root?: string; force?: boolean; log?: (msg: string) => void; apps?: readonly string[] } = {}): Promise<{ compiled: boolean; results?: Record<string, CompileResult> }> {
  const root = opts.root ?? REPO_ROOT;
  const log = opts.log ?? ((m: string) => console.log(m));
  const results: Record<string, CompileResult> = {};
  for (const t of artifactTargets(root, opts.apps)) {
    if (!opts.force && recordedSourcesHash(root, t.path) === hashSources(t.hashed, installedSolcVersion(root, t.path))) continue;
    const t0 = performance.now();
    log(`contracts (${t.owner}): compiling ${Object.keys(t.sources).length} sources…`);
    const compiled = compileContracts(t.sources, root);
    // The record hashes everything the output depends on (an app's contracts inherit the framework's).
    const result = { ...compiled, sourcesHash: hashSources(t.hashed, compiled.solcVersion) };
    for (const w of result.warnings) log(w);
    const file = resolve(root, t.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, renderArtifacts(result, t.prefix));
    const kept = Object.values(result.contracts).filter((c) => c.sourceName.startsWith(t.prefix)).length;
    log(`contracts (${t.owner}): ${kept} contracts in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${t.path}`);
    results[t.owner] = result;
  }
  if (!Object.keys(results).length) {
    log('contracts: up to date');
    return { compiled: false };
  }
  return { compiled: true, results };
}
