import { chmodSync, closeSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hexToBytes, type Hex } from 'viem';
import { EnclaveError } from './errors.ts';
import { sealDir } from './seal.ts';
import type { SessionKeys } from './keys.ts';
import { SqliteBackend } from './store/sqlite-backend.ts';
import { StateStore, type StoreVersion } from './store/store.ts';

/**
 * The enclave's state database per key lineage (docs/enclave.md#store-lineage): one SQLite file per key material,
 * `state-<keyId as 64 lowercase hex>.db` in the data directory, holding a StateStore whose records are sealed under
 * SessionKeys.stateSealingKey(measurement, configHash) with storeId = keyId (32 bytes). Another instance holding the
 * same keys, build and config derives the same key and opens the same file; other keys cannot. The database is held
 * exclusively while open (one enclave process per data directory; reads change no file).
 */

/** File name of the state database of key lineage `keyId` (0x bytes32). */
export const stateDbName = (keyId: Hex): string => `state-${keyId.slice(2).toLowerCase()}.db`;

const DB_RE = /^state-([0-9a-f]{64})\.db$/;

/**
 * Versions kept: the newest KEEP_VERSIONS committed roots, plus the root the chain proved as committed (the batch's
 * base) whatever its age. An older version the chain proves can then still be checked out (a commitment that did
 * not land, a host that restarted from an earlier block).
 */
export const KEEP_VERSIONS = 4;

/**
 * Open (creating if absent) the state store of `keys` in `dataDir`. Throws ENCLAVE_SEAL_IO if the database cannot
 * be opened, ENCLAVE_SEAL_CORRUPT if it belongs to another store or sealing key.
 */
export function openLineageStore(dataDir: string, keys: SessionKeys, measurement: Uint8Array, configHash: Uint8Array): StateStore {
  sealDir(dataDir);
  const file = join(dataDir, stateDbName(keys.keyId));
  privateFile(file);
  const backend = new SqliteBackend(file, { exclusive: true });
  try {
    return StateStore.open({ backend, sealingKey: keys.stateSealingKey(measurement, configHash), storeId: hexToBytes(keys.keyId) });
  } catch (e) {
    backend.close();
    throw e;
  }
}

/**
 * Create `file` empty with mode 0600 if absent, else make it 0600 (docs/security.md#secrets-on-disk: private files
 * in a private directory). SQLite gives its -wal file the database file's mode. Throws ENCLAVE_SEAL_IO.
 */
function privateFile(file: string): void {
  // Only a regular file: opening a FIFO the host planted would block the whole process, a device or a symlink is
  // not the enclave's database.
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (st && !st.isFile()) throw new EnclaveError('ENCLAVE_SEAL_IO', `The state database ${file} is not a regular file (a directory, FIFO, device or symlink); the enclave will not open it. Remove it (the state is then restored from a backup or the chain) and restart.`);
  try {
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  } catch (e) {
    throw new EnclaveError('ENCLAVE_SEAL_IO', `Could not create the state database ${file}: ${(e as Error).message}. Check the data directory's permissions and free space.`, { cause: e });
  }
}

/** keyIds (0x bytes32) of the state databases in `dataDir` other than `ours`'s (states of other key material). */
export function otherLineages(dataDir: string, ours: Hex): Hex[] {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return [];
  }
  const out: Hex[] = [];
  for (const f of names) {
    const m = DB_RE.exec(f);
    if (m && `0x${m[1]}` !== ours.toLowerCase()) out.push(`0x${m[1]}` as Hex);
  }
  return out.sort();
}

/**
 * The versions to drop when committing a batch on the proven root `base` while `current` is checked out: all but
 * the newest KEEP_VERSIONS - 1 others (with the new root that makes at least KEEP_VERSIONS), never `current` or
 * `base`. `versions` newest first (StateStore.versions). The new root's own record is never dropped (StateStore.commit).
 */
export function versionsToDrop(versions: readonly StoreVersion[], current: Hex, base: Hex): Hex[] {
  const others = versions.filter((v) => v.root !== current && v.root !== base);
  return others.slice(KEEP_VERSIONS - 1).map((v) => v.root);
}
