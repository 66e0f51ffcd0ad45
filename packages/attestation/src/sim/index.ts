/**
 * Geode simulation TEE: PKI (`createSimulationPki`, `loadSimulationPki`), quote builder (`buildSimQuote`) and
 * the quote layout constants used by the on-chain simulation verifier. See ./pki.ts, ./quote.ts, ./layout.ts.
 */
export * from './layout.ts';
export * from './errors.ts';
export * from './pki.ts';
export * from './quote.ts';
