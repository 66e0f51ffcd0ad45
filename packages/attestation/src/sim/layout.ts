/**
 * Byte layout of an Intel SGX DCAP quote v3 with an ECDSA-256 (P-256) attestation key, as produced by
 * the Geode simulation TEE (`--tee sim`) and by real Intel Quoting Enclaves.
 *
 * Spec: Intel "SGX ECDSA Quote Library API" (Intel SGX DCAP), Appendix A "ECDSA Quote Format":
 * A.3 Quote Header (48 bytes), A.4 ISV Enclave Report Body (`sgx_report_body_t`, 384 bytes),
 * A.4 Quote Signature Data Structure (`sgx_ql_ecdsa_sig_data_t`) and A.4 QE Certification Data
 * (`sgx_ql_certification_data_t`, type 5 = concatenated PCK certificate chain, PEM).
 *
 * All integers are little-endian. Offsets named `QUOTE_*` are absolute offsets into the quote; offsets named
 * `HEADER_*` are relative to the header and `BODY_*` relative to a 384-byte report body (the ISV enclave report
 * body and the QE report share this layout).
 *
 * The on-chain simulation verifier (EIP-7951 P-256 precompile) uses only:
 * - the signed message `quote[0 .. QUOTE_SIGNED_LEN)` (header || ISV report body), hashed with SHA-256;
 * - the quote signature r||s at `QUOTE_SIGNATURE_OFFSET` (64 bytes, big-endian r then s);
 * - the attestation public key x||y at `QUOTE_ATTESTATION_KEY_OFFSET` (64 bytes, big-endian, no 0x04 prefix),
 *   which it compares with the configured simulation attestation key;
 * - MRENCLAVE at `QUOTE_MR_ENCLAVE_OFFSET` (32 bytes) and REPORTDATA at `QUOTE_REPORT_DATA_OFFSET` (64 bytes).
 */

/** Quote header length (A.3). */
export const QUOTE_HEADER_LEN = 48;
/** Report body length (`sgx_report_body_t`, 384 bytes). */
export const REPORT_BODY_LEN = 384;

// ---- Header (relative to quote start; A.3) ----
/** u16 quote version; 3 for SGX ECDSA quotes. */
export const HEADER_VERSION_OFFSET = 0;
/** u16 attestation key type; 2 = ECDSA-256-with-P-256 curve. */
export const HEADER_ATT_KEY_TYPE_OFFSET = 2;
/** u32 reserved in v3 (TEE type 0 = SGX in v4+). */
export const HEADER_TEE_TYPE_OFFSET = 4;
/** u16 QE security version (ISVSVN of the QE). */
export const HEADER_QE_SVN_OFFSET = 8;
/** u16 PCE security version. */
export const HEADER_PCE_SVN_OFFSET = 10;
/** 16 bytes QE vendor ID; Intel = 939a7233f79c4ca9940a0db3957f0607. */
export const HEADER_QE_VENDOR_ID_OFFSET = 12;
/** 20 bytes user data (QE-defined; Intel puts a platform identifier in the first 16 bytes). */
export const HEADER_USER_DATA_OFFSET = 28;
/** Quote version produced by the simulation. */
export const QUOTE_VERSION_3 = 3;
/** Attestation key type ECDSA-256-with-P-256. */
export const ATT_KEY_TYPE_ECDSA_P256 = 2;
/** Intel QE vendor ID, hex. */
export const INTEL_QE_VENDOR_ID_HEX = '939a7233f79c4ca9940a0db3957f0607';

// ---- Report body (relative to a report body; sgx_report_body_t) ----
export const BODY_CPU_SVN_OFFSET = 0; // 16 bytes
export const BODY_MISC_SELECT_OFFSET = 16; // u32
export const BODY_ISV_EXT_PROD_ID_OFFSET = 32; // 16 bytes (after 12 reserved bytes at 20)
export const BODY_ATTRIBUTES_OFFSET = 48; // 16 bytes: flags u64 || xfrm u64
export const BODY_MR_ENCLAVE_OFFSET = 64; // 32 bytes
export const BODY_MR_SIGNER_OFFSET = 128; // 32 bytes (after 32 reserved bytes at 96)
export const BODY_CONFIG_ID_OFFSET = 192; // 64 bytes (after 32 reserved bytes at 160)
export const BODY_ISV_PROD_ID_OFFSET = 256; // u16
export const BODY_ISV_SVN_OFFSET = 258; // u16
export const BODY_CONFIG_SVN_OFFSET = 260; // u16
export const BODY_ISV_FAMILY_ID_OFFSET = 304; // 16 bytes (after 42 reserved bytes at 262)
export const BODY_REPORT_DATA_OFFSET = 320; // 64 bytes

