/**
 * `@geode/cli/app-kit`: what an app's client module (its package.json "geode.client", docs/apps.md#client-module)
 * builds on to contribute CLI commands and a demo scenario, and the shape the CLI expects it to export.
 *
 * Untrusted code only: an app's enclave side never imports this (the boundary test enforces it).
 */
import type { Command } from 'commander';
import type { GeodeClient, Identity, TrustedSession } from '@geode/client';
import type { DevStack } from './stack.ts';
import type { Reporter } from './output.ts';

export { fail, reporter, docsLink, type Reporter } from './output.ts';
export { homeDir, identityStore, readDevInfo, type DevInfo } from './home.ts';
export { connect, requireFunded, type Connection } from './connect.ts';
export { CliArgumentError, CliTimeoutError } from './errors.ts';

/** What `geode demo --app <dir>` hands the app's scenario, after the framework's part is done. */
export interface AppDemoContext {
  /** The running stack: devnet (or --rpc chain), the app's deployment, the enclave process and the host. */
  readonly stack: DevStack;
  /** The enclave session the demo verified (attestation against the sim policy) and the clients trust. */
  readonly session: TrustedSession;
  /** The demo identities (AppDemo.identities), deterministic keys from their names, funded on the devnet. */
  readonly identities: Readonly<Record<string, Identity>>;
  /** One client per identity, each with its output key already registered. */
  readonly clients: Readonly<Record<string, GeodeClient>>;
  /** Requests the framework sent before the scenario (one output-key registration per identity). */
  readonly requests: number;
  /** The enclave's light client: the devnet's block signer, Ethereum's sync committee, or none (trusted RPC). */
  readonly lightClient: 'devnet' | 'ethereum' | 'trusted-rpc';
  /** The demo identity's name for an address (case-insensitive), or the address itself. */
  nameOf(address: string): string;
  /** Milliseconds since the demo started (before the stack started). */
  elapsedMs(): number;
  /** Progress lines (stderr) and human output (stdout unless --json). */
  readonly rep: Reporter;
}

/** An app's demo scenario: `geode demo --app <dir>` prints `{"ok": true, ...run()}` as its final JSON line. */
export interface AppDemo {
  /** Names of the demo identities (e.g. ['alice', 'bob']): 1-16 distinct lower-case names. */
  readonly identities: readonly string[];
  /** Run the scenario; resolve with the result fields (JSON-serializable). Throw to fail the demo. */
  run(ctx: AppDemoContext): Promise<Record<string, unknown>>;
}

/**
 * `geode demo --app <appDir>` as a function, for an app's end-to-end tests: resolves with `{ ok: true, ...}` (the
 * scenario's fields) or throws what the demo throws (CLI_BAD_APP, the scenario's errors). `opts` are the --rpc
 * options of `geode demo`. Loads the stack code only when called.
 */
export async function runAppDemo(appDir: string, rep: Reporter, opts: import('./stack.ts').RpcCliOptions = {}): Promise<{ ok: true } & Record<string, unknown>> {
  const [{ runDemo }, { loadApp, REPO_ROOT }] = await Promise.all([import('./commands/demo.ts'), import('./apps.ts')]);
  return runDemo(rep, { ...opts, app: loadApp(appDir, REPO_ROOT) });
}

/** The exports the CLI reads from an app's client module (at least one of the two). */
export interface AppClientModule {
  /** Add the app's commands (e.g. `geode computation …`) to the CLI's program. */
  registerCommands?(program: Command): void;
  /** The app's end-to-end scenario for `geode demo --app`. */
  demo?: AppDemo;
}

// An app's own scenarios and tests locate the app folder and start a local dev stack for it.
export { loadApp, REPO_ROOT, type GeodeApp } from './apps.ts';
export type { DevStack, DevStackOptions } from './stack.ts';

/**
 * startDevStack (packages/cli/src/stack.ts), loaded when called: an app's commands, which import this kit, then
 * start without the devnet, host and build code (docs/cli.md#startup). Same options, result and errors.
 */
export async function startDevStack(o: import('./stack.ts').DevStackOptions = {}): Promise<DevStack> {
  return (await import('./stack.ts')).startDevStack(o);
}
