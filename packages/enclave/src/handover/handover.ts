/**
 * Key handover by mutual attestation, gated on-chain (docs/protocol.md#handover). Both halves run in trusted code:
 *
 * Newcomer, `request()`:
 *   1. Refuse if this instance already holds keys (it would replace them).
 *   2. Draw a fresh X25519 handover key pair (kept only in this process's memory, never sealed).
 *   3. Return the public key and evidence with REPORTDATA = handoverRequestReportData(chainId, contract, configHash,
 *      own measurement, handoverPubKey) || 0^32; the host submits both to GeodeCore.requestHandover.
 *
 * Keyed instance, `send()`:
 *   1. It holds session keys with a session id.
 *   2. The header passes the light client; the proof covers handoverRequests[id] and activeSessionId.
 *   3. The proven activeSessionId is this instance's session (never hand over superseded keys).
 *   4. The newcomer's evidence (DCAP quote or SEV-SNP report) verifies under the attested policy and the platform's
 *      trust roots, with an accepted measurement M (evidence.ts).
 *   5. The proven handoverRequests[id] equals handoverRequestReportData(..., M, handoverPubKey), and so does the
 *      quote's report data: the contract authorised exactly this key of exactly this attested instance.
 *   6. HPKE-seal (RFC 9180 base mode, X25519/HKDF-SHA256/AES-128-GCM, info "geode.handover.v1") the key material to
 *      handoverPubKey with AAD = handoverAad(chainId, contract, id, own measurement, M, handoverPubKey).
 *   7. Evidence over handoverSenderReportData(chainId, contract, id, keccak256(enc || ciphertext), encPubKey, signer).
 *
 * Newcomer, `receive()`:
 *   1. It has a pending handover key and no keys.
 *   2. Header and proof: handoverRequests[id], activeSessionId, and that session's encPubKey and signer.
 *   3. The proven handoverRequests[id] is this instance's own request (own measurement, own pending key).
 *   4. The sender's evidence verifies under the attested policy with an accepted measurement S, and binds this request,
 *      this exact message and the proven session keys (REPORTDATA, step 7 above).
 *   5. The message opens under the pending private key with AAD(id, S, own measurement, handoverPubKey).
 *   6. The key material derives exactly the proven session keys and records the proven session id.
 *   7. Only then: seal keys.sealed, adopt the keys, forget the handover key.
 *
 * A refusal at any step changes nothing. Neither side moves its light client's trusted block: a handover proves a
 * fact at one block, and the newcomer then follows the committed batches from the first one, at their own (older)
 * blocks (docs/protocol.md#takeover).
 */
import { bytesToHex, concat, hexToBytes, keccak256, type Address, type Hex } from 'viem';
import {
  HPKE_INFO, ROOT_ZERO, SLOT, handoverAad, handoverRequestKey, handoverRequestReportData, handoverSenderReportData, hpkeGenerateKeyPair,
  hpkeOpen, hpkeSeal, sessionFieldKey, slotKey, type GeodeConfig, type HpkeKeyPair, type Result,
} from '@geode/protocol';
import { EnclaveError } from '../errors.ts';
import { SessionKeys, deserializeKeyMaterial, serializeKeyMaterial } from '../keys.ts';
import { stateDbName } from '../lineage.ts';
import type { HeaderGate } from '../lightclient/gate.ts';
import { verifyStorageProof } from '../lightclient/index.ts';
import { evidenceBytes, type Platform } from '../platform/platform.ts';
import { peerTrustRoots, requireReportData, verifyPeerEvidence, type PeerTrust } from './evidence.ts';

type SignedHeaderJson = Parameters<HeaderGate['verify']>[0];
type BeaconJson = Parameters<HeaderGate['verify']>[1];
type ProofJson = Parameters<typeof verifyStorageProof>[1];

/** What the runtime lends the handover (its config, gate, platform and keys). */
export interface HandoverHost {
  config: GeodeConfig;
  configHash: Hex;
  platform: Platform;
  gate: HeaderGate;
  /** The keys this instance holds (null: none). */
  keys(): SessionKeys | null;
  /** Seal `keys` as keys.sealed and make them this instance's keys (opening their store). */
  adopt(keys: SessionKeys): Promise<void>;
  /**
   * Whether the data directory holds a state database of `keys` that opens under them (restore step 8). Throws
   * ENCLAVE_SEAL_CORRUPT / ENCLAVE_SEAL_IO when one is there but does not open (another lineage's or damaged).
   */
  hasState(keys: SessionKeys): boolean;
}

