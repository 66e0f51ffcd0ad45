import { resolve } from 'node:path';
import type { EnclaveApp } from './app.ts';
import { EnclaveRuntime } from './runtime.ts';
import { serveStreams } from './server.ts';
import type { Attestor } from './tee/attestor.ts';
import { createSimAttestor } from './tee/sim.ts';

/** Options of {@link runEnclave}. */
export interface RunEnclaveOptions {
  /** Data directory; default env GEODE_ENCLAVE_DIR, else ./.geode/enclave. */
  dataDir?: string;
  /** Attestor; default the simulated TEE (createSimAttestor). */
  attestor?: Attestor;
}

/**
 * The entry point an app's enclave main calls: `await runEnclave(app)`. Serves the Geode transport on
 * stdin/stdout (length-prefixed JSON frames), logs only to stderr, and exits the process (code 0) when stdin ends.
 */
export async function runEnclave<S>(app: EnclaveApp<S>, opts: RunEnclaveOptions = {}): Promise<void> {
  const dataDir = resolve(opts.dataDir ?? process.env.GEODE_ENCLAVE_DIR ?? '.geode/enclave');
  const attestor = opts.attestor ?? createSimAttestor({ dataDir });
  const runtime = new EnclaveRuntime(app, { dataDir, attestor });
  process.stderr.write(`enclave: ${app.name} measurement ${runtime.measurement} data ${dataDir}\n`);
  process.stdout.on('error', () => process.exit(0)); // host went away
  await serveStreams(runtime, process.stdin, process.stdout);
  process.exit(0);
}
