/**
 * State snapshots (docs/protocol.md#snapshot): a newcomer that received the keys by handover starts from a copy of a
 * keyed instance's state at a committed root, instead of replaying the whole history (which it cannot do once an
 * epoch key was deleted, docs/protocol.md#rotation). The host only moves a file; what the newcomer adopts is decided
 * by the light client and the state root, never by the host.
 *
 * The file, `snapshot-<root as 64 lowercase hex>.db` in the data directory, is a StateStore database (SQLite, the
 * store's record format, docs/enclave.md#store) holding exactly the trie nodes reachable from `root` and ONE version
 * record (root), sealed under the *target* instance's state sealing key `SessionKeys.stateSealingKey(target
 * measurement, configHash)` with storeId = snapshotStoreId(keyId) (a snapshot is never mistaken for a live state
 * database, nor the reverse). Only a holder of the key material can write or read one; an exporter can write one for
 * any accepted measurement (a successor build) because it derives every measurement's state key from `statePrk`.
 *
 * Export (keyed instance), `stateExport {header, proof, measurement?}`:
 *   1. The header passes the light client (its trusted block does not move); the proof covers stateRoot,
 *      committedSeq and activeSessionId.
 *   2. The proven activeSessionId is this instance's session (ENCLAVE_SESSION_MISMATCH).
 *   3. The proven stateRoot is not zero (ENCLAVE_SNAPSHOT_NOT_COMMITTED: nothing committed, nothing to copy).
 *   4. The target measurement (default: its own) is one of the config's accepted measurements
 *      (ENCLAVE_HANDOVER_MEASUREMENT).
 *   5. Its store holds that root (ENCLAVE_STALE_STATE: follow the chain first), and the state there records this
 *      keyId and lastSeq = the proven committedSeq (ENCLAVE_SEQ_MISMATCH).
 *   6. It writes the pairs at the root into a fresh database under the target's key (StateStore.bulkLoadRaw, which
 *      refuses unless they give the root), then renames it into place. Its own state and root do not change.
 * Import (newcomer holding the keys), `stateImport {root, header, proof}`:
 *   1. The header passes the light client (its trusted block does not move); the proof covers stateRoot,
 *      committedSeq and activeSessionId; the proven session is its own (ENCLAVE_SESSION_MISMATCH).
 *   2. `root` is the proven stateRoot and not zero (ENCLAVE_SNAPSHOT_NOT_COMMITTED): only a committed state is adopted.
 *   3. The proven committedSeq is beyond its own lastSeq (ENCLAVE_SNAPSHOT_STALE): an import never moves it back.
 *   4. The file exists and is at most SNAPSHOT_MAX_BYTES (ENCLAVE_SNAPSHOT_INVALID, ENCLAVE_SNAPSHOT_TOO_LARGE).
 *   5. It opens under this instance's own state key and the snapshot store id, holds exactly one version, of `root`
 *      (ENCLAVE_SNAPSHOT_INVALID).
 *   6. Its pairs are loaded into the instance's own store and must give exactly `root` (the MPT root commits to every
 *      pair: a changed, dropped or added pair gives another root); every node read is authenticated and re-hashed, and
 *      a missing one (a truncated file) fails the load (ENCLAVE_SNAPSHOT_INVALID). Nothing is made reachable before
 *      the root matched.
 *   7. The state at `root` records this keyId and lastSeq = the proven committedSeq (ENCLAVE_SNAPSHOT_INVALID).
 *   8. The snapshot file is deleted; the instance's root is `root`, and its host follows the batches committed since.
 * Any refusal leaves the instance's keys, root and state as they were (a failed load leaves at most unreferenced
 * nodes in its database, as any failed batch does, docs/enclave.md#store-versions).
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, concat, hexToBytes, keccak256, numberToHex, toBytes, type Hex } from 'viem';
import { ROOT_ZERO, SLOT, slotKey, type GeodeConfig } from '@geode/protocol';
import { EnclaveError } from './errors.ts';
import type { SessionKeys } from './keys.ts';
import type { HeaderGate } from './lightclient/gate.ts';
import { verifyStorageProof } from './lightclient/index.ts';
import { readFramework, type FrameworkState } from './state.ts';
import { SqliteBackend } from './store/sqlite-backend.ts';
import { StateStore } from './store/store.ts';

/**
 * Largest snapshot file an import opens, bytes (64 GiB). The file is host-supplied; its cost to the newcomer is the
 * state it proves (only nodes reachable from the root are read), so the cap only bounds the disk a host can make it
 * look at.
 */
