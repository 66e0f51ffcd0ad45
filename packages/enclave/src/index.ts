/**
 * @geode/enclave — the trusted enclave runtime (docs/enclave.md). Trusted code: imports only @geode/protocol,
 * @geode/attestation's pure parsers and sim quote builder, node builtins and pure crypto/encoding libraries (test/boundary.test.ts).
 * The bundler (./build.ts) is not part of the enclave bundle and is exported from '@geode/enclave/build'; the Ethereum
 * (beacon chain) light client from '@geode/enclave/ethereum'.
 */
export type { EnclaveApp, HandlerContext } from './app.ts';
export { defineApp, type AppContext, type AppHandlers, type Collections } from './define-app.ts';
export * from './errors.ts';
export { runEnclave, type RunEnclaveOptions } from './main.ts';
export { EnclaveRuntime, type RuntimeOptions } from './runtime.ts';
export { serveStreams, toWireError, type Handler, type ResponseBody } from './server.ts';
export { FRAMEWORK_NAMESPACE, type FrameworkState } from './state.ts';
export { KEEP_VERSIONS, stateDbName } from './lineage.ts';
export { TypedStore, REQUEST_WRITES_MAX, type KvStore } from './store/kv.ts';
export type { KeyPart, DecodedKeyPart } from './store/key.ts';
export { SessionKeys, generateKeyMaterial, keyMaterialFrom, addressOfPublicKey, type KeyMaterial } from './keys.ts';
export { SealedStore, sealBytes, unsealBytes, KEYS_FILE } from './seal.ts';
export * from './lightclient/index.ts';
export * from './platform/platform.ts';
export { openConfigfsTsmPlatform, type ConfigfsTsmOptions } from './platform/configfs-tsm.ts';
export { openGraminePlatform, type GramineOptions } from './platform/gramine.ts';
export type { PlatformFiles } from './platform/files.ts';
export { devnetGate, ethereumGate, type HeaderGate } from './lightclient/gate.ts';
export { KEY_MAX_BYTES, encodeKey, decodeKey } from './store/key.ts';
export { SqliteBackend } from './store/sqlite-backend.ts';
export { StateStore, type StoreOptions, type StoreVersion } from './store/store.ts';
// The simulator is not re-exported here (hardware bundles must not contain it): runEnclave loads it only for a sim TEE.
