#!/usr/bin/env node
// The `geode` executable: runs the prebuilt CLI bundle (packages/cli/dist/bin/geode.mjs, built by `npm run build`;
// docs/cli.md#startup). No TypeScript loader at run time. In a Geode clone whose bundle is missing (a fresh
// `npm ci`), the first run builds it (`npm run build`, output to stderr so that --json stays clean), then runs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/bin/geode.mjs', import.meta.url);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
if (!existsSync(bundle) && existsSync(`${repo}scripts/build.ts`)) {
  console.error('geode: first run in this clone: building the CLI, contracts and enclave bundles (npm run build, about a minute)...');
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: repo, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    console.error(`geode: npm run build failed${r.error ? ` (${r.error.message})` : ' (its output is above)'}; fix that, then run the command again.`);
    process.exit(1);
  }
}
try {
  await import('../dist/bin/geode.mjs');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/bin/geode.mjs')) throw e;
  console.error('geode: the CLI bundle packages/cli/dist/bin/geode.mjs is missing. Run `npm run build` in the Geode repository.');
  process.exitCode = 1;
}
