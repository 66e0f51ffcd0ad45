/**
 * @geode/enclave — the trusted enclave runtime (docs/enclave.md). Trusted code: imports only @geode/protocol,
 * @geode/attestation's sim quote builder, node builtins and pure crypto/encoding libraries (test/boundary.test.ts).
 * The bundler (./build.ts) is not part of the enclave bundle and is exported from '@geode/enclave/build'.
 */
export type { EnclaveApp, HandlerContext } from './app.ts';
export * from './errors.ts';
export { runEnclave, type RunEnclaveOptions } from './main.ts';
export { EnclaveRuntime, type RuntimeOptions } from './runtime.ts';
export { serveStreams, toWireError, type Handler, type ResponseBody } from './server.ts';
export { stateRoot, emptyState, serializeState, deserializeState, type EnclaveState, type FrameworkState } from './state.ts';
export { SessionKeys, generateKeyMaterial, addressOfPublicKey, type KeyMaterial } from './keys.ts';
export { SealedStore, sealBytes, unsealBytes, deriveSimSealingKey, loadOrCreateSimPlatformSecret, stateFileName, KEYS_FILE, KEEP_STATE_FILES, SIM_PLATFORM_KEY_FILE } from './seal.ts';
export * from './lightclient/index.ts';
export type { Attestor } from './tee/attestor.ts';
export { createSimAttestor, measureFile, SIM_MR_SIGNER, SIM_PKI_FILE, type SimAttestorOptions } from './tee/sim.ts';
