#!/usr/bin/env node
import { Command, CommanderError } from 'commander';

/**
 * The top-level commands: name, the one-line description `geode --help` lists, and the module that registers the
 * command. A command's module (and with it viem, the devnet, the attestation verifiers...) is loaded only when that
 * command runs, so `geode --version` and `geode --help` parse this table and commander only (docs/cli.md#startup).
 * packages/cli/test/startup.test.ts checks each summary equals the description the module registers.
 */
export const COMMANDS: readonly { name: string; summary: string; register: (program: Command) => Promise<void> }[] = [
  { name: 'demo', summary: 'Run the main job on the embedded devnet: deploy, attest, and run all four private computation types with five identities', register: async (p) => (await import('./commands/demo.ts')).registerDemoCommand(p) },
  { name: 'dev', summary: 'Start the embedded devnet, deploy the computations app, start the enclave and the host, and keep them running', register: async (p) => (await import('./commands/dev.ts')).registerDevCommand(p) },
  { name: 'identity', summary: 'Create and list local identities (an account key and an output key under an easy name)', register: async (p) => (await import('./commands/identity.ts')).registerIdentityCommands(p) },
  { name: 'computation', summary: 'Create computations, submit private values, and get results', register: async (p) => (await import('./commands/computation.ts')).registerComputationCommands(p) },
  { name: 'attest', summary: 'Verify or inspect TEE evidence (Intel SGX/TDX DCAP quotes, AMD SEV-SNP reports, AWS Nitro documents)', register: async (p) => (await import('./commands/attest.ts')).registerAttestCommands(p) },
  { name: 'lightclient', summary: "Run the enclave's Ethereum light client on Beacon API and JSON-RPC data", register: async (p) => (await import('./commands/lightclient.ts')).registerLightClientCommands(p) },
  { name: 'enclave', summary: 'Build enclave bundles for a TEE', register: async (p) => (await import('./commands/enclave.ts')).registerEnclaveCommands(p) },
];

/** The command `argv` (process.argv shape: node, script, ...args) runs or asks help for (`geode help <name>`), if any. */
function commandOf(argv: readonly string[]): string | undefined {
  const operands = argv.slice(2).filter((a) => !a.startsWith('-'));
  return operands[0] === 'help' ? operands[1] : operands[0];
}

/**
 * Build the `geode` command tree. With `argv` (process.argv shape), only the command it names is loaded; every other
 * command (all of them for `--help`, `--version` or an unknown name) is a stub carrying its summary, so help lists
 * every command without loading any. Without `argv`, every command is loaded (tests inspect the full tree).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('geode')
    .description('Geode: confidential applications on TEE enclaves, gated by smart contracts and light-client proofs')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const wanted = argv ? commandOf(argv) : undefined;
  for (const c of COMMANDS) {
    if (!argv || c.name === wanted) await c.register(program);
    else program.command(c.name).description(c.summary).helpOption(false).allowUnknownOption().allowExcessArguments();
  }
  return program;
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
