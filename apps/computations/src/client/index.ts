/**
 * The computations app's client module (package.json "geode.client", docs/apps.md#client-module): the commands it
 * adds to the CLI (`geode computation …`), its demo scenario (`geode demo`), and its client API.
 * Untrusted code: the enclave side (../enclave/) never imports it.
 */
export { registerComputationCommands as registerCommands } from './commands.ts';
export { demo, type DemoResult } from './demo.ts';
export * from './api.ts';
