/**
 * Client-side API of the transfers app (@geode/app-transfers): the request declaration and its encoders, output
 * decoding and the APP_TRANSFERS_* error classes. Excludes the enclave code (./enclave/*).
 */
export * from './spec.ts';
export * from './errors.ts';
export * from './outputs.ts';
