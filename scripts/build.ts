// Build dispatcher: runs each build step in order (`npm run build`). Add further steps below.
import { buildContracts } from '@geode/contracts/build';

async function main(): Promise<void> {
  // 1. Solidity contracts -> packages/contracts/src/generated/artifacts.ts (skipped when sources are unchanged).
  await buildContracts();
  // 2. (enclave bundle step goes here)
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
