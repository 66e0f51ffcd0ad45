/**
 * AMD SEV-SNP specific errors (codes `ATTEST_SNP_*`). Generic failures (decode, chain, expiry, missing VCEK) use
 * the classes of ../errors.ts: `ATTEST_DECODE`, `ATTEST_CHAIN_INVALID`, `ATTEST_CERT_EXPIRED`, `ATTEST_CERT_NOT_YET_VALID`,
 * `ATTEST_COLLATERAL_MISSING`.
 */
import { defineError } from '@geode/protocol';
import { AttestationError } from '../errors.ts';


/** The report's ECDSA P-384 signature (0x2A0) does not verify with the VCEK/VLEK public key over bytes 0x000-0x29F. */
export class SnpSignatureError extends defineError({ code: 'ATTEST_SNP_SIGNATURE', base: AttestationError }) {}
/** The VCEK/VLEK TCB extensions (blSPL, teeSPL, snpSPL, ucodeSPL, fmcSPL) differ from the report's REPORTED_TCB. */
export class SnpTcbMismatchError extends defineError({ code: 'ATTEST_SNP_TCB_MISMATCH', base: AttestationError }) {}
/** The VCEK hwID extension differs from the report's CHIP_ID. */
export class SnpChipIdMismatchError extends defineError({ code: 'ATTEST_SNP_CHIP_ID_MISMATCH', base: AttestationError }) {}
