/**
 * The recovery-key holder's side of backup and restore (docs/protocol.md#backup). Runs on the holder's own machine,
 * never in an enclave: it reads the chain, checks the newcomer the way a keyed enclave does before a handover, opens
 * the backup with the recovery private key and re-seals the key material to the newcomer's attested handover key in
 * the handover message format. The newcomer then checks the rest itself (handoverRestore: its own request, the active
 * session's keys by light-client proof, the state database).
 */
import { bytesToHex, hexToBytes, keccak256, toBytes, type Address, type Hex, type PublicClient } from 'viem';
import { x25519 } from '@noble/curves/ed25519.js';
import { z } from 'zod';
import {
  HPKE_INFO, backupAad, backupFile, bytes32, canonicalJson, configHash, defineError, handoverAad, handoverRequestKey,
  handoverRequestReportData, hpkeGenerateKeyPair, hpkeOpen, hpkeSeal, type BackupFile, type ConfigJson, type GeodeConfig,
} from '@geode/protocol';
import { parsePolicy, verifyPeerAttestation, type PeerTrustRoots, type QuoteCollateral } from '@geode/attestation';
import { GeodeCoreAbi } from '@geode/contracts';
import type { RestoreMessage } from '@geode/host';

const CODES = [
  'CLI_BACKUP_NO_RECOVERY_KEY', 'CLI_BACKUP_MALFORMED', 'CLI_BACKUP_BINDING', 'CLI_BACKUP_OPEN', 'CLI_RECOVERY_KEY_MISMATCH',
  'CLI_RESTORE_SUPERSEDED', 'CLI_RESTORE_NO_REQUEST', 'CLI_RESTORE_EVIDENCE', 'CLI_RESTORE_MEASUREMENT', 'CLI_RESTORE_BINDING',
] as const;

/** A backup or restore refused by the recovery-key holder's checks (docs/protocol.md#backup). Nothing was sent. */
export class CliBackupError extends defineError({
  codes: CODES,
  docsPath: 'protocol.md#backup',
  build: (code: (typeof CODES)[number], message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) => ({ code, message, details: opts.details, cause: opts.cause }),
}) {}

/** `format` of a recovery key file. */
export const RECOVERY_KEY_FORMAT = 'geode.recovery-key.v1';

/** A recovery key file (JSON): an X25519 key pair (RFC 7748), 0x hex, 32 bytes each. The private key never leaves it. */
export const recoveryKeyFile = z.object({ format: z.literal(RECOVERY_KEY_FORMAT), publicKey: bytes32, privateKey: bytes32 });
export type RecoveryKeyFile = z.infer<typeof recoveryKeyFile>;

/** A fresh recovery key pair (node:crypto CSPRNG through @hpke/core's X25519 KEM). */
export async function generateRecoveryKey(): Promise<RecoveryKeyFile> {
  const kp = await hpkeGenerateKeyPair();
  return { format: RECOVERY_KEY_FORMAT, publicKey: bytesToHex(kp.publicKey), privateKey: bytesToHex(kp.privateKey) };
}

/**
 * Parse a recovery key file (already JSON-parsed). Throws CliBackupError CLI_RECOVERY_KEY_MISMATCH when it is not one
 * or its public key is not its private key's (X25519 scalar multiplication of the base point, @noble/curves).
 */
export function parseRecoveryKey(json: unknown): { publicKey: Hex; privateKey: Uint8Array } {
  const r = recoveryKeyFile.safeParse(json);
  if (!r.success) throw new CliBackupError('CLI_RECOVERY_KEY_MISMATCH', `This is not a recovery key file (${RECOVERY_KEY_FORMAT}, written by \`geode enclave recovery-key\`).`);
  const privateKey = hexToBytes(r.data.privateKey as Hex);
  const derived = bytesToHex(x25519.getPublicKey(privateKey));
  if (derived !== r.data.publicKey.toLowerCase()) throw new CliBackupError('CLI_RECOVERY_KEY_MISMATCH', 'The recovery key file is damaged: its public key is not its private key\'s.');
  return { publicKey: derived, privateKey };
}

/** Parse a backup file (already JSON-parsed). Throws CLI_BACKUP_MALFORMED. */
export function parseBackup(json: unknown): BackupFile {
  const r = backupFile.safeParse(json);
  if (!r.success) throw new CliBackupError('CLI_BACKUP_MALFORMED', `This is not a Geode backup file (geode.backup.v1, written by \`geode enclave backup\`): ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`);
  return r.data;
}

/** Options of {@link restoreMessage}. */
export interface RestoreOptions {
  publicClient: PublicClient;
  chainId: bigint;
  contract: Address;
  /** The deployment config (deployment.json's); checked against the contract's configHash. */
  config: ConfigJson;
  /** The deployment's attestation policy JSON (its canonical keccak256 is the config's policyHash). */
  policy: unknown;
  /** Collateral of the newcomer's DCAP quote (dcap-qvl QuoteCollateralV3); unused for an SEV-SNP newcomer. */
  collateral?: QuoteCollateral;
  /** Root CA (DER) DCAP quotes chain to; undefined = Intel's pinned SGX root (the simulator's root for sim deployments). */
  rootCaDer?: Uint8Array;
  /** ARK (DER) SEV-SNP reports chain to; undefined = AMD's pinned ARK of the report's product (a test PKI's otherwise). */
  amdArkDer?: Uint8Array;
  backup: BackupFile;
  recoveryKey: { publicKey: Hex; privateKey: Uint8Array };
  /** The newcomer's on-chain handover request id. */
  requestId: bigint;
  /** Verification time of the newcomer's quote, unix seconds. */
  now: number;
}

