// Build dispatcher: runs each build step in order (`npm run build`). Add further steps below.
import { buildContracts } from '@geode/contracts/build';
import { buildAllEnclaves } from '@geode/enclave/build';

async function main(): Promise<void> {
  // 1. Solidity contracts -> packages/contracts/src/generated/artifacts.ts (skipped when sources are unchanged).
  await buildContracts();
  // 2. App enclaves -> dist/enclave/<app>.mjs (esbuild), printing each measurement (sha256 of the bundle).
  await buildAllEnclaves();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
