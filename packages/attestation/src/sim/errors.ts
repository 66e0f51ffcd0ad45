/**
 * Errors of the simulation PKI and quote builder (src/sim).
 */
import { defineError } from '@geode/protocol';
import { AttestationError } from '../errors.ts';

/**
 * An argument of `createSimulationPki` / `buildSimQuote` / `loadSimulationPki` is malformed
 * (wrong byte length, out-of-range integer, unparseable serialised PKI). Code `ATTEST_SIM_INPUT`.
 */
export class SimInputError extends defineError({ code: 'ATTEST_SIM_INPUT', base: AttestationError }) {}
