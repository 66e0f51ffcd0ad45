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
  ]);
  for (const r of extra) if (r.status === 'rejected' && process.env.GEODE_DEBUG) console.error(r.reason);
  return program;
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').slice(-3).join('/'));
if (isMain) {
  const program = await buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
    } else {
      console.error(e);
      process.exitCode = 1;
    }
  }
}
