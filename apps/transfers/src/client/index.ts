/**
 * The transfers app's client tooling (not trusted code): a per-user client over @geode/client and the demo scenario
 * run on a dev stack. Separate from the package entry (../index.ts) because it depends on the CLI's dev stack.
 */
export * from './transfers-client.ts';
export * from './demo.ts';
