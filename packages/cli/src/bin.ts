// Entry point of the prebuilt CLI bundle (packages/cli/dist/bin/geode.mjs, scripts/build-cli.ts): run the command line.
import { run } from './main.ts';

await run(process.argv);
