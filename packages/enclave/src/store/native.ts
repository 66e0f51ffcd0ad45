import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { EnclaveError } from '../errors.ts';

/**
 * The SQLite native addon (better-sqlite3's better_sqlite3.node) the store loads (docs/enclave.md#bundle).
 *
 * A native addon cannot be bundled, so the enclave bundle is built with the addon's SHA-256 as a constant
 * (GEODE_SQLITE_NATIVE_SHA256, set by build.ts) and the addon copied beside it. Before loading it the enclave hashes
 * the file and refuses any other binary: the measurement (SHA-256 of the bundle) therefore covers the exact native
 * code the enclave runs. Run from source (tests, tsx) there is no pinned hash: the addon is the one in
 * node_modules, and `nativeAddon().sha256` reports which.
 */
declare const GEODE_SQLITE_NATIVE_SHA256: string | undefined;

/** The loaded addon, its path and its SHA-256 (lowercase hex, no 0x). */
export interface NativeAddon {
  exports: object;
  path: string;
  sha256: string;
}

let loaded: NativeAddon | undefined;

/** Resolve, check and load the addon once per process. Throws ENCLAVE_STORE_NATIVE if the file is missing or is not the pinned one. */
export function nativeAddon(): NativeAddon {
  if (loaded) return loaded;
  const pinned = typeof GEODE_SQLITE_NATIVE_SHA256 === 'string' ? GEODE_SQLITE_NATIVE_SHA256 : undefined;
  const path = pinned
    ? fileURLToPath(new URL('./better_sqlite3.node', import.meta.url))
    : createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EnclaveError('ENCLAVE_STORE_NATIVE', `The SQLite addon ${path} could not be read: ${(e as Error).message}. Rebuild the enclave with npm run build (it copies the addon beside the bundle).`, { cause: e });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (pinned && sha256 !== pinned) {
    throw new EnclaveError('ENCLAVE_STORE_NATIVE', `The SQLite addon ${path} has SHA-256 ${sha256}, not the ${pinned} this enclave build was measured with. Restore the file from the same build (npm run build).`, { details: { path, sha256, expected: pinned } });
  }
  // Loaded from the bytes just hashed would be better still; Node can only dlopen a path (a real TEE measures the file itself: Gramine trusted files).
  const m = { exports: {} as object };
  process.dlopen(m, path);
  loaded = { exports: m.exports, path, sha256 };
  return loaded;
}
