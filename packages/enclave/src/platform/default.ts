/**
 * The platform a bundle opens when its entry does not pass one: in the default (`--tee sim`) build, the simulator.
 * Bundles built for hardware replace this module by ./default-hardware.ts (build.ts), so they contain no
 * simulation code.
 */
import type { Platform } from './platform.ts';
import { createSimPlatform } from './sim.ts';

/** Open the simulated platform for `dataDir` (sim-pki.json / GEODE_SIM_PKI, sim-platform.key). */
export async function openDefaultPlatform(dataDir: string): Promise<Platform> {
  return createSimPlatform({ dataDir });
}
