// Build dispatcher: runs each build step in order (`npm run build`). Add further steps below.
import { buildContracts } from '@geode/contracts/build';
import { buildAllEnclaves } from '@geode/enclave/build';
import { buildAppClients, buildCli } from './build-cli.ts';

async function main(): Promise<void> {
  // 1. Solidity contracts -> packages/contracts/src/generated/artifacts.ts (skipped when sources are unchanged).
  await buildContracts();
  // 2. App enclaves -> dist/enclave/<app>.mjs (esbuild), printing each measurement (sha256 of the bundle).
  await buildAllEnclaves();
  // 3. The CLI -> packages/cli/dist/bin/geode.mjs + chunks (esbuild), what bin/geode.mjs and `npm run geode` run.
  console.log(`cli: ${await buildCli()}`);
  // 4. Each app's client module and artifacts -> dist/apps/<app>/ (esbuild): app commands and demos start without tsx.
  for (const dir of await buildAppClients()) console.log(`app client: ${dir}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
