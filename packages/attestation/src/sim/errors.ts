/**
 * Errors of the simulation PKI and quote builder (src/sim).
 */
import { AttestationError, type AttestationErrorOptions } from '../errors.ts';

/**
 * An argument of `createSimulationPki` / `buildSimQuote` / `loadSimulationPki` is malformed
 * (wrong byte length, out-of-range integer, unparseable serialised PKI). Code `ATTEST_SIM_INPUT`.
 */
export class SimInputError extends AttestationError {
  static readonly code = 'ATTEST_SIM_INPUT';
  declare readonly code: 'ATTEST_SIM_INPUT';
  constructor(message: string, opts: AttestationErrorOptions = {}) {
    super('ATTEST_SIM_INPUT', message, opts);
  }
}