/** Params of `send` (protocol methods.handoverSend, parsed). */
export interface HandoverSendParams {
  requestId: string; quote: string; handoverPubKey: string; header: SignedHeaderJson; proof: ProofJson; beacon?: BeaconJson; trust: PeerTrust;
}

/** Params of `receive` (protocol methods.handoverReceive, parsed). */
export interface HandoverReceiveParams {
  requestId: string; enc: string; ciphertext: string; quote: string; header: SignedHeaderJson; proof: ProofJson; beacon?: BeaconJson; trust: PeerTrust;
}

/** Params of `restore` (protocol methods.handoverRestore, parsed). */
export interface HandoverRestoreParams {
  requestId: string; enc: string; ciphertext: string; exporterMeasurement: string; header: SignedHeaderJson; proof: ProofJson; beacon?: BeaconJson;
}

const b32 = (v: bigint): Hex => `0x${v.toString(16).padStart(64, '0')}` as Hex;

/** The handover protocol of one enclave process (both roles). Calls must not overlap (the transport serialises them). */
export class Handover {
  private pending: HpkeKeyPair | null = null;

  constructor(private readonly h: HandoverHost) {}

  private get measurement(): Hex {
    return bytesToHex(this.h.platform.measurement);
  }

  /** Newcomer steps 1–3. Throws ENCLAVE_HANDOVER_STATE (keys already held) or the platform's evidence errors. */
  async request(): Promise<Result<'handoverRequest'>> {
    if (this.h.keys()) throw new EnclaveError('ENCLAVE_HANDOVER_STATE', 'This instance already holds session keys; a handover would replace them. Start the newcomer with an empty data directory.');
    const kp = await hpkeGenerateKeyPair();
    const pub = bytesToHex(kp.publicKey);
    const c = this.h.config;
    const rd = new Uint8Array(64);
    rd.set(hexToBytes(handoverRequestReportData(c.chainId, c.contract, this.h.configHash, this.measurement, pub)), 0);
    const quote = evidenceBytes(this.h.platform.evidence(rd));
    this.pending = kp;
    return { handoverPubKey: pub, quote: bytesToHex(quote) };
  }

  /** Keyed instance steps 1–7. Throws ENCLAVE_NO_SESSION, LC_*, ENCLAVE_SESSION_MISMATCH, ENCLAVE_HANDOVER_* . */
  async send(p: HandoverSendParams): Promise<Result<'handoverSend'>> {
    const keys = this.h.keys();
    const sessionId = keys?.material.sessionId ?? null;
    if (!keys || sessionId === null) throw new EnclaveError('ENCLAVE_NO_SESSION', 'This instance holds no session keys to hand over.');
    const c = this.h.config;
    const id = BigInt(p.requestId);
    const gated = this.h.gate.verify(p.header, p.beacon);
    const reqKey = handoverRequestKey(id);
    const activeKey = slotKey(SLOT.activeSessionId);
    const vals = await verifyStorageProof(gated.header.stateRoot, p.proof, c.contract, [reqKey, activeKey]);
    const active = vals.get(activeKey.toLowerCase() as Hex)!;
    if (active !== sessionId) {
      throw new EnclaveError('ENCLAVE_SESSION_MISMATCH', `The contract's active session is ${active}, this instance holds session ${sessionId}: only the active session's keys are handed over.`, { details: { active: active.toString(), ours: sessionId.toString() } });
    }
    const newcomer = verifyPeerEvidence(hexToBytes(p.quote as Hex), p.trust, this.expectation(gated.header.timestamp));
    const handoverPubKey = p.handoverPubKey.toLowerCase() as Hex;
    const expected = handoverRequestReportData(c.chainId, c.contract, this.h.configHash, newcomer.identity, handoverPubKey);
    if (b32(vals.get(reqKey.toLowerCase() as Hex)!) !== expected) {
      throw new EnclaveError('ENCLAVE_HANDOVER_UNAUTHORISED', `Handover request ${id} on-chain is not this newcomer's request for this key; the newcomer must submit its quote with GeodeCore.requestHandover first.`, { details: { requestId: p.requestId, expected } });
    }
    requireReportData(newcomer, expected, 'this deployment, its own measurement and this handover key');
    const aad = hexToBytes(handoverAad(c.chainId, c.contract, id, this.measurement, newcomer.identity, handoverPubKey));
    const sealed = await hpkeSeal(hexToBytes(handoverPubKey), HPKE_INFO.handover, aad, serializeKeyMaterial(keys.material));
    const enc = bytesToHex(sealed.enc);
    const ciphertext = bytesToHex(sealed.ciphertext);
    const rd = new Uint8Array(64);
    rd.set(hexToBytes(handoverSenderReportData(c.chainId, c.contract, id, keccak256(concat([enc, ciphertext])), keys.encPubKey, keys.signer)), 0);
    const quote = evidenceBytes(this.h.platform.evidence(rd));
    return { requestId: p.requestId, enc, ciphertext, quote: bytesToHex(quote) };
  }

