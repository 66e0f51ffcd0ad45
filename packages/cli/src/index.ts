/**
 * @geode/cli as a library: the `geode` command line (`run`, docs/cli.md) and the local dev stack it starts
 * (`startDevStack`: embedded devnet + deployed app + enclave process + host), which end-to-end tests drive
 * directly. An app's client side uses `@geode/cli/app-kit` (docs/apps.md#client-module).
 *
 * The `geode` executable itself runs from the prebuilt bundle (packages/cli/dist/bin/geode.mjs, `npm run build`),
 * not from this entry.
 */
export { run, buildProgram } from './main.ts';
export { startDevStack, ensureEnclaveBundle, simPolicy, type DevStack, type DevStackOptions } from './stack.ts';
export type { GeodeApp } from './apps.ts';
export { CliBackupError, generateRecoveryKey, parseBackup, parseRecoveryKey, restoreMessage, verifyNewcomerEvidence, type RecoveryKeyFile, type RestoreOptions } from './backup.ts';
