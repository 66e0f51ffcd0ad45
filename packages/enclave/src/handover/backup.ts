/**
 * Backup export (docs/protocol.md#backup): a keyed instance seals its key material to the deployment's recovery key,
 * the disaster path when every instance is gone. Runs in trusted code; the host's word counts for nothing:
 *
 *   1. This instance holds session keys with a session id (ENCLAVE_NO_SESSION).
 *   2. The header passes the light client; the proof covers `recoveryKey` and `activeSessionId`.
 *   3. The proven activeSessionId is this instance's session (ENCLAVE_SESSION_MISMATCH): only the active session's
 *      keys are exported, so a backup is never born superseded.
 *   4. The proven recoveryKey is non-zero (ENCLAVE_BACKUP_NO_RECOVERY_KEY): a deployment that names no recovery key
 *      has no backup. The key comes from the proof, never from the host, so the host cannot have the key material
 *      sealed to a key of its own.
 *   5. HPKE-seal (RFC 9180 base mode, X25519 / HKDF-SHA256 / AES-128-GCM, info HPKE_INFO.backup) the serialized key
 *      material (serializeKeyMaterial: whatever KeyMaterial holds) to the recovery key with
 *      AAD = backupAad(chainId, contract, sessionId, encPubKey, signer, own measurement, recoveryKey).
 *
 * Exporting changes nothing in the enclave (no file, no memory, the light client's trusted block does not move).
 */
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { BACKUP_FORMAT, HPKE_INFO, SLOT, backupAad, hpkeSeal, recoveryKeySlotKey, slotKey, type Result } from '@geode/protocol';
import { EnclaveError } from '../errors.ts';
import { serializeKeyMaterial } from '../keys.ts';
import { verifyStorageProof } from '../lightclient/index.ts';
import type { HandoverHost } from './handover.ts';
import type { HeaderGate } from '../lightclient/gate.ts';

/** Params of `exportBackup` (protocol methods.backupExport, parsed). */
export interface BackupExportParams {
  header: Parameters<HeaderGate['verify']>[0];
  proof: Parameters<typeof verifyStorageProof>[1];
  beacon?: Parameters<HeaderGate['verify']>[1];
}

const b32 = (v: bigint): Hex => `0x${v.toString(16).padStart(64, '0')}` as Hex;

/** Steps 1–5 above. Returns the backup file (protocol `backupFile`). Throws ENCLAVE_NO_SESSION, LC_*, ENCLAVE_SESSION_MISMATCH, ENCLAVE_BACKUP_NO_RECOVERY_KEY. */
export async function exportBackup(h: HandoverHost, p: BackupExportParams): Promise<Result<'backupExport'>> {
  const keys = h.keys();
  const sessionId = keys?.material.sessionId ?? null;
  if (!keys || sessionId === null) throw new EnclaveError('ENCLAVE_NO_SESSION', 'This instance holds no session keys to back up; run the session handshake (or a handover) first.');
  const c = h.config;
  const gated = h.gate.verify(p.header, p.beacon);
  const recKey = recoveryKeySlotKey();
  const activeKey = slotKey(SLOT.activeSessionId);
  const vals = await verifyStorageProof(gated.header.stateRoot, p.proof, c.contract, [recKey, activeKey]);
  const active = vals.get(activeKey.toLowerCase() as Hex)!;
  if (active !== sessionId) {
    throw new EnclaveError('ENCLAVE_SESSION_MISMATCH', `The contract's active session is ${active}, this instance holds session ${sessionId}: only the active session's keys are backed up.`, { details: { active: active.toString(), ours: sessionId.toString() } });
  }
  const recoveryKey = b32(vals.get(recKey.toLowerCase() as Hex)!);
  if (BigInt(recoveryKey) === 0n) {
    throw new EnclaveError('ENCLAVE_BACKUP_NO_RECOVERY_KEY', 'This deployment names no recovery key (GeodeCore.recoveryKey is zero), so it has no backup: its keys survive only by handover among live instances. A recovery key can be set only before the first session (docs/protocol.md#backup).');
  }
  const measurement = bytesToHex(h.platform.measurement);
  const aad = hexToBytes(backupAad(c.chainId, c.contract, sessionId, keys.encPubKey, keys.signer, measurement, recoveryKey));
  const sealed = await hpkeSeal(hexToBytes(recoveryKey), HPKE_INFO.backup, aad, serializeKeyMaterial(keys.material));
  return {
    format: BACKUP_FORMAT, chainId: c.chainId.toString(), contract: c.contract, sessionId: sessionId.toString(), encPubKey: keys.encPubKey,
    signer: keys.signer, measurement, recoveryKey, block: gated.header.number.toString(), enc: bytesToHex(sealed.enc), ciphertext: bytesToHex(sealed.ciphertext),
  };
}