  /** Newcomer steps 1–7. Throws ENCLAVE_HANDOVER_STATE, LC_*, ENCLAVE_HANDOVER_*. */
  async receive(p: HandoverReceiveParams): Promise<Result<'handoverReceive'>> {
    const r = await this.importKeys(p, (proven, timestamp) => {
      // Step 4: the sender is an attested instance of an accepted measurement that bound this request, this message
      // and the proven session keys.
      const sender = verifyPeerEvidence(hexToBytes(p.quote as Hex), p.trust, this.expectation(timestamp));
      requireReportData(sender, handoverSenderReportData(this.h.config.chainId, this.h.config.contract, BigInt(p.requestId), keccak256(concat([p.enc.toLowerCase() as Hex, p.ciphertext.toLowerCase() as Hex])), proven.encPubKey, proven.signer), 'this request, this message and the active session\'s keys');
      return sender.identity;
    });
    return { sessionId: r.sessionId, encPubKey: r.encPubKey, signer: r.signer };
  }

  /**
   * Restore (docs/protocol.md#backup): the newcomer imports key material that the recovery-key holder opened from a
   * backup and re-sealed to this instance's handover key in the handover message format. Steps 1–3 and 5–7 of
   * `receive`; step 4 (the sender's evidence) is replaced, since the recovery-key holder is no enclave:
   *   4'. The exporting instance's measurement, which the message's AAD binds, is one the config accepts.
   * What keeps a restore from forking the deployment is step 6 (the keys derive exactly the active session's proven
   * encPubKey and signer, and record its id: a backup of a superseded session is refused) and
   *   8. With a committed state (proven stateRoot non-zero) the data directory must hold a copy of this lineage's
   *      state database that opens under the restored keys (ENCLAVE_RESTORE_NO_STATE); the host then follows the
   *      committed batches from its newest version (docs/protocol.md#takeover).
   * Throws ENCLAVE_HANDOVER_STATE, LC_*, ENCLAVE_HANDOVER_UNAUTHORISED / _MEASUREMENT / _OPEN / _KEYS,
   * ENCLAVE_RESTORE_SUPERSEDED, ENCLAVE_RESTORE_NO_STATE, ENCLAVE_SEAL_*.
   */
  async restore(p: HandoverRestoreParams): Promise<Result<'handoverRestore'>> {
    const exporter = p.exporterMeasurement.toLowerCase() as Hex;
    return this.importKeys(p, () => {
      if (!this.h.config.measurements.includes(exporter)) {
        throw new EnclaveError('ENCLAVE_HANDOVER_MEASUREMENT', `The backup was exported by measurement ${exporter}, which the deployment config does not accept.`, { details: { identity: exporter } });
      }
      return exporter;
    }, true);
  }

