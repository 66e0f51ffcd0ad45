/**
 * `geode enclave recovery-key | backup | restore` as functions (docs/cli.md#backup, docs/protocol.md#backup). The
 * backup comes from the running `geode enclave start` of a keyed data dir (its control endpoint); the restore runs the
 * recovery-key holder's checks here and delivers the message to the running `geode enclave start` of the newcomer.
 */
import { readFileSync } from 'node:fs';
import type { Address, Hex } from 'viem';
import { hexToBytes } from 'viem';
import { GeodeError, type BackupFile } from '@geode/protocol';
import { writeFileAtomic } from '@geode/protocol/files';
import { parseCollateral } from '@geode/attestation';
import { chainAccessFromUrl } from '@geode/host';
import { GeodeCoreAbi } from '@geode/contracts';
import { CliBackupError, generateRecoveryKey, parseBackup, parseRecoveryKey, restoreMessage } from './backup.ts';
import { CliFileError } from './errors.ts';
import { CliStepError, controlUrl, readDeployment } from './steps.ts';

/** POST `path` (JSON `body`) to the control endpoint of `dataDir`'s `geode enclave start`; the JSON answer. Throws CliStepError, or the enclave's refusal as a GeodeError. */
async function control<T>(dataDir: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${controlUrl(dataDir)}${path}`, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) })
    .catch(() => { throw new CliStepError(`no \`geode enclave start\` answers for ${dataDir}`); });
  const r = (await res.json()) as { ok: boolean; error?: { code: string; message: string } } & T;
  if (!r.ok) throw new GeodeError(r.error?.code ?? 'CLI_BACKUP', `the enclave refused: ${r.error?.message}`, { docsPath: 'protocol.md#backup' });
  return r;
}

function readJsonFile(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliFileError(`Could not read the ${what} ${file}: ${(e as Error).message}.`, e);
  }
}

/** `geode enclave recovery-key --out FILE`: a fresh X25519 recovery key pair written to `out` (0600). Returns the public key. */
export async function writeRecoveryKey(out: string): Promise<{ publicKey: Hex; file: string }> {
  const k = await generateRecoveryKey();
  writeFileAtomic(out, `${JSON.stringify(k, null, 2)}\n`);
  return { publicKey: k.publicKey as Hex, file: out };
}

/**
 * `geode enclave backup --data-dir DIR --out FILE`: refuse (CLI_BACKUP_NO_RECOVERY_KEY) when the contract names no
 * recovery key, else ask the running enclave for a backup and write it to `out`. Returns the file's metadata.
 */
export async function backupStep(o: { dataDir: string; out: string }): Promise<Omit<BackupFile, 'enc' | 'ciphertext'> & { file: string }> {
  const d = readDeployment(o.dataDir);
  const chain = await chainAccessFromUrl(d.rpcUrl, { trustedRpc: d.trustedRpc });
  try {
    const key = (await chain.publicClient.readContract({ address: d.contract as Address, abi: GeodeCoreAbi, functionName: 'recoveryKey' })) as Hex;
    if (BigInt(key) === 0n) {
      throw new CliBackupError('CLI_BACKUP_NO_RECOVERY_KEY', `Contract ${d.contract} names no recovery key, so this deployment has no backup: its keys survive only by handover among live instances. A recovery key is set at deploy (geode deploy --recovery-key), before the first session.`);
    }
  } finally {
    await chain.close();
  }
  const { backup } = await control<{ backup: BackupFile }>(o.dataDir, '/backup');
  writeFileAtomic(o.out, `${JSON.stringify(backup, null, 2)}\n`);
  const { enc: _enc, ciphertext: _ct, ...meta } = backup;
  return { ...meta, file: o.out };
}

/**
 * `geode enclave restore --backup FILE --recovery-key FILE --data-dir DIR [--request ID]`: without `requestId`, the
 * newcomer (`dataDir`'s running `geode enclave start`, no keys) files a handover request first. Then the holder's
 * checks and re-seal (restoreMessage) and the delivery; the newcomer's host then follows and commits.
 * Throws CliFileError, CliBackupError, CliStepError, the enclave's refusal.
 */
export async function restoreStep(o: { dataDir: string; backup: string; recoveryKey: string; requestId?: bigint; now?: number }): Promise<{ requestId: string; sessionId: string; signer: string; stateRoot: string }> {
  const backup = parseBackup(readJsonFile(o.backup, 'backup file'));
  const recoveryKey = parseRecoveryKey(readJsonFile(o.recoveryKey, 'recovery key file'));
  const d = readDeployment(o.dataDir);
  const requestId = o.requestId ?? BigInt((await control<{ requestId: string }>(o.dataDir, '/handover-request')).requestId);
  const chain = await chainAccessFromUrl(d.rpcUrl, { trustedRpc: d.trustedRpc });
  let message;
  try {
    message = await restoreMessage({
      publicClient: chain.publicClient, chainId: chain.chainId, contract: d.contract as Address, config: d.config, policy: d.policy,
      collateral: parseCollateral(d.collateral), rootCaDer: hexToBytes(d.simRootCaDer as Hex), backup, recoveryKey, requestId, now: o.now ?? Math.floor(Date.now() / 1000),
    });
  } finally {
    recoveryKey.privateKey.fill(0);
    await chain.close();
  }
  const r = await control<{ sessionId: string; signer: string; stateRoot: string }>(o.dataDir, '/restore', message);
  return { requestId: requestId.toString(), sessionId: r.sessionId, signer: r.signer, stateRoot: r.stateRoot };
}
