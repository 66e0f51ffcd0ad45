/**
 * AWS Nitro Enclaves: attestation document parser (`parseNitroDocument`), verifier (`verifyNitroDocument`),
 * pinned root and errors. See ./document.ts, ./verify.ts, ./roots.ts, ./errors.ts.
 */
export * from './errors.ts';
export * from './document.ts';
export * from './roots.ts';
export * from './verify.ts';