  /**
   * The import path shared by `receive` and `restore`: steps 1–3, `checkSender` (step 4; returns the sender's
   * measurement), 5–7 (and 8 when `restoring`).
   */
  private async importKeys(
    p: { requestId: string; enc: string; ciphertext: string; header: SignedHeaderJson; proof: ProofJson; beacon?: BeaconJson },
    checkSender: (proven: { encPubKey: Hex; signer: Address }, timestamp: bigint) => Hex,
    restoring = false,
  ): Promise<Result<'handoverRestore'>> {
    const kp = this.pending;
    if (!kp) throw new EnclaveError('ENCLAVE_HANDOVER_STATE', 'This instance has no pending handover key; call handoverRequest (and submit it on-chain) first.');
    if (this.h.keys()) throw new EnclaveError('ENCLAVE_HANDOVER_STATE', 'This instance already holds session keys.');
    const c = this.h.config;
    const id = BigInt(p.requestId);
    const gated = this.h.gate.verify(p.header, p.beacon);
    const root = gated.header.stateRoot;
    const reqKey = handoverRequestKey(id);
    const activeKey = slotKey(SLOT.activeSessionId);
    const stateRootKey = slotKey(SLOT.stateRoot);
    const first = await verifyStorageProof(root, p.proof, c.contract, restoring ? [reqKey, activeKey, stateRootKey] : [reqKey, activeKey]);
    const active = first.get(activeKey.toLowerCase() as Hex)!;
    if (active === 0n) throw new EnclaveError('ENCLAVE_NO_SESSION', 'The contract has no active session to join.');
    const encKey = sessionFieldKey(active, 'encPubKey');
    const signerKey = sessionFieldKey(active, 'signer');
    const session = await verifyStorageProof(root, p.proof, c.contract, [encKey, signerKey]);
    const provenEnc = b32(session.get(encKey.toLowerCase() as Hex)!);
    const provenSigner = `0x${session.get(signerKey.toLowerCase() as Hex)!.toString(16).padStart(40, '0')}` as Address;
    const pub = bytesToHex(kp.publicKey);
    const own = handoverRequestReportData(c.chainId, c.contract, this.h.configHash, this.measurement, pub);
    if (b32(first.get(reqKey.toLowerCase() as Hex)!) !== own) {
      throw new EnclaveError('ENCLAVE_HANDOVER_UNAUTHORISED', `Handover request ${id} on-chain is not this instance's pending request.`, { details: { requestId: p.requestId } });
    }
    const senderMeasurement = checkSender({ encPubKey: provenEnc, signer: provenSigner }, gated.header.timestamp);
    const enc = p.enc.toLowerCase() as Hex;
    const ciphertext = p.ciphertext.toLowerCase() as Hex;
    let plaintext: Uint8Array;
    try {
      plaintext = await hpkeOpen(kp.privateKey, hexToBytes(enc), HPKE_INFO.handover, hexToBytes(handoverAad(c.chainId, c.contract, id, senderMeasurement, this.measurement, pub)), hexToBytes(ciphertext));
    } catch (e) {
      throw new EnclaveError('ENCLAVE_HANDOVER_OPEN', 'The handover message does not open under this instance\'s handover key for this request and these measurements.', { cause: e });
    }
    let keys: SessionKeys;
    try {
      keys = await SessionKeys.fromMaterial(deserializeKeyMaterial(plaintext));
    } catch (e) {
      throw new EnclaveError('ENCLAVE_HANDOVER_KEYS', `The handed-over key material is malformed: ${(e as Error).message}.`, { cause: e });
    }
    if (keys.encPubKey !== provenEnc || keys.signer !== provenSigner.toLowerCase() || keys.material.sessionId !== active) {
      const details = { active: active.toString(), sessionId: keys.material.sessionId?.toString() ?? null, encPubKey: keys.encPubKey, signer: keys.signer };
      if (restoring) {
        throw new EnclaveError('ENCLAVE_RESTORE_SUPERSEDED', `The restored keys (session ${details.sessionId}) are not active session ${active}'s keys: a backup of a superseded session must never continue the deployment. Restore a backup of the active session.`, { details });
      }
      throw new EnclaveError('ENCLAVE_HANDOVER_KEYS', `The handed-over keys are not active session ${active}'s keys.`, { details });
    }
    const stateRoot = restoring ? b32(first.get(stateRootKey.toLowerCase() as Hex)!) : ROOT_ZERO;
    if (restoring && stateRoot !== ROOT_ZERO && !this.h.hasState(keys)) {
      throw new EnclaveError('ENCLAVE_RESTORE_NO_STATE', `The contract has committed state ${stateRoot}, and this data directory holds no state database of these keys (${stateDbName(keys.keyId)}). Copy the backed-up ${stateDbName(keys.keyId)} into the data directory and run the restore again.`, { details: { stateRoot, file: stateDbName(keys.keyId) } });
    }
    await this.h.adopt(keys);
    this.pending = null;
    return { sessionId: active.toString(), encPubKey: keys.encPubKey, signer: keys.signer, stateRoot };
  }

  private expectation(timestamp: bigint) {
    const c = this.h.config;
    return { policyHash: c.policyHash, measurements: c.measurements, roots: peerTrustRoots(this.h.platform), now: Number(timestamp) };
  }
}
