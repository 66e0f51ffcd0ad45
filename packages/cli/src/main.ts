#!/usr/bin/env node
import { Command, CommanderError } from 'commander';

/**
 * The top-level commands: name, the one-line description `geode --help` lists, and the module that registers the
 * command. A command's module (and with it viem, the devnet, the attestation verifiers...) is loaded only when that
 * command runs, so `geode --version` and `geode --help` parse this table and commander only (docs/cli.md#startup).
 * packages/cli/test/startup.test.ts checks each summary equals the description the module registers.
 */
export const COMMANDS: readonly { name: string; summary: string; register: (program: Command) => Promise<void> }[] = [
  { name: 'demo', summary: "Run an app's demo scenario on the embedded devnet: deploy, attest, and run it end to end (default app: the repository's geode.defaultApp; --app <dir> for another)", register: async (p) => (await import('./commands/demo.ts')).registerDemoCommand(p) },
  { name: 'dev', summary: "Start the embedded devnet, deploy an app (--app <dir>, default the repository's geode.defaultApp), start the enclave and the host, and keep them running", register: async (p) => (await import('./commands/dev.ts')).registerDevCommand(p) },
  { name: 'identity', summary: 'Create and list local identities (an account key and an output key under an easy name)', register: async (p) => (await import('./commands/identity.ts')).registerIdentityCommands(p) },
  { name: 'attest', summary: 'Verify or inspect TEE evidence (Intel SGX/TDX DCAP quotes, AMD SEV-SNP reports, AWS Nitro documents)', register: async (p) => (await import('./commands/attest.ts')).registerAttestCommands(p) },
  { name: 'lightclient', summary: "Run the enclave's Ethereum light client on Beacon API and JSON-RPC data", register: async (p) => (await import('./commands/lightclient.ts')).registerLightClientCommands(p) },
  { name: 'enclave', summary: 'Build enclave bundles for a TEE; start an enclave and host for a deployment', register: async (p) => (await import('./commands/enclave.ts')).registerEnclaveCommands(p) },
  { name: 'init', summary: 'Scaffold a minimal working app: contract, enclave handlers, declaration and errors, commands, a demo scenario and tests', register: async (p) => (await import('./commands/init.ts')).registerInitCommand(p) },
  // One module registers the steps and rotate; buildProgram skips the entries its first registration already added.
  { name: 'deploy', summary: 'Deploy an app (--app <dir>) to an EVM endpoint: build its contract and enclave bundle, deploy the verifier and the app contract, write <data-dir>/deployment.json', register: async (p) => (await import('./commands/steps.ts')).registerStepCommands(p) },
  { name: 'handshake', summary: 'Run the session handshake through the running `geode enclave start` of --data-dir; the host then relays batches', register: async (p) => (await import('./commands/steps.ts')).registerStepCommands(p) },
  { name: 'status', summary: 'Session (attested measurement and verdict), committedSeq against requestCount, enclave and host health: of --data-dir, else of the running `geode dev`', register: async (p) => (await import('./commands/steps.ts')).registerStepCommands(p) },
  { name: 'rotate', summary: "Rotate the request key to a new epoch (the admin's GeodeCore.requestRotation) of --data-dir, else of the running `geode dev`; --wait until it is committed, --every <n> for a schedule", register: async (p) => (await import('./commands/steps.ts')).registerStepCommands(p) },
];

/** The command `argv` (process.argv shape: node, script, ...args) runs or asks help for (`geode help <name>`), if any. */
function commandOf(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  // `--app <dir>` (a global option) takes a value that is not a command name.
  const operands = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '--app');
  return operands[0] === 'help' ? operands[1] : operands[0];
}

