/** The enclave's light client: header and storage-proof verification predicates (pure, no I/O). */
export * from './header.ts';
export * from './proof.ts';