const lc = (h: string): Hex => h.toLowerCase() as Hex;

/**
 * Step 6 of {@link restoreMessage} without its chain reads: the newcomer's evidence `quote` (a DCAP quote, or an
 * SEV-SNP report followed by its certificate table; docs/protocol.md#evidence-encoding) checked as a keyed enclave
 * checks a handover newcomer (@geode/attestation verifyPeerAttestation, the code the enclave runs): it verifies at
 * `now` chained to `roots` (absent: the vendors' pinned roots), the policy accepts it, and its enclave identity is one
 * of `measurements`. Returns the identity (0x bytes32) and the report data (128 lowercase hex digits). Throws
 * CliBackupError CLI_RESTORE_EVIDENCE (the attestation error as cause, its code as details.code) or
 * CLI_RESTORE_MEASUREMENT.
 */
export function verifyNewcomerEvidence(
  quote: Uint8Array,
  o: { policy: unknown; measurements: readonly Hex[]; collateral?: QuoteCollateral; roots?: PeerTrustRoots; now: number },
): { identity: Hex; reportData: string } {
  let identity: Hex;
  let reportData: string;
  try {
    const peer = verifyPeerAttestation(quote, { now: o.now, policy: parsePolicy(o.policy), collateral: o.collateral, roots: o.roots });
    identity = bytesToHex(peer.identity);
    reportData = peer.reportData;
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CliBackupError('CLI_RESTORE_EVIDENCE', `The newcomer's attestation evidence was refused (${code ?? 'error'}: ${(e as Error).message}); it is not an attested instance this deployment accepts.`, { cause: e, details: { code } });
  }
  if (!o.measurements.includes(identity)) {
    throw new CliBackupError('CLI_RESTORE_MEASUREMENT', `The newcomer's measurement ${identity} is not one the deployment config accepts.`, { details: { identity } });
  }
  return { identity, reportData };
}

/**
 * The recovery-key holder's checks, in this order, then the re-sealed key material:
 *  1. The recovery key is the one the backup is sealed to (CLI_RECOVERY_KEY_MISMATCH).
 *  2. The backup is for this chain and contract, and the contract's recoveryKey is the backup's (CLI_BACKUP_BINDING);
 *     the deployment config is the contract's (its configHash; CLI_RESTORE_BINDING).
 *  3. The blob opens: HPKE (RFC 9180) with info HPKE_INFO.backup and AAD backupAad(file fields) (CLI_BACKUP_OPEN:
 *     any field or byte changed).
 *  4. The backup's session is the contract's active session, with the same encPubKey and signer
 *     (CLI_RESTORE_SUPERSEDED: a backup of a superseded session must never continue the deployment).
 *  5. Handover request `requestId` is on-chain (CLI_RESTORE_NO_REQUEST), with its quote and handover key from the
 *     HandoverRequested event.
 *  6. The newcomer's evidence verifies ({@link verifyNewcomerEvidence}: a DCAP quote or SEV-SNP report at `now`,
 *     under the deployment's policy, CLI_RESTORE_EVIDENCE), its enclave identity is one of the config's
 *     measurements (CLI_RESTORE_MEASUREMENT), and its report data and the on-chain record both equal
 *     handoverRequestReportData(chainId, contract, configHash, identity, handoverPubKey) (CLI_RESTORE_BINDING).
 *  7. HPKE-seal the key material to handoverPubKey with info HPKE_INFO.handover and AAD handoverAad(chainId,
 *     contract, requestId, exporter measurement, newcomer identity, handoverPubKey): the handover message format.
 * Returns the message for handoverRestore. Throws CliBackupError; reads only (no transaction).
 */
