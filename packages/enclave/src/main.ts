import { resolve } from 'node:path';
import type { EnclaveApp } from './app.ts';
import { openDefaultPlatform } from './platform/default.ts';
import type { Platform } from './platform/platform.ts';
import { EnclaveRuntime } from './runtime.ts';
import { serveStreams } from './server.ts';

/** Options of {@link runEnclave}. */
export interface RunEnclaveOptions {
  /** Data directory; default env GEODE_ENCLAVE_DIR, else ./.geode/enclave. */
  dataDir?: string;
  /** Platform; default the one the bundle was built for (build.ts `tee`: the simulator unless built for hardware). */
  platform?: Platform;
}

/**
 * The entry point an app's enclave main calls: `await runEnclave(app)`. Opens the platform, serves the Geode
 * transport on stdin/stdout (length-prefixed JSON frames), logs only to stderr, and exits the process (code 0) when
 * stdin ends. A platform that cannot be opened is logged and exits with code 1.
 */
export async function runEnclave(app: EnclaveApp, opts: RunEnclaveOptions = {}): Promise<void> {
  const dataDir = resolve(opts.dataDir ?? process.env.GEODE_ENCLAVE_DIR ?? '.geode/enclave');
  let platform: Platform;
  try {
    platform = opts.platform ?? (await openDefaultPlatform(dataDir));
  } catch (e) {
    process.stderr.write(`enclave: cannot open the platform: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const runtime = new EnclaveRuntime(app, { dataDir, platform });
  process.stderr.write(`enclave: ${app.name} ${platform.teeType} measurement ${runtime.measurement} data ${dataDir}\n`);
  process.stdout.on('error', () => process.exit(0)); // host went away
  await serveStreams(runtime, process.stdin, process.stdout);
  runtime.close();
  process.exit(0);
}
