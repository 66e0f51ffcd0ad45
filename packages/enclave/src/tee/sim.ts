import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSimQuote, type BuildSimQuoteOptions } from '@geode/attestation/sim/quote';
import { EnclaveError } from '../errors.ts';
import type { Attestor } from './attestor.ts';

type SimulationPkiData = BuildSimQuoteOptions['pki'];

/** MRSIGNER of every simulated enclave: SHA-256("geode-sim-signer"). */
export const SIM_MR_SIGNER = new Uint8Array(createHash('sha256').update('geode-sim-signer').digest());
/** File name of the simulation PKI in the data dir (overridden by env GEODE_SIM_PKI). */
export const SIM_PKI_FILE = 'sim-pki.json';

/** Simulated measurement: SHA-256 of the file at `path` (the enclave bundle the process runs). */
export function measureFile(path: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(readFileSync(path)).digest());
}

export interface SimAttestorOptions {
  /** Data dir holding sim-pki.json. */
  dataDir: string;
  /** Path of the simulation PKI JSON; default env GEODE_SIM_PKI, else `<dataDir>/sim-pki.json`. */
  pkiPath?: string;
  /** Measurement; default SHA-256 of process.argv[1] (the running bundle). */
  measurement?: Uint8Array;
  /** Print the simulation warning to stderr (default true). */
  warn?: boolean;
}

let warned = false;

/**
 * The simulated TEE (`--tee sim`): quotes in the real SGX DCAP v3 layout, signed through the simulation PKI
 * (@geode/attestation buildSimQuote), with mr_enclave = measurement and mr_signer = SIM_MR_SIGNER.
 * The PKI is read lazily at the first quote, so `status` works without it. No hardware protection.
 */
export function createSimAttestor(opts: SimAttestorOptions): Attestor {
  const measurement = opts.measurement ?? measureFile(process.argv[1]!);
  if (opts.warn !== false && !warned) {
    warned = true;
    process.stderr.write('WARNING: simulated TEE — no hardware protection\n');
  }
  const pkiPath = opts.pkiPath ?? process.env.GEODE_SIM_PKI ?? join(opts.dataDir, SIM_PKI_FILE);
  let pki: SimulationPkiData | undefined;
  return {
    teeType: 'sgx-sim',
    simulated: true,
    measurement,
    quote(reportData: Uint8Array): Uint8Array {
      if (!pki) {
        try {
          pki = JSON.parse(readFileSync(pkiPath, 'utf8')) as SimulationPkiData;
        } catch (e) {
          throw new EnclaveError('ENCLAVE_ATTESTOR_UNAVAILABLE', `Cannot read the simulation PKI at ${pkiPath}: ${(e as Error).message}. Create it with the CLI (createSimulationPki) or set GEODE_SIM_PKI.`, { cause: e, details: { path: pkiPath } });
        }
      }
      try {
        return buildSimQuote({ pki, mrEnclave: measurement, mrSigner: SIM_MR_SIGNER, reportData });
      } catch (e) {
        pki = undefined;
        throw new EnclaveError('ENCLAVE_ATTESTOR_UNAVAILABLE', `Simulated quote failed: ${(e as Error).message}.`, { cause: e });
      }
    },
  };
}
