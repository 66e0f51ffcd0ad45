/**
 * AMD SEV-SNP: report parser (`parseSnpReport`), verifier (`verifySnpReport`), pinned roots (`SNP_ROOTS`) and
 * errors. See ./report.ts, ./verify.ts, ./roots.ts, ./errors.ts.
 */
export * from './errors.ts';
export * from './report.ts';
export * from './roots.ts';
export * from './verify.ts';
export * from './certs.ts';
export * from './evidence.ts';