export const SNAPSHOT_MAX_BYTES = 64 * 2 ** 30;

/** File name of the snapshot of `root` (0x bytes32) in a data directory. */
export const snapshotFileName = (root: Hex): string => `snapshot-${root.slice(2).toLowerCase()}.db`;

/** Store id of the snapshots of key lineage `keyId`: keccak256("geode.state-snapshot.v1" (ASCII) || keyId (32 bytes)). */
export function snapshotStoreId(keyId: Hex): Uint8Array {
  return hexToBytes(keccak256(concat([toBytes('geode.state-snapshot.v1'), keyId])));
}

/** Storage keys both sides prove: stateRoot, committedSeq, activeSessionId. */
export const SNAPSHOT_PROOF_KEYS: readonly Hex[] = [slotKey(SLOT.stateRoot), slotKey(SLOT.committedSeq), slotKey(SLOT.activeSessionId)];

/** What the runtime lends a snapshot export or import. */
export interface SnapshotHost {
  config: GeodeConfig;
  configHash: Hex;
  /** This instance's measurement (32 bytes). */
  measurement: Uint8Array;
  gate: HeaderGate;
  dataDir: string;
  keys: SessionKeys;
  sessionId: bigint;
  store: StateStore;
  /** The checked-out root and the framework state at it. */
  root: Hex;
  framework: FrameworkState;
}

/** Params of both directions: the parsed protocol methods stateExport and stateImport. */
export interface SnapshotProofParams {
  header: Parameters<HeaderGate['verify']>[0];
  proof: Parameters<typeof verifyStorageProof>[1];
  beacon?: Parameters<HeaderGate['verify']>[1];
}

interface Proven { root: Hex; committedSeq: bigint; block: bigint }

/** Step 1 of both: header, proof, own session. Throws LC_*, ENCLAVE_SESSION_MISMATCH. */
async function proveCommitted(h: SnapshotHost, p: SnapshotProofParams): Promise<Proven> {
  const gated = h.gate.verify(p.header, p.beacon);
  const vals = await verifyStorageProof(gated.header.stateRoot, p.proof, h.config.contract, [...SNAPSHOT_PROOF_KEYS]);
  const get = (k: Hex): bigint => vals.get(k.toLowerCase() as Hex)!;
  const active = get(slotKey(SLOT.activeSessionId));
  if (active !== h.sessionId) {
    throw new EnclaveError('ENCLAVE_SESSION_MISMATCH', `The contract's active session is ${active}, this instance holds session ${h.sessionId}: a state snapshot moves only between instances of the active session.`, { details: { active: active.toString(), ours: h.sessionId.toString() } });
  }
  return { root: numberToHex(get(slotKey(SLOT.stateRoot)), { size: 32 }), committedSeq: get(slotKey(SLOT.committedSeq)), block: gated.header.number };
}

/** Framework state at the checked-out root of `store`. */
const frameworkOf = (store: StateStore): Promise<FrameworkState> => readFramework((k) => store.begin().read(k));

/**
 * Export steps 1–6 above. Returns the file name (in h.dataDir), the root and lastSeq it holds, the proven block, the
 * target measurement and the file size in bytes. Throws LC_*, ENCLAVE_SESSION_MISMATCH, ENCLAVE_SNAPSHOT_NOT_COMMITTED,
 * ENCLAVE_HANDOVER_MEASUREMENT, ENCLAVE_STALE_STATE, ENCLAVE_SEQ_MISMATCH, ENCLAVE_SEAL_IO.
 */
