/**
 * @geode/cli as a library: the `geode` command line (`run`, docs/cli.md) and the local dev stack it starts
 * (`startDevStack`: embedded devnet + deployed app + enclave process + host), which end-to-end tests drive
 * directly, plus the computations app's request helpers the CLI commands use.
 *
 * The `geode` executable itself runs from the prebuilt bundle (packages/cli/dist/bin/geode.mjs, `npm run build`),
 * not from this entry.
 */
export { run, buildProgram } from './main.ts';
export { startDevStack, ensureEnclaveBundle, simPolicy, ENCLAVE_BUNDLE, type DevStack, type DevStackOptions } from './stack.ts';
export { createComputation, creationVerdict, decodeAppOutput, sendRequest, type AppOutput, type CreationVerdict } from './app.ts';
