// Build dispatcher: runs each build step in order (`npm run build`). Add further steps below.
import { buildContracts } from '@geode/contracts/build';
import { buildAllEnclaves } from '@geode/enclave/build';
import { buildCli } from './build-cli.ts';

async function main(): Promise<void> {
  // 1. Solidity contracts -> packages/contracts/src/generated/artifacts.ts (skipped when sources are unchanged).
  await buildContracts();
  // 2. App enclaves -> dist/enclave/<app>.mjs (esbuild), printing each measurement (sha256 of the bundle).
  await buildAllEnclaves();
  // 3. The CLI -> packages/cli/dist/bin/geode.mjs + chunks (esbuild), what bin/geode.mjs and `npm run geode` run.
  console.log(`cli: ${await buildCli()}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
