/**
 * The platform seam (docs/enclave.md#platform): the TEE an enclave process runs on. The runtime receives one
 * Platform and never creates secrets or evidence itself. One interface per TEE, because each TEE names its identity
 * and offers sealing differently:
 *
 * | teeType   | implementation            | identity the contract lists (`measurement`, 32 bytes)        | sealing    |
 * | --------- | ------------------------- | ------------------------------------------------------------ | ---------- |
 * | `sgx-sim` | ./sim.ts (dev only)       | SHA-256 of the enclave bundle, carried as mr_enclave          | simulated  |
 * | `sgx`     | ./gramine.ts              | MRENCLAVE                                                     | hardware   |
 * | `tdx`     | ./configfs-tsm.ts         | SHA-256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3)                  | none       |
 * | `sev-snp` | ./configfs-tsm.ts         | SHA-256(MEASUREMENT)                                          | none       |
 *
 * (`@geode/attestation/identity` computes the identity from evidence; docs/attestation.md#enclave-identity.)
 */
import { randomBytes } from 'node:crypto';

/** Evidence over 64 bytes of report data, in the TEE's own format. */
export type PlatformEvidence =
  /** Intel DCAP quote: SGX v3 (sim, Gramine) or TDX v4/v5 (configfs-tsm outblob). */
  | { kind: 'dcap-quote'; quote: Uint8Array }
  /**
   * AMD SEV-SNP ATTESTATION_REPORT (1184 bytes, configfs-tsm outblob) and, when the host provisioned it, the
   * certificate table of the extended guest request (configfs-tsm auxblob; GHCB spec §4.1.8.1 layout).
   */
  | { kind: 'snp-report'; report: Uint8Array; certificates: Uint8Array | null };

/**
 * The bytes the transport, the contract's verifier and clients carry as `quote` (docs/attestation.md#snp-evidence):
 * the DCAP quote as is; for SEV-SNP the 1184-byte report followed by its certificate table (VCEK, ASK, ARK) when the
 * platform returned one, so a client can verify the report without asking AMD's KDS. The report's fixed length
 * makes the split unambiguous.
 */
export function evidenceBytes(e: PlatformEvidence): Uint8Array {
  if (e.kind === 'dcap-quote') return e.quote;
  if (!e.certificates || e.certificates.length === 0) return e.report;
  const out = new Uint8Array(e.report.length + e.certificates.length);
  out.set(e.report, 0);
  out.set(e.certificates, e.report.length);
  return out;
}

/**
 * How a platform protects data at rest.
 * - `hardware`: a key only this enclave identity can derive on this CPU (SGX seal key bound to MRENCLAVE).
 * - `simulated`: the dev simulator's stand-in (a secret file in the data directory; no protection).
 * - `none`: the TEE offers no sealing key through the interface Geode uses (TDX; SNP's derived keys need the
 *   /dev/sev-guest ioctl). Secrets then live only in this process's memory (docs/enclave.md#platform).
 */
export type PlatformSealing =
  | {
    kind: 'hardware' | 'simulated';
    /**
     * 32-byte AES-256 key for sealed files, bound to this enclave identity and to `context` (the deployment's
     * configHash, 32 bytes). Deterministic: the same identity, CPU and context give the same key.
     */
    sealingKey(context: Uint8Array): Uint8Array;
  }
  | { kind: 'none'; reason: string };

interface PlatformBase {
  /** True when there is no hardware protection. */
  readonly simulated: boolean;
  /** The enclave identity the contract's config lists (32 bytes, see the table above). */
  readonly measurement: Uint8Array;
  readonly sealing: PlatformSealing;
  /**
   * Evidence binding `reportData` (exactly 64 bytes) to this enclave. Throws EnclaveError
   * ENCLAVE_ATTESTOR_UNAVAILABLE (device or PKI unusable), ENCLAVE_PLATFORM_RACE (another writer changed the
   * request while it was served) or ENCLAVE_PLATFORM_MISMATCH (the device answered for other report data or
   * another identity).
   */
  evidence(reportData: Uint8Array): PlatformEvidence;
}

/** The development simulator (./sim.ts): SGX DCAP v3 quotes signed by a simulation PKI. */
export interface SimPlatform extends PlatformBase {
  readonly teeType: 'sgx-sim';
  readonly simulated: true;
  /** = measurement. */
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  /**
   * Root CA (DER) of the simulation PKI, the root a simulated peer's quote chains to (key handover,
   * docs/protocol.md#handover). Absent on test doubles; hardware platforms verify peers against Intel's pinned root.
   */
  simRootCaDer?(): Uint8Array;
}

/** Intel SGX under Gramine (./gramine.ts). */
export interface SgxPlatform extends PlatformBase {
  readonly teeType: 'sgx';
  readonly simulated: false;
  /** MRENCLAVE (32 bytes) = measurement. */
  readonly mrEnclave: Uint8Array;
  /** MRSIGNER (32 bytes): SHA-256 of the enclave signing key's modulus. */
  readonly mrSigner: Uint8Array;
}

/** Intel TDX through configfs-tsm (./configfs-tsm.ts). */
export interface TdxPlatform extends PlatformBase {
  readonly teeType: 'tdx';
  readonly simulated: false;
  /** MRTD (48 bytes): the TD's initial contents (firmware). */
  readonly mrTd: Uint8Array;
  /** RTMR0..3 (48 bytes each) at open time: firmware config, kernel, command line/initrd, application. */
  readonly rtmrs: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
}

/** AMD SEV-SNP through configfs-tsm (./configfs-tsm.ts). */
export interface SnpPlatform extends PlatformBase {
  readonly teeType: 'sev-snp';
  readonly simulated: false;
  /** MEASUREMENT (48 bytes): the launch digest of the guest's initial memory and VMSAs. */
  readonly launchMeasurement: Uint8Array;
  /**
   * TEST DOUBLES ONLY: an ARK (DER) this instance trusts in place of AMD's pinned ARKs when it verifies a peer's
   * SEV-SNP report (key handover, docs/protocol.md#handover). openConfigfsTsmPlatform never sets it, so a bundle built
   * for hardware trusts AMD's roots only; verdicts under it are `simulated`, which only a policy with
   * allowSimulation accepts.
   */
  readonly testArkDer?: Uint8Array;
}

/** The TEE an enclave process runs on. */
export type Platform = SimPlatform | SgxPlatform | TdxPlatform | SnpPlatform;
/** teeType values. */
export type PlatformTeeType = Platform['teeType'];

const processKeys = new WeakMap<Platform, Uint8Array>();

/**
 * The key that protects the enclave's sealed files (keys.sealed) for deployment `configHash` (32 bytes): the
 * platform's sealing key, or, on a platform with `sealing.kind === 'none'`, a random key that lives only in this
 * process (files sealed under it cannot be opened after a restart; the keys then come back only by handover,
 * docs/enclave.md#platform). Throws what the platform's sealingKey throws.
 */
export function sealingKeyFor(platform: Platform, configHash: Uint8Array): Uint8Array {
  if (platform.sealing.kind !== 'none') return platform.sealing.sealingKey(configHash);
  let k = processKeys.get(platform);
  if (!k) {
    k = new Uint8Array(randomBytes(32));
    processKeys.set(platform, k);
  }
  return k;
}
