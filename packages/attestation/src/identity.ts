/**
 * The enclave identity a Geode contract lists (its `measurements`, bytes32 each), per TEE
 * (docs/attestation.md#enclave-identity). Pure functions over the fields of verified evidence; the enclave's
 * platforms and the verifiers use the same ones, so both sides agree byte for byte.
 *
 * - SGX (real or simulated): MRENCLAVE itself (32 bytes).
 * - TDX: SHA-256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3), 5 × 48 bytes in, 32 out (FIPS 180-4).
 * - SEV-SNP: SHA-256(MEASUREMENT), 48 bytes in, 32 out.
 */
import { createHash } from 'node:crypto';
import { DecodeError } from './errors.ts';
import type { Verdict } from './types.ts';

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

function need(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new DecodeError(`${what} must be ${n} bytes`, { details: { what, length: b?.length } });
}

/** SGX identity = MRENCLAVE (32 bytes, returned as a copy). Throws DecodeError (`ATTEST_DECODE`) on another length. */
export function sgxEnclaveIdentity(mrEnclave: Uint8Array): Uint8Array {
  need(mrEnclave, 32, 'MRENCLAVE');
  return new Uint8Array(mrEnclave);
}

/**
 * TDX identity = SHA-256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3). MRTD fixes the TD firmware; the RTMRs fix what it
 * booted (RTMR0 firmware config, RTMR1 kernel, RTMR2 command line and initrd, RTMR3 the application), so a change in
 * any layer is a new identity. Throws DecodeError (`ATTEST_DECODE`) unless every input is 48 bytes.
 */
export function tdxEnclaveIdentity(mrTd: Uint8Array, rtmrs: readonly Uint8Array[]): Uint8Array {
  need(mrTd, 48, 'MRTD');
  if (rtmrs.length !== 4) throw new DecodeError('TDX identity needs exactly 4 RTMRs', { details: { count: rtmrs.length } });
  rtmrs.forEach((r, i) => need(r, 48, `RTMR${i}`));
  return sha256(mrTd, ...rtmrs);
}

/** SEV-SNP identity = SHA-256(MEASUREMENT). Throws DecodeError (`ATTEST_DECODE`) unless it is 48 bytes. */
export function snpEnclaveIdentity(measurement: Uint8Array): Uint8Array {
  need(measurement, 48, 'SEV-SNP MEASUREMENT');
  return sha256(measurement);
}

/**
 * The Geode enclave identity (bytes32) a verified verdict proves: dispatches on `v.teeType` to the functions above
 * (SGX and simulated SGX: mr_enclave; TDX: mr_td with RTMR0..3; SEV-SNP: the measurement). A client compares it
 * with the session's `mrEnclave` and the contract's accepted measurements.
 * Throws DecodeError (`ATTEST_DECODE`) when the verdict lacks the fields of its TEE type, or for Nitro (Geode
 * deployments do not use Nitro evidence).
 */
export function enclaveIdentityOf(v: Verdict): Uint8Array {
  const m = v.measurements;
  const hex = (s: string | undefined, what: string): Uint8Array => {
    if (typeof s !== 'string') throw new DecodeError(`The ${v.teeType} verdict has no ${what}`, { details: { teeType: v.teeType, what } });
    return new Uint8Array(Buffer.from(s, 'hex'));
  };
  if (v.teeType === 'sgx') return sgxEnclaveIdentity(hex(m.mrEnclave, 'mrEnclave'));
  if (v.teeType === 'tdx') return tdxEnclaveIdentity(hex(m.mrTd, 'mrTd'), (m.rtmrs ?? []).map((r, i) => hex(r, `rtmr${i}`)));
  if (v.teeType === 'sev-snp') return snpEnclaveIdentity(hex(m.measurement, 'measurement'));
  throw new DecodeError(`Geode has no enclave identity for ${v.teeType} evidence`, { details: { teeType: v.teeType } });
}
