/** The enclave's state store (docs/enclave.md#store). */
export type { RecordBackend, WriteOptions } from './backend.ts';
export { KEY_MAX_BYTES, decodeKey, encodeKey, type DecodedKeyPart, type KeyPart } from './key.ts';
export { REQUEST_WRITES_MAX, StateBatch, TypedStore, type KvStore } from './kv.ts';
export { nativeAddon, type NativeAddon } from './native.ts';
export type { NodeCacheStats } from './node-db.ts';
export { SqliteBackend } from './sqlite-backend.ts';
export { StateStore, type StoreOptions, type StoreVersion } from './store.ts';
export { VALUE_MAX_BYTES, decodeValue, encodeValue } from './value.ts';
