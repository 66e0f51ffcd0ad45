/**
 * Ethereum sync-committee light client (docs/protocol.md#ethereum-light-client): pure verification predicates over
 * Lodestar SSZ types and ChainSafe BLS; the caller keeps and advances the store.
 */
export * from './anchor.ts';
export * from './bootstrap.ts';
export * from './decode.ts';
export * from './header.ts';
export * from './store.ts';
export * from './sync.ts';
export * from './update.ts';
export * from './execution.ts';
