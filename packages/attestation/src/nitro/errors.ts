/**
 * AWS Nitro specific errors (codes `ATTEST_NITRO_*`). Generic failures use ../errors.ts (`ATTEST_DECODE` for
 * bytes that are not CBOR, `ATTEST_CHAIN_INVALID`, `ATTEST_CERT_EXPIRED`, `ATTEST_CERT_NOT_YET_VALID`).
 */
import { defineError } from '@geode/protocol';
import { AttestationError } from '../errors.ts';


/** The COSE_Sign1 ES384 signature does not verify with the attestation document's leaf certificate key. */
export class NitroSignatureError extends defineError({ code: 'ATTEST_NITRO_SIGNATURE', base: AttestationError }) {}
/**
 * Well-formed CBOR that is not a valid Nitro attestation document: not a COSE_Sign1 array, algorithm other than
 * ES384 (-35), a missing or mistyped payload field, or a field out of the ranges of the AWS specification.
 */
export class NitroFormatError extends defineError({ code: 'ATTEST_NITRO_FORMAT', base: AttestationError }) {}