/**
 * Build the `geode` command tree. With `argv` (process.argv shape), only the command it names is loaded; every other
 * command (all of them for `--help`, `--version` or an unknown name) is a stub carrying its summary, so help lists
 * every command without loading any. App commands (the app's client module registerCommands) are added for help,
 * for a name the table lacks, and without `argv`. Without `argv`, every command is loaded (tests inspect the full tree).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('geode')
    .description('Geode: confidential applications on TEE enclaves, gated by smart contracts and light-client proofs')
    .version('0.1.0')
    .option('--app <dir>', "the app folder (its package.json \"geode\" manifest): which app `dev`, `demo` and `deploy` run and whose commands are available (default: the app the running `geode dev` runs, else every app in the repository's apps/)")
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const wanted = argv ? commandOf(argv) : undefined;
  const has = (name: string) => program.commands.some((x) => x.name() === name);
  // Loaded commands first, then stubs for the rest: one module may register several entries (the steps).
  for (const c of COMMANDS) if ((!argv || c.name === wanted) && !has(c.name)) await c.register(program);
  for (const c of COMMANDS) if (!has(c.name)) program.command(c.name).description(c.summary).helpOption(false).allowUnknownOption().allowExcessArguments();
  // App commands: for help, their manifest's summaries (no app code); the named one, from its app's client module.
  // A broken app must not take the framework's commands down with it: say why, once.
  const versionOnly = argv !== undefined && argv.slice(2).some((a) => a === '--version' || a === '-V');
  if (!versionOnly && (wanted === undefined || !COMMANDS.some((c) => c.name === wanted))) {
    await registerAppCommands(program, argv, wanted).catch((e: unknown) => { console.error(`geode: the app's commands are not available: ${e instanceof Error ? e.message : String(e)}`); });
  }
  return program;
}

/**
 * Add the commands apps contribute (their client module's registerCommands, docs/apps.md#client-module). Which
 * apps: `--app <dir>` in argv; else the app of the running `geode dev` (dev.json's `app` in --home / GEODE_HOME /
 * ./.geode); else every app in the repository's apps/ folder (a command name already taken is skipped).
 *
 * A command an app declares in its manifest (`geode.commands`) is a stub carrying the declared summary unless it is
 * the `wanted` one: then only the app declaring it is loaded (docs/cli.md#startup). An app that declares nothing is
 * loaded (help needs its names). Without `argv` every app is loaded (the full tree, for tests).
 */
async function registerAppCommands(program: Command, argv: readonly string[] | undefined, wanted: string | undefined): Promise<void> {
  const { REPO_ROOT, homeDir, devAppOf, appDirs, declaredCommands } = await import('./app-listing.ts');
  const { resolve } = await import('node:path');
  const args = argv ?? process.argv;
  const flag = (name: string) => {
    const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
    if (i < 0) return undefined;
    return args[i]!.includes('=') ? args[i]!.slice(name.length + 1) : args[i + 1];
  };
  const explicit = flag('--app') ?? devAppOf(homeDir(flag('--home')));
  const listed = (explicit ? [resolve(explicit)] : appDirs(REPO_ROOT)).map((dir) => ({ dir, declared: declaredCommands(dir) }));
  const declaresWanted = listed.some((a) => a.declared?.some((c) => c.name === wanted));
  const taken = (name: string) => program.commands.some((x) => x.name() === name);
  let apps: typeof import('./apps.ts') | undefined;
  for (const { dir, declared } of listed) {
    const load = argv === undefined || (declared === undefined ? !declaresWanted : declared.some((c) => c.name === wanted));
    if (!load) {
      for (const c of declared ?? []) if (!taken(c.name)) program.command(c.name).description(c.summary).helpOption(false).allowUnknownOption().allowExcessArguments();
      continue;
    }
    apps ??= await import('./apps.ts');
    const app = apps.loadApp(dir, REPO_ROOT);
    const client = await apps.appClient(app);
    if (!client.registerCommands) continue;
    const probe = new Command('geode');
    client.registerCommands(probe);
    if (wanted !== undefined && declared?.some((c) => c.name === wanted) && !probe.commands.some((c) => c.name() === wanted)) {
      const { CliAppError } = await import('./errors.ts');
      throw new CliAppError(`${app.dir}/package.json declares the command "${wanted}" in "geode.commands" but its client module does not register it: make the manifest list what registerCommands adds`);
    }
    for (const c of probe.commands) if (!taken(c.name())) program.addCommand(c);
  }
}

/** Parse `argv` (process.argv shape) and run the command. Sets process.exitCode: 0 ok, 1 failure, 2 usage error. */
export async function run(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
    } else {
      console.error(e);
      process.exitCode = 1;
    }
  }
}

const invoked = process.argv[1] ?? '';
if (invoked.endsWith('packages/cli/src/main.ts') || invoked.endsWith('cli/src/main.ts')) await run(process.argv);
