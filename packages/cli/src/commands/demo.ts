import type { Command } from 'commander';
import { keccak256, toBytes } from 'viem';
import { createIdentity, GeodeClient, verifyActiveSession, type Identity, type TrustedSession } from '@geode/client';
import { REPO_ROOT, defaultApp, lightClientOption, rpcOption, startDevStack, withRpcOptions, type RpcCliOptions } from '../stack.ts';
import { appClient, loadApp, type GeodeApp } from '../apps.ts';
import { CliAppError, CliArgumentError } from '../errors.ts';
import { fail, reporter, type Reporter } from '../output.ts';
import { runFailoverDemo } from './demo-failover.ts';

/**
 * What the demo returns (and prints as its final JSON line with --json): `ok` and then the fields of the app's
 * scenario (AppDemo.run), whose shape is the app's (e.g. apps/computations/src/client/demo.ts DemoResult).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DemoResult = { ok: true } & Record<string, any>;

/** Demo identities: deterministic keys from their names (public knowledge, devnet only). */
async function demoIdentities(names: readonly string[]): Promise<Record<string, Identity>> {
  const out: Record<string, Identity> = {};
  for (const n of names) out[n] = await createIdentity(n, toBytes(keccak256(toBytes(`geode-demo:${n}`))));
  return out;
}

/**
 * Run `app`'s demo scenario (its client module's `demo`, docs/apps.md#client-module) on a fresh embedded devnet, or
 * on --rpc: start the stack with the demo identities funded, verify the enclave session against the sim policy,
 * register each identity's output key, then hand over to the scenario. Stops the stack whatever happens.
 * Throws CliAppError (the app has no demo), CLI_BAD_ARGUMENT (rpc options), or what the scenario throws.
 */
export async function runDemo(rep: Reporter, opts: RpcCliOptions & { app?: GeodeApp } = {}): Promise<DemoResult> {
  const rpc = rpcOption(opts);
  const lightClient = lightClientOption(opts.lightClient);
  const t0 = performance.now();
  const app = opts.app ?? defaultApp();
  const { demo } = await appClient(app);
  if (!demo) throw new CliAppError(`${app.clientModule} exports no demo scenario (\`export const demo: AppDemo\`)`);
  if (!demo.identities.length || demo.identities.length > 16 || new Set(demo.identities).size !== demo.identities.length || demo.identities.some((n) => !/^[a-z][a-z0-9-]{0,31}$/.test(n))) {
    throw new CliAppError(`${app.clientModule}: demo.identities must be 1-16 distinct lower-case names`);
  }
  const ids = await demoIdentities(demo.identities);
  const nameOf = (a: string) => demo.identities.find((n) => ids[n]!.address.toLowerCase() === a.toLowerCase()) ?? a;
  const stack = await startDevStack({ app, progress: rep.progress, logger: rep.logger, fund: demo.identities.map((n) => ids[n]!.address), rpc, lightClient });
  try {
    rep.progress('verifying the enclave attestation');
    const now = Math.floor(Date.now() / 1000);
    const session: TrustedSession = await verifyActiveSession({
      publicClient: stack.chain.publicClient, chainId: stack.chain.chainId, contract: stack.deployment.contract,
      collateral: stack.pki.collateral(), rootCaDer: stack.pki.rootCaDer, policy: stack.policy, now, allowTrustedRpc: stack.trustedRpc,
    });
    if (stack.beacon) rep.say('Light client: Ethereum sync committee over the devnet\'s Beacon API (the devnet holds every committee key: no security; the code path of a mainnet deployment).');
    if (session.trustedRpc) rep.say('WARNING: the enclave trusts its RPC node (--insecure-trusted-rpc): no light client protects it.');
    rep.say(`Attestation: ${session.verdict.teeType} quote, TCB ${session.verdict.status}, mr_enclave ${session.measurement.slice(2)}`);
    rep.say(`WARNING: trusting a SIMULATED TEE (policy allowSimulation: true) — no hardware protection.`);
    const clients: Record<string, GeodeClient> = {};
    for (const n of demo.identities) {
      clients[n] = new GeodeClient({ publicClient: stack.chain.publicClient, wallet: stack.chain.wallet, chainId: stack.chain.chainId, contract: stack.deployment.contract, identity: ids[n]!, session });
    }
    rep.progress('registering output keys');
    let requests = 0;
    for (const n of demo.identities) { await clients[n]!.registerOutputKey(); requests++; }
    const lc = stack.deployment.config.ethereumAnchor ? 'ethereum' : stack.trustedRpc ? 'trusted-rpc' : 'devnet';
    const result = await demo.run({ stack, session, identities: ids, clients, requests, lightClient: lc, nameOf, rep, elapsedMs: () => Math.round(performance.now() - t0) });
    // `ok` first in the JSON line (a reader scans for it), and always the framework's.
    return Object.assign({ ok: true }, result, { ok: true as const });
  } finally {
    await stack.stop();
  }
}

export function registerDemoCommand(program: Command): void {
  withRpcOptions(program
    .command('demo'))
    .description("Run an app's demo scenario on the embedded devnet: deploy, attest, and run it end to end (default app: the repository's geode.defaultApp; --app <dir> for another)")
    .option('--json', 'print one JSON line with the results instead of text')
    .option('-v, --verbose', 'log host and enclave activity to stderr')
    .option('--scenario <name>', 'main (default), or failover: handover between instances, the committing one killed (embedded devnet, computations app)', 'main')
    .action(async (opts: { json?: boolean; verbose?: boolean; scenario: string } & RpcCliOptions, cmd: Command) => {
      const rep = reporter(opts);
      try {
        if (opts.scenario !== 'main' && opts.scenario !== 'failover') throw new CliArgumentError(`--scenario must be main or failover, got "${opts.scenario}"`);
        if (opts.scenario === 'failover' && opts.rpc) throw new CliArgumentError('--scenario failover runs on the embedded devnet only; drop --rpc');
        const dir = (cmd.optsWithGlobals() as { app?: string }).app;
        rep.result(opts.scenario === 'failover' ? await runFailoverDemo(rep) : await runDemo(rep, { ...opts, app: dir ? loadApp(dir, REPO_ROOT) : undefined }));
      } catch (e) {
        fail(rep, e);
      }
    });
}