export async function exportSnapshot(h: SnapshotHost, p: SnapshotProofParams & { measurement?: string }): Promise<{ file: string; root: Hex; lastSeq: string; block: string; measurement: Hex; bytes: string }> {
  const proven = await proveCommitted(h, p);
  if (proven.root === ROOT_ZERO) {
    throw new EnclaveError('ENCLAVE_SNAPSHOT_NOT_COMMITTED', 'The contract has no committed state yet: there is nothing to copy, and a newcomer starts from the empty state.', { details: { block: proven.block.toString() } });
  }
  const target = (p.measurement ?? bytesToHex(h.measurement)).toLowerCase() as Hex;
  if (!h.config.measurements.includes(target)) {
    throw new EnclaveError('ENCLAVE_HANDOVER_MEASUREMENT', `Measurement ${target} is not one of the deployment's accepted measurements; a state snapshot is written only for an instance that could hold the keys.`, { details: { measurement: target } });
  }
  const store = h.store;
  if (!(await store.hasVersion(proven.root))) {
    throw new EnclaveError('ENCLAVE_STALE_STATE', `This instance's store has no state with the committed root ${proven.root} (block ${proven.block}); let it follow the chain to that root, then export again.`, { details: { root: proven.root } });
  }
  const file = snapshotFileName(proven.root);
  const tmp = `${file}.tmp`;
  const tmpPath = join(h.dataDir, tmp);
  rmSync(tmpPath, { force: true });
  if (proven.root !== h.root) await store.checkout(proven.root);
  let out: StateStore | null = null;
  try {
    const fw = await frameworkOf(store);
    if (fw.keyId !== h.keys.keyId || fw.lastSeq !== proven.committedSeq) {
      throw new EnclaveError('ENCLAVE_SEQ_MISMATCH', `The state at ${proven.root} records seq ${fw.lastSeq}, the contract's committedSeq is ${proven.committedSeq}.`, { details: { lastSeq: fw.lastSeq.toString(), committedSeq: proven.committedSeq.toString() } });
    }
    out = StateStore.open({ backend: new SqliteBackend(tmpPath), sealingKey: h.keys.stateSealingKey(hexToBytes(target), hexToBytes(h.configHash)), storeId: snapshotStoreId(h.keys.keyId) });
    await out.bulkLoadRaw(store.begin().scan(new Uint8Array(0)), { expectRoot: proven.root });
    out.close(); // the last connection: SQLite checkpoints the write-ahead log into the file and removes it
    out = null;
    if (existsSync(`${tmpPath}-wal`)) throw new EnclaveError('ENCLAVE_SEAL_IO', `The snapshot database ${tmp} kept a write-ahead log after close; it would travel incomplete. Check the data directory.`);
    renameSync(tmpPath, join(h.dataDir, file));
    return { file, root: proven.root, lastSeq: fw.lastSeq.toString(), block: proven.block.toString(), measurement: target, bytes: String(statSync(join(h.dataDir, file)).size) };
  } catch (e) {
    out?.close();
    rmSync(tmpPath, { force: true });
    rmSync(`${tmpPath}-wal`, { force: true });
    if (e instanceof EnclaveError) throw e;
    throw new EnclaveError('ENCLAVE_SEAL_IO', `Writing the state snapshot ${file} failed: ${(e as Error).message}. Check the data directory's free space and permissions.`, { cause: e });
  } finally {
    if (proven.root !== h.root) await store.checkout(h.root);
  }
}

/**
 * Import steps 1–8 above. Returns the adopted root and the framework state at it; the caller makes them its own.
 * Throws LC_*, ENCLAVE_SESSION_MISMATCH, ENCLAVE_SNAPSHOT_NOT_COMMITTED, ENCLAVE_SNAPSHOT_STALE, ENCLAVE_SNAPSHOT_INVALID,
 * ENCLAVE_SNAPSHOT_TOO_LARGE, ENCLAVE_SEAL_IO (its own store could not be written); the store is then at h.root.
 */
