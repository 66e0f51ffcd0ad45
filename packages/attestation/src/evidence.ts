/**
 * @geode/attestation/evidence: the pure parsers a platform uses to read its own evidence, and the enclave-identity
 * rule (docs/attestation.md). No signature or collateral verification, no I/O, no X.509: this entry is what trusted
 * code (packages/enclave, apps/<name>/src/enclave) may import from this package besides the sim quote builder
 * ('@geode/attestation/sim/quote'); packages/enclave/test/boundary.test.ts enforces it.
 *
 * - parseQuote: Intel DCAP quote v4/v5 layout (Intel TDX DCAP Quoting Library API, Appendix A).
 * - parseSnpReport: AMD SEV-SNP ATTESTATION_REPORT (AMD SEV-SNP ABI spec #56860, Table 22).
 * - sgx/tdx/snpEnclaveIdentity: the 32-byte identity Geode pins per TEE (identity.ts).
 */
export * from './dcap/quote.ts';
export * from './snp/report.ts';
export * from './identity.ts';
