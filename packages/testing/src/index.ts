/**
 * @geode/testing — testing an app (docs/apps.md#testing): the in-memory handler harness ({@link AppHarness}: the
 * real state store, a pinned handler context, rollback assertions, the app's output decoder). The dev stack for
 * end-to-end tests is the separate entry point `@geode/testing/stack` (it loads the devnet, host and CLI).
 *
 * Untrusted code: an app's enclave side never imports this package (packages/enclave/test/boundary.test.ts).
 */
export { AppHarness, ok, refused, single, type Emitted, type HarnessBlock, type HarnessOptions, type Outcome } from './harness.ts';