export async function restoreMessage(o: RestoreOptions): Promise<RestoreMessage> {
  const b = o.backup;
  const pub = o.publicClient;
  // 1.
  if (lc(b.recoveryKey) !== lc(o.recoveryKey.publicKey)) {
    throw new CliBackupError('CLI_RECOVERY_KEY_MISMATCH', `The backup is sealed to recovery key ${b.recoveryKey}, not to this file's ${o.recoveryKey.publicKey}; use the deployment's recovery key file.`, { details: { backup: b.recoveryKey, given: o.recoveryKey.publicKey } });
  }
  // 2.
  if (BigInt(b.chainId) !== o.chainId || lc(b.contract) !== lc(o.contract)) {
    throw new CliBackupError('CLI_BACKUP_BINDING', `The backup belongs to contract ${b.contract} on chain ${b.chainId}, not to ${o.contract} on chain ${o.chainId}.`, { details: { backup: { chainId: b.chainId, contract: b.contract } } });
  }
  const onChainRecovery = lc(await pub.readContract({ address: o.contract, abi: GeodeCoreAbi, functionName: 'recoveryKey' }));
  if (onChainRecovery !== lc(b.recoveryKey)) {
    throw new CliBackupError('CLI_BACKUP_BINDING', `The contract's recovery key is ${onChainRecovery}, the backup's ${b.recoveryKey}: the backup is not this deployment's.`);
  }
  const config: GeodeConfig = {
    chainId: BigInt(o.config.chainId), contract: lc(o.config.contract) as Address, measurements: o.config.measurements.map(lc), attestationVerifier: lc(o.config.attestationVerifier) as Address,
    lcSigner: lc(o.config.lcSigner) as Address, lcGenesisHash: lc(o.config.lcGenesisHash), policyHash: lc(o.config.policyHash), admin: lc(o.config.admin) as Address,
  };
  const cfgHash = configHash(config);
  if (lc(await pub.readContract({ address: o.contract, abi: GeodeCoreAbi, functionName: 'configHash' })) !== cfgHash || config.contract !== lc(o.contract) || config.chainId !== o.chainId) {
    throw new CliBackupError('CLI_RESTORE_BINDING', 'The deployment config given is not the contract\'s (its configHash differs); use the deployment.json `geode deploy` wrote for this contract.');
  }
  // 3.
  let material: Uint8Array;
  try {
    const aad = backupAad(o.chainId, config.contract, BigInt(b.sessionId), lc(b.encPubKey), lc(b.signer) as Address, lc(b.measurement), lc(b.recoveryKey));
    material = await hpkeOpen(o.recoveryKey.privateKey, hexToBytes(b.enc as Hex), HPKE_INFO.backup, hexToBytes(aad), hexToBytes(b.ciphertext as Hex));
  } catch (e) {
    throw new CliBackupError('CLI_BACKUP_OPEN', 'The backup does not open under the recovery key with the fields it states: it was altered. Use an unaltered copy.', { cause: e });
  }
  try {
    // 4.
    const [activeId, s] = await pub.readContract({ address: o.contract, abi: GeodeCoreAbi, functionName: 'activeSession' });
    if (activeId !== BigInt(b.sessionId) || lc(s.encPubKey) !== lc(b.encPubKey) || lc(s.signer) !== lc(b.signer)) {
      throw new CliBackupError('CLI_RESTORE_SUPERSEDED', `The backup holds session ${b.sessionId}'s keys; the contract's active session is ${activeId}. A backup of a superseded session must never continue the deployment: restore a backup of session ${activeId}.`, { details: { backup: b.sessionId, active: activeId.toString() } });
    }
    // 5.
    const record = lc(await pub.getStorageAt({ address: o.contract, slot: handoverRequestKey(o.requestId) }) ?? '0x');
    const logs = BigInt(record === '0x' ? 0 : record) === 0n ? [] : await pub.getContractEvents({ address: o.contract, abi: GeodeCoreAbi, eventName: 'HandoverRequested', args: { id: o.requestId }, fromBlock: 0n, toBlock: 'latest' });
    const ev = logs.at(-1)?.args as { mrEnclave: Hex; handoverPubKey: Hex; quote: Hex } | undefined;
    if (!ev) {
      throw new CliBackupError('CLI_RESTORE_NO_REQUEST', `There is no handover request ${o.requestId} on-chain. The newcomer must file one first (GeodeCore.requestHandover; \`geode enclave restore\` without --request files it through the newcomer's \`geode enclave start\`).`, { details: { requestId: o.requestId.toString() } });
    }
    // 6.
    const handoverPubKey = lc(ev.handoverPubKey);
    if (lc(keccak256(toBytes(canonicalJson(o.policy)))) !== config.policyHash) {
      throw new CliBackupError('CLI_RESTORE_EVIDENCE', 'The attestation policy given is not the deployment\'s (its hash is not the config\'s policyHash).');
    }
    const { identity, reportData } = verifyNewcomerEvidence(hexToBytes(ev.quote), {
      policy: o.policy, measurements: config.measurements, collateral: o.collateral, roots: { intelRootCaDer: o.rootCaDer, amdArkDer: o.amdArkDer }, now: o.now,
    });
    const expected = handoverRequestReportData(o.chainId, config.contract, cfgHash, identity, handoverPubKey);
    if (record !== expected || reportData !== expected.slice(2) + '00'.repeat(32)) {
      throw new CliBackupError('CLI_RESTORE_BINDING', `Handover request ${o.requestId}'s quote and record do not bind this deployment, the newcomer's measurement and its handover key.`, { details: { expected, record } });
    }
    // 7.
    const aad = hexToBytes(handoverAad(o.chainId, config.contract, o.requestId, lc(b.measurement), identity, handoverPubKey));
    const sealed = await hpkeSeal(hexToBytes(handoverPubKey), HPKE_INFO.handover, aad, material);
    return { requestId: o.requestId.toString(), enc: bytesToHex(sealed.enc), ciphertext: bytesToHex(sealed.ciphertext), exporterMeasurement: lc(b.measurement) };
  } finally {
    material.fill(0);
  }
}
