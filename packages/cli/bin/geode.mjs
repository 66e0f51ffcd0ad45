#!/usr/bin/env node
// The `geode` executable: runs the prebuilt CLI bundle (packages/cli/dist/bin/geode.mjs, built by `npm run build`;
// docs/cli.md#startup). No TypeScript loader at run time.
try {
  await import('../dist/bin/geode.mjs');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/bin/geode.mjs')) throw e;
  console.error('geode: the CLI bundle packages/cli/dist/bin/geode.mjs is missing. Run `npm run build` in the Geode repository.');
  process.exitCode = 1;
}
