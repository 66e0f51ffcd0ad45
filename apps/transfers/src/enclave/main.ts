/**
 * Enclave entry point of the transfers app: the Geode runtime running {@link transfersApp}. Bundled by
 * `npm run build` (packages/enclave/src/build.ts buildAllEnclaves) into dist/enclave/transfers.mjs.
 */
import { jsonStateApp, runEnclave } from '@geode/enclave';
import { transfersApp } from './app.ts';

// jsonStateApp: transitional, until the runtime keeps app state in the state store (then: runEnclave(transfersApp)).
runEnclave(jsonStateApp(transfersApp));
