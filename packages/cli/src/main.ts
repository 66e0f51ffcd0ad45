#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerDemoCommand } from './commands/demo.ts';

/** Build the `geode` command tree. Exported for tests. */
export async function buildProgram(): Promise<Command> {
  const program = new Command('geode')
    .description('Geode: confidential applications on TEE enclaves, gated by smart contracts and light-client proofs')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDemoCommand(program);
  const extra = await Promise.allSettled([
    import('./commands/dev.ts').then((m) => m.registerDevCommand(program)),
    import('./commands/identity.ts').then((m) => m.registerIdentityCommands(program)),
    import('./commands/computation.ts').then((m) => m.registerComputationCommands(program)),
    import('./commands/attest.ts').then((m) => m.registerAttestCommands(program)),
    import('./commands/lightclient.ts').then((m) => m.registerLightClientCommands(program)),
    import('./commands/enclave.ts').then((m) => m.registerEnclaveCommands(program)),
  ]);
  for (const r of extra) if (r.status === 'rejected' && process.env.GEODE_DEBUG) console.error(r.reason);
  return program;
}

/** Parse `argv` (process.argv shape) and run the command. Sets process.exitCode: 0 ok, 1 failure, 2 usage error. */
export async function run(argv: string[]): Promise<void> {
  const program = await buildProgram();
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
