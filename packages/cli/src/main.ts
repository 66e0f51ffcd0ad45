#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerDemoCommand } from './commands/demo.ts';

/**
 * Build the `geode` command tree for `argv` (process.argv shape; it decides which app's commands are added, see
 * registerAppCommands). Exported for tests.
 */
export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('geode')
    .description('Geode: confidential applications on TEE enclaves, gated by smart contracts and light-client proofs')
    .version('0.1.0')
    .option('--app <dir>', "the app folder (its package.json \"geode\" manifest): which app `dev`, `demo` and `deploy` run and whose commands are available (default: the app the running `geode dev` runs, else every app in the repository's apps/)")
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDemoCommand(program);
  const extra = await Promise.allSettled([
    import('./commands/dev.ts').then((m) => m.registerDevCommand(program)),
    import('./commands/identity.ts').then((m) => m.registerIdentityCommands(program)),
    import('./commands/attest.ts').then((m) => m.registerAttestCommands(program)),
    import('./commands/lightclient.ts').then((m) => m.registerLightClientCommands(program)),
    import('./commands/enclave.ts').then((m) => m.registerEnclaveCommands(program)),
    import('./commands/init.ts').then((m) => m.registerInitCommand(program)),
    import('./commands/steps.ts').then((m) => m.registerStepCommands(program)),
  ]);
  for (const r of extra) if (r.status === 'rejected' && process.env.GEODE_DEBUG) console.error(r.reason);
  // A broken app must not take the framework's commands down with it: say why its commands are missing, once.
  await registerAppCommands(program, argv).catch((e: unknown) => { console.error(`geode: the app's commands are not available: ${e instanceof Error ? e.message : String(e)}`); });
  return program;
}

/**
 * Add the commands an app contributes (its client module's registerCommands, docs/apps.md#client-module). Which
 * app: `--app <dir>` in argv; else the app of the running `geode dev` (dev.json's `app` in --home / GEODE_HOME /
 * ./.geode); else every app in the repository's apps/ folder (a command name already taken is skipped).
 */
async function registerAppCommands(program: Command, argv: string[]): Promise<void> {
  const { REPO_ROOT, loadApp, discoverApps, appClient } = await import('./apps.ts');
  const { homeDir, devAppOf } = await import('./home.ts');
  const flag = (name: string) => {
    const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
    if (i < 0) return undefined;
    return argv[i]!.includes('=') ? argv[i]!.slice(name.length + 1) : argv[i + 1];
  };
  const explicit = flag('--app') ?? devAppOf(homeDir(flag('--home')));
  const apps = explicit ? [loadApp(explicit, REPO_ROOT)] : discoverApps(REPO_ROOT);
  for (const app of apps) {
    const client = await appClient(app);
    if (!client.registerCommands) continue;
    const probe = new Command('geode');
    client.registerCommands(probe);
    for (const c of probe.commands) {
      if (program.commands.some((x) => x.name() === c.name())) continue; // another app (or the framework) has it
      program.addCommand(c);
    }
  }
}

/** Parse `argv` (process.argv shape) and run the command. Sets process.exitCode: 0 ok, 1 failure, 2 usage error. */
export async function run(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
  try {
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
