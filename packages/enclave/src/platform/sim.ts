/**
 * The development simulator (`--tee sim`; docs/enclave.md#platform): no hardware protection. The only module of
 * the enclave that holds simulation code; bundles built for hardware (build.ts `tee` other than `sim`) refuse to
 * include it.
 *
 * - Measurement (mr_enclave): SHA-256 of the enclave bundle the process runs.
 * - Evidence: SGX DCAP v3 quotes in the real layout, signed through the simulation PKI (@geode/attestation
 *   buildSimQuote), mr_signer = SIM_MR_SIGNER. The PKI is read lazily at the first quote, so `status` works
 *   without it.
 * - Sealing: HKDF-SHA256 (RFC 5869, node:crypto) from a random secret file `sim-platform.key` in the data
 *   directory that stands in for a CPU fuse key.
 */
import { X509Certificate, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSimQuote, type BuildSimQuoteOptions } from '@geode/attestation/sim/quote';
import { EnclaveError } from '../errors.ts';
import { atomicWrite } from '../seal.ts';
import type { SimPlatform } from './platform.ts';

type SimulationPkiData = BuildSimQuoteOptions['pki'];

/** MRSIGNER of every simulated enclave: SHA-256("geode-sim-signer"). */
export const SIM_MR_SIGNER = new Uint8Array(createHash('sha256').update('geode-sim-signer').digest());
/** File name of the simulation PKI in the data dir (overridden by env GEODE_SIM_PKI). */
export const SIM_PKI_FILE = 'sim-pki.json';
/** File name of the simulated platform secret. */
export const SIM_PLATFORM_KEY_FILE = 'sim-platform.key';

/** Simulated measurement: SHA-256 of the file at `path` (the enclave bundle the process runs). */
export function measureFile(path: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(readFileSync(path)).digest());
}

/**
 * Sim sealing key (32 bytes) = HKDF-SHA256(ikm = platform secret, salt = empty,
 * info = "geode.seal.v1" || mrEnclave (32) || configHash (32)) (RFC 5869).
 */
export function deriveSimSealingKey(platformSecret: Uint8Array, mrEnclave: Uint8Array, configHash: Uint8Array): Uint8Array {
  const info = Buffer.concat([Buffer.from('geode.seal.v1', 'ascii'), mrEnclave, configHash]);
  return new Uint8Array(hkdfSync('sha256', platformSecret, new Uint8Array(0), info, 32));
}

/**
 * Read the simulated platform secret (32 bytes) from `<dir>/sim-platform.key`, creating it (random, atomic, mode
 * 0600) if absent. Throws ENCLAVE_SEAL_CORRUPT if the file has the wrong size.
 */
export function loadOrCreateSimPlatformSecret(dir: string): Uint8Array {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, SIM_PLATFORM_KEY_FILE);
  if (!existsSync(p)) atomicWrite(dir, SIM_PLATFORM_KEY_FILE, randomBytes(32));
  const b = readFileSync(p);
  if (b.length !== 32) throw new EnclaveError('ENCLAVE_SEAL_CORRUPT', `${p} must hold exactly 32 bytes; delete it only if you also delete every sealed file in ${dir}.`, { details: { file: SIM_PLATFORM_KEY_FILE, length: b.length } });
  return new Uint8Array(b);
}

/** Options of {@link createSimPlatform}. */
export interface SimPlatformOptions {
  /** Data dir holding sim-pki.json and sim-platform.key. */
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
 * The simulated TEE. Evidence throws ENCLAVE_ATTESTOR_UNAVAILABLE when the PKI is missing or unusable; the sealing
 * key throws ENCLAVE_SEAL_CORRUPT / ENCLAVE_SEAL_IO for a bad or unwritable platform secret.
 */
export function createSimPlatform(opts: SimPlatformOptions): SimPlatform {
  const measurement = opts.measurement ?? measureFile(process.argv[1]!);
  if (opts.warn !== false && !warned) {
    warned = true;
    process.stderr.write('WARNING: simulated TEE — no hardware protection\n');
  }
  const pkiPath = opts.pkiPath ?? process.env.GEODE_SIM_PKI ?? join(opts.dataDir, SIM_PKI_FILE);
  let pki: SimulationPkiData | undefined;
  const loadPki = (): void => {
    if (pki) return;
    try {
      pki = JSON.parse(readFileSync(pkiPath, 'utf8')) as SimulationPkiData;
    } catch (e) {
      throw new EnclaveError('ENCLAVE_ATTESTOR_UNAVAILABLE', `Cannot read the simulation PKI at ${pkiPath}: ${(e as Error).message}. Create it with the CLI (createSimulationPki) or set GEODE_SIM_PKI.`, { cause: e, details: { path: pkiPath } });
    }
  };
  return {
    teeType: 'sgx-sim',
    simulated: true,
    measurement,
    mrEnclave: measurement,
    mrSigner: SIM_MR_SIGNER,
    sealing: {
      kind: 'simulated',
      sealingKey: (context) => deriveSimSealingKey(loadOrCreateSimPlatformSecret(opts.dataDir), measurement, context),
    },
    simRootCaDer() {
      loadPki();
      return new Uint8Array(new X509Certificate(pki!.certs.rootCa).raw);
    },
    evidence(reportData) {
      loadPki();
      try {
        return { kind: 'dcap-quote', quote: buildSimQuote({ pki: pki!, mrEnclave: measurement, mrSigner: SIM_MR_SIGNER, reportData }) };
      } catch (e) {
        pki = undefined;
        throw new EnclaveError('ENCLAVE_ATTESTOR_UNAVAILABLE', `Simulated quote failed: ${(e as Error).message}.`, { cause: e });
      }
    },
  };
}
