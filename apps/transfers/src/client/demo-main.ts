/**
 * `npm run demo:transfers`: runs the transfers demo and prints its summary as exactly one JSON line on stdout
 * (progress and narration on stderr). Stands in for `geode demo --app apps/transfers --json` until the CLI loads apps.
 */
import { runTransfersDemo } from './demo.ts';

const r = await runTransfersDemo({ progress: (s) => process.stderr.write(`… ${s}\n`), say: (l) => process.stderr.write(`${l}\n`) });
process.stdout.write(`${JSON.stringify(r)}\n`);
process.exitCode = r.ok ? 0 : 1;
