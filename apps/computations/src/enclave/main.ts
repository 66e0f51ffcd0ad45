/**
 * Enclave entry point of the computations app: the Geode runtime (attestation, sealed state,
 * light-client-gated batches, output encryption) running {@link computationsApp}.
 * Bundled by scripts/build.ts into the enclave image.
 */
import { runEnclave } from '@geode/enclave';
import { computationsApp } from './app.ts';

runEnclave(computationsApp);