export async function importSnapshot(h: SnapshotHost, p: SnapshotProofParams & { root: string }): Promise<{ root: Hex; framework: FrameworkState }> {
  const root = p.root.toLowerCase() as Hex;
  const proven = await proveCommitted(h, p);
  if (root === ROOT_ZERO || root !== proven.root) {
    throw new EnclaveError('ENCLAVE_SNAPSHOT_NOT_COMMITTED', `The snapshot is of root ${root}, but the contract's committed root at block ${proven.block} is ${proven.root}: prove the block at which the snapshot was exported (stateExport's block), or export a newer one.`, { details: { root, proven: proven.root, block: proven.block.toString() } });
  }
  if (proven.committedSeq <= h.framework.lastSeq) {
    throw new EnclaveError('ENCLAVE_SNAPSHOT_STALE', `This instance's state is already at seq ${h.framework.lastSeq}; the snapshot is at seq ${proven.committedSeq}. Follow the chain instead.`, { details: { lastSeq: h.framework.lastSeq.toString(), snapshotSeq: proven.committedSeq.toString() } });
  }
  const file = snapshotFileName(root);
  const path = join(h.dataDir, file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw invalid(file, `it is not in the data directory (${(e as Error).message})`, e);
  }
  if (size > SNAPSHOT_MAX_BYTES) {
    throw new EnclaveError('ENCLAVE_SNAPSHOT_TOO_LARGE', `The snapshot ${file} is ${size} bytes, over the ${SNAPSHOT_MAX_BYTES}-byte cap; it cannot be a snapshot this instance wrote. Export it again.`, { details: { bytes: size, max: SNAPSHOT_MAX_BYTES } });
  }
  const own = h.store;
  let snap: StateStore | null = null;
  let adopted = false;
  try {
    try {
      snap = StateStore.open({ backend: new SqliteBackend(path, { exclusive: true }), sealingKey: h.keys.stateSealingKey(h.measurement, hexToBytes(h.configHash)), storeId: snapshotStoreId(h.keys.keyId) });
      const versions = snap.versions();
      if (versions.length !== 1 || versions[0]!.root !== root) throw invalid(file, `it holds the versions [${versions.map((v) => v.root).join(', ')}], not exactly ${root}`);
      await snap.checkout(root);
    } catch (e) {
      throw e instanceof EnclaveError && e.code.startsWith('ENCLAVE_SNAPSHOT_') ? e : invalid(file, `it does not open under this instance's keys, build and config, or is damaged (${(e as Error).message})`, e);
    }
    await own.checkout(ROOT_ZERO);
    try {
      await own.bulkLoadRaw(snap.begin().scan(new Uint8Array(0)), { expectRoot: root });
      await own.checkout(root);
    } catch (e) {
      await own.checkout(h.root).catch(() => {});
      if (e instanceof EnclaveError && e.code === 'ENCLAVE_SEAL_IO') throw e;
      throw invalid(file, `its records do not give the committed root (truncated, modified or incomplete: ${(e as Error).message})`, e);
    }
    let fw: FrameworkState;
    try {
      fw = await frameworkOf(own);
      if (fw.keyId !== h.keys.keyId || fw.lastSeq !== proven.committedSeq) throw new Error(`the state records keyId ${fw.keyId} and seq ${fw.lastSeq}, expected ${h.keys.keyId} and ${proven.committedSeq}`);
    } catch (e) {
      await own.checkout(h.root).catch(() => {});
      throw invalid(file, (e as Error).message, e);
    }
    adopted = true;
    return { root, framework: fw };
  } finally {
    snap?.close();
    // Consumed: the state now lives in the instance's own database. A refused file is left to the host.
    if (adopted) for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
  }
}

function invalid(file: string, why: string, cause?: unknown): EnclaveError {
  return new EnclaveError('ENCLAVE_SNAPSHOT_INVALID', `The state snapshot ${file} was refused: ${why}. Nothing was adopted; export a new snapshot from a keyed instance and move the file unchanged.`, { cause, details: { file } });
}
