/**
 * Enclave entry point of the transfers app: the Geode runtime running {@link transfersApp}. Bundled by
 * `npm run build` (packages/enclave/src/build.ts buildAllEnclaves) into dist/enclave/transfers.mjs.
 */
import { runEnclave } from '@geode/enclave';
import { transfersApp } from './app.ts';

runEnclave(transfersApp);
