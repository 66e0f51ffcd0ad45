/**
 * Which TEE evidence a byte string is, by structure alone (no parsing beyond the first header fields, no
 * verification). Shared by `detectEvidence` (./verify.ts) and the handover peer check (./peer.ts), so every
 * relying party classifies the same bytes the same way:
 * - DCAP quote: u16 LE version 3/4/5, u16 attestation key type 2, u32 TEE type 0 (SGX) / 0x81 (TDX)
 *   (Intel SGX ECDSA Quote Library API A.3.1; TDX DCAP Quoting Library API A.3.1).
 * - Nitro: COSE_Sign1 (RFC 9052 4.2), CBOR array of 4 (0x84) optionally under tag 18 (0xD2).
 * - SEV-SNP: at least 1184 bytes whose first 1184 are an ATTESTATION_REPORT header (version 2..5, SIGNATURE_ALGO 1
 *   at 0x34; AMD SEV-SNP ABI Specification 56860, Table 22). Bytes after the report are Geode's certificate table
 *   (docs/attestation.md#snp-evidence).
 */
import type { TeeType } from './types.ts';

/** Kinds of evidence. */
export type EvidenceKind = 'dcap' | 'sev-snp' | 'nitro';

/** What {@link classifyEvidence} recognised: kind, TEE type (sgx/tdx for DCAP) and format version (1 for Nitro). */
export interface EvidenceClass { kind: EvidenceKind; teeType: TeeType; version: number }

/** The kind of `b` by the structure above, or null when it is none of them. Never throws. */
export function classifyEvidence(b: Uint8Array): EvidenceClass | null {
  if (b.length >= 48) {
    const version = b[0]! | (b[1]! << 8);
    const keyType = b[2]! | (b[3]! << 8);
    const tee = (b[4]! | (b[5]! << 8) | (b[6]! << 16)) + b[7]! * 0x1000000;
    if ((version === 3 || version === 4 || version === 5) && keyType === 2 && (tee === 0 || tee === 0x81)) {
      return { kind: 'dcap', teeType: tee === 0x81 ? 'tdx' : 'sgx', version };
    }
  }
  if (b.length > 4 && (b[0] === 0x84 || (b[0] === 0xd2 && b[1] === 0x84))) return { kind: 'nitro', teeType: 'nitro', version: 1 };
  if (b.length >= 0x4a0) {
    const version = (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1000000;
    const sigAlgo = (b[0x34]! | (b[0x35]! << 8) | (b[0x36]! << 16)) + b[0x37]! * 0x1000000;
    if (version >= 2 && version <= 5 && sigAlgo === 1) return { kind: 'sev-snp', teeType: 'sev-snp', version };
  }
  return null;
}
