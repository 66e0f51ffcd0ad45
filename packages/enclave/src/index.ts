/**
 * @geode/enclave — the trusted enclave runtime (docs/enclave.md). Trusted code: imports only @geode/protocol,
 * @geode/attestation's pure parsers and sim quote builder, node builtins and pure crypto/encoding libraries (test/boundary.test.ts).
 * The bundler (./build.ts) is not part of the enclave bundle and is exported from '@geode/enclave/build'.
 */
export type { EnclaveApp, HandlerContext } from './app.ts';
export { defineApp, type AppContext, type AppHandlers, type Collections, type StoreEnclaveApp, type StoreHandlerContext } from './define-app.ts';
export { jsonStateApp, jsonKvStore, type JsonKvState } from './store-bridge.ts';
export { TypedStore, type KvStore } from './store/kv.ts';
export * from './errors.ts';
export { runEnclave, type RunEnclaveOptions } from './main.ts';
export { EnclaveRuntime, type RuntimeOptions } from './runtime.ts';
export { serveStreams, toWireError, type Handler, type ResponseBody } from './server.ts';
export { stateRoot, emptyState, serializeState, deserializeState, type EnclaveState, type FrameworkState } from './state.ts';
export { SessionKeys, generateKeyMaterial, addressOfPublicKey, type KeyMaterial } from './keys.ts';
export { SealedStore, sealBytes, unsealBytes, stateFileName, KEYS_FILE, KEEP_STATE_FILES } from './seal.ts';
export * from './lightclient/index.ts';
export * from './platform/platform.ts';
export { openConfigfsTsmPlatform, type ConfigfsTsmOptions } from './platform/configfs-tsm.ts';
export { openGraminePlatform, type GramineOptions } from './platform/gramine.ts';
export type { PlatformFiles } from './platform/files.ts';
// The simulator is not re-exported here (hardware bundles must not contain it): import '@geode/enclave/platform/sim'.
