/**
 * The platform of a bundle built for hardware (build.ts replaces ./default.ts by this module when `tee` is `sgx`,
 * `tdx` or `sev-snp`). The TEE is fixed at build time through the esbuild define `GEODE_TEE`, never chosen by the
 * host at run time. Device paths can be moved (GEODE_TSM_ROOT, GEODE_GRAMINE_ATTESTATION_DIR) because the evidence
 * the device returns, not the path, is what verifiers check.
 */
import { EnclaveError } from '../errors.ts';
import { openConfigfsTsmPlatform } from './configfs-tsm.ts';
import { openGraminePlatform } from './gramine.ts';
import type { Platform } from './platform.ts';

declare const GEODE_TEE: string;

/** Open the build's hardware platform. Throws EnclaveError ENCLAVE_ATTESTOR_UNAVAILABLE when the device is absent. */
export async function openDefaultPlatform(_dataDir: string): Promise<Platform> {
  const tee = typeof GEODE_TEE === 'string' ? GEODE_TEE : '';
  if (tee === 'sgx') return openGraminePlatform({ dir: process.env.GEODE_GRAMINE_ATTESTATION_DIR });
  if (tee === 'tdx' || tee === 'sev-snp') return openConfigfsTsmPlatform({ tee, root: process.env.GEODE_TSM_ROOT });
  throw new EnclaveError('ENCLAVE_ATTESTOR_UNAVAILABLE', `This bundle was built for TEE "${tee}", which has no hardware platform; rebuild it with --tee sgx, tdx or sev-snp.`, { details: { tee } });
}