/** ATTRIBUTES.FLAGS bits (SGX SDM 37.7.1). */
export const SGX_FLAG_INIT = 0x01n;
export const SGX_FLAG_DEBUG = 0x02n;
export const SGX_FLAG_MODE64BIT = 0x04n;
export const SGX_FLAG_PROVISIONKEY = 0x10n;

// ---- Absolute quote offsets ----
/** ISV enclave report body starts right after the header. */
export const QUOTE_BODY_OFFSET = QUOTE_HEADER_LEN; // 48
/** Bytes covered by the quote signature: header || ISV report body = quote[0..432). */
export const QUOTE_SIGNED_LEN = QUOTE_HEADER_LEN + REPORT_BODY_LEN; // 432
/** u32 length of the signature data that follows. */
export const QUOTE_SIG_DATA_LEN_OFFSET = QUOTE_SIGNED_LEN; // 432
/** ECDSA P-256 quote signature r||s (32+32 bytes, big-endian) over SHA-256(quote[0..432)). */
export const QUOTE_SIGNATURE_OFFSET = QUOTE_SIG_DATA_LEN_OFFSET + 4; // 436
export const QUOTE_SIGNATURE_LEN = 64;
/** ECDSA attestation public key x||y (32+32 bytes, big-endian, uncompressed point without 0x04). */
export const QUOTE_ATTESTATION_KEY_OFFSET = QUOTE_SIGNATURE_OFFSET + QUOTE_SIGNATURE_LEN; // 500
export const QUOTE_ATTESTATION_KEY_LEN = 64;
/** QE report body (384 bytes) signed by the PCK leaf key. */
export const QUOTE_QE_REPORT_OFFSET = QUOTE_ATTESTATION_KEY_OFFSET + QUOTE_ATTESTATION_KEY_LEN; // 564
/** QE report signature r||s (64 bytes) with the PCK key over SHA-256(QE report). */
export const QUOTE_QE_REPORT_SIGNATURE_OFFSET = QUOTE_QE_REPORT_OFFSET + REPORT_BODY_LEN; // 948
/** u16 QE authentication data size, followed by the data, then certification data (u16 type, u32 size, bytes). */
export const QUOTE_QE_AUTH_DATA_LEN_OFFSET = QUOTE_QE_REPORT_SIGNATURE_OFFSET + 64; // 1012
export const QUOTE_QE_AUTH_DATA_OFFSET = QUOTE_QE_AUTH_DATA_LEN_OFFSET + 2; // 1014

/** MRENCLAVE, absolute: 48 + 64 = 112 (32 bytes). */
export const QUOTE_MR_ENCLAVE_OFFSET = QUOTE_BODY_OFFSET + BODY_MR_ENCLAVE_OFFSET; // 112
/** MRSIGNER, absolute: 48 + 128 = 176 (32 bytes). */
export const QUOTE_MR_SIGNER_OFFSET = QUOTE_BODY_OFFSET + BODY_MR_SIGNER_OFFSET; // 176
/** ATTRIBUTES, absolute: 48 + 48 = 96 (16 bytes). */
export const QUOTE_ATTRIBUTES_OFFSET = QUOTE_BODY_OFFSET + BODY_ATTRIBUTES_OFFSET; // 96
/** ISVPRODID (u16 LE), absolute: 48 + 256 = 304. */
export const QUOTE_ISV_PROD_ID_OFFSET = QUOTE_BODY_OFFSET + BODY_ISV_PROD_ID_OFFSET; // 304
/** ISVSVN (u16 LE), absolute: 48 + 258 = 306. */
export const QUOTE_ISV_SVN_OFFSET = QUOTE_BODY_OFFSET + BODY_ISV_SVN_OFFSET; // 306
/** REPORTDATA, absolute: 48 + 320 = 368 (64 bytes). */
export const QUOTE_REPORT_DATA_OFFSET = QUOTE_BODY_OFFSET + BODY_REPORT_DATA_OFFSET; // 368

/** Certification data type 5: PCK leaf || PCK CA || root CA, PEM, NUL-terminated as Intel's QE emits it. */
export const CERT_DATA_TYPE_PCK_CHAIN = 5;
