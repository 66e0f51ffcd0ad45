/**
 * `@geode/testing/stack` — a dev stack for an app's end-to-end tests (docs/apps.md#testing): the embedded devnet,
 * the app's contract deployed, its enclave process (simulated TEE) attested and running, the host relaying, then
 * one verified client per test identity with its output key registered. Composes the CLI's dev stack
 * (`startDevStack` of @geode/cli/app-kit, what `geode dev` and `geode demo` run) and @geode/client; adds nothing to
 * what they check.
 *
 * Untrusted code: an app's enclave side never imports it.
 */
import { keccak256, toBytes } from 'viem';
import pino, { type Logger } from 'pino';
import { createIdentity, GeodeClient, verifyActiveSession, type Identity, type TrustedSession } from '@geode/client';
import { loadApp, REPO_ROOT, startDevStack, type DevStack, type GeodeApp } from '@geode/cli/app-kit';

/** Options of {@link startAppStack}. */
export interface AppStackOptions {
  /** Names of the test identities, each funded at genesis and given a client. Default ['alice', 'bob']. */
  identities?: readonly string[];
  /** Register each identity's output key before returning (default true: the enclave can then answer it). */
  registerOutputKeys?: boolean;
  /** Verification time of the session's attestation (Unix seconds). Default: now. */
  now?: number;
  /** Logger of the host and enclave (default pino at level 'warn'). */
  logger?: Logger;
  /** Progress callback for the long steps (compile, bundle, deploy, handshake). */
  progress?: (step: string) => void;
}

/** A running app stack (see the module doc). Call `stop()` in a `finally` (or `after`). */
export interface AppStack {
  /** The app (its folder's package.json "geode" manifest). */
  readonly app: GeodeApp;
  /** The CLI's dev stack underneath: devnet, chain access, deployment, enclave process, host. */
  readonly stack: DevStack;
  /** The enclave session every client verified (attestation against the sim policy, key binding). */
  readonly session: TrustedSession;
  /** The identities by name: deterministic keys from the name ("geode-testing:<name>"). */
  readonly identities: Readonly<Record<string, Identity>>;
  /** One client per identity (submit, waitForOutputs, readOutputs). */
  readonly clients: Readonly<Record<string, GeodeClient>>;
  /** The deployment's first block: where output scans start (`waitForOutputs(seq, { fromBlock })`). */
  readonly fromBlock: bigint;
  /** Stop the host, the enclave process and the devnet, and remove the temporary data directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Start a dev stack for the app in `appDir` (absolute, or relative to the working directory): compiles its contract
 * and bundles its enclave when stale, deploys, attests, and returns typed clients. Throws CliAppError (CLI_BAD_APP)
 * for a folder that is not an app, the compile/bundle errors, or the session's verification error (ATTEST_*,
 * POLICY_*); stops whatever it started before throwing.
 */
export async function startAppStack(appDir: string, o: AppStackOptions = {}): Promise<AppStack> {
  const app = loadApp(appDir, REPO_ROOT);
  const names = o.identities ?? ['alice', 'bob'];
  const identities: Record<string, Identity> = {};
  for (const n of names) identities[n] = await createIdentity(n, toBytes(keccak256(toBytes(`geode-testing:${n}`))));
  const stack = await startDevStack({
    app, fund: names.map((n) => identities[n]!.address), logger: o.logger ?? pino({ level: 'warn' }),
    ...(o.progress ? { progress: o.progress } : {}), ...(o.now === undefined ? {} : { now: o.now }),
  });
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= stack.stop());
  try {
    const session = await verifyActiveSession({
      publicClient: stack.chain.publicClient, chainId: stack.chain.chainId, contract: stack.deployment.contract,
      collateral: stack.pki.collateral(), rootCaDer: stack.pki.rootCaDer, policy: stack.policy,
      now: o.now ?? Math.floor(Date.now() / 1000), allowTrustedRpc: stack.trustedRpc,
    });
    const clients: Record<string, GeodeClient> = {};
    for (const n of names) {
      clients[n] = new GeodeClient({ publicClient: stack.chain.publicClient, wallet: stack.chain.wallet, chainId: stack.chain.chainId, contract: stack.deployment.contract, identity: identities[n]!, session });
      if (o.registerOutputKeys ?? true) await clients[n].registerOutputKey();
    }
    return { app, stack, session, identities, clients, fromBlock: stack.deployment.fromBlock, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
