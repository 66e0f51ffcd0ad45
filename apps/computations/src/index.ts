/**
 * Client-side API of the computations app (@geode/app-computations): request encoding, output
 * decoding, the public creation body, computation type names and the APP_* error classes.
 *
 * Deliberately excludes the enclave code (./enclave/*): clients never load trusted handlers.
 * See docs/apps.md for the worked example.
 */
export * from './messages.ts';
export * from './errors.ts';
