/**
 * `geode enclave build [--tee sim|sgx|tdx|sev-snp] [--entry FILE] [--out FILE] [--node PATH] [--data-dir DIR] [--json]`
 *
 * Bundles an app's enclave entry (default: the manifest's `geode.enclave` of --app, else of the repository's default
 * app) for one TEE (docs/enclave.md#platform). Hardware
 * builds contain no simulation code. `--tee sgx` also writes `<out>.manifest.template`, the Gramine manifest that
 * pins the bundle. --json prints one object: { tee, bundle, bundleSha256, measurement?, manifest?, next[] }, where
 * `measurement` (sim only) is the simulated mr_enclave and `next` lists the commands that produce the hardware
 * measurement (docs/attestation.md#enclave-identity).
 *
 * `geode enclave recovery-key --out FILE`, `geode enclave backup --data-dir DIR --out FILE`,
 * `geode enclave restore --backup FILE --recovery-key FILE --data-dir DIR [--request ID]`: backup and restore of the
 * key material (docs/protocol.md#backup, docs/cli.md#backup; functions in ../backup-steps.ts).
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { BUILD_TEES, buildEnclave, type BuildTee } from '@geode/enclave/build';
import { gramineManifest } from '@geode/enclave/build';
import { CliArgumentError } from '../errors.ts';
import { fail, reporter } from '../output.ts';
import { REPO_ROOT, defaultApp } from '../stack.ts';
import { loadApp, type GeodeApp } from '../apps.ts';

/** Options of {@link runEnclaveBuild}. */
export interface EnclaveBuildOptions {
  /** The app whose enclave entry and bundle name are the defaults (default: defaultApp()). */
  app?: GeodeApp;
  tee?: string;
  entry?: string;
  out?: string;
  node?: string;
  dataDir?: string;
  json?: boolean;
}

/** Result of {@link runEnclaveBuild} (also the --json object). */
export interface EnclaveBuildResult {
  tee: BuildTee;
  bundle: string;
  bundleSha256: string;
  measurement?: string;
  manifest?: string;
  next: string[];
}

/** Build the bundle (and for sgx the manifest). Throws CliArgumentError for a bad --tee, esbuild's error otherwise. */
export async function runEnclaveBuild(o: EnclaveBuildOptions): Promise<EnclaveBuildResult> {
  const tee = (o.tee ?? 'sim') as BuildTee;
  if (!BUILD_TEES.includes(tee)) throw new CliArgumentError(`--tee must be one of ${BUILD_TEES.join(', ')}, got "${o.tee}"`);
  const app = o.entry && o.out ? undefined : o.app ?? defaultApp();
  const entry = resolve(o.entry ?? app!.enclaveEntry);
  const out = resolve(o.out ?? join(REPO_ROOT, 'dist/enclave', tee === 'sim' ? `${app!.name}.mjs` : `${app!.name}-${tee}.mjs`));
  const { outfile, measurement } = await buildEnclave({ entry, outfile: out, tee });
  const r: EnclaveBuildResult = { tee, bundle: outfile, bundleSha256: measurement, next: [] };
  if (tee === 'sim') r.measurement = measurement;
  if (tee === 'sgx') {
    const m = gramineManifest({ bundle: outfile, node: o.node, dataDir: o.dataDir });
    r.manifest = `${outfile}.manifest.template`;
    writeFileSync(r.manifest, m.text);
    r.next = [
      `gramine-manifest -Darch_libdir=/lib/x86_64-linux-gnu ${r.manifest} ${outfile}.manifest`,
      `gramine-sgx-sign --manifest ${outfile}.manifest --output ${outfile}.manifest.sgx   # prints mr_enclave`,
      `gramine-sgx ${outfile}   # run next to the manifest`,
    ];
  }
  if (tee === 'tdx' || tee === 'sev-snp') {
    r.next = [`put ${outfile} and node into the ${tee === 'tdx' ? 'TD' : 'SEV-SNP VM'} image; its ${tee === 'tdx' ? 'MRTD and RTMR0-3' : 'launch MEASUREMENT'} (docs/attestation.md#enclave-identity) is what the contract lists`];
  }
  return r;
}

/** Register `geode enclave build`, `start`, `recovery-key`, `backup` and `restore`. */
export function registerEnclaveCommands(program: Command): void {
  const enclave = program.command('enclave').description('Build enclave bundles for a TEE; start an enclave and host for a deployment');
  enclave
    .command('start')
    .option('--data-dir <dir>', 'the data dir `geode deploy` wrote (deployment.json, operator key); sealed files go to <dir>/enclave')
    .option('--json', 'print one JSON line once started')
    .option('-v, --verbose', 'log host and enclave activity to stderr')
    .description('Start the enclave process and the host for a deployment, with a loopback control endpoint for `geode handshake` and `geode status`; Ctrl-C stops')
    .action(async (opts: { dataDir?: string; json?: boolean; verbose?: boolean }) => {
      const rep = reporter(opts);
      try {
        if (!opts.dataDir) throw new CliArgumentError('--data-dir <dir> is required (the one `geode deploy` wrote)');
        const { startEnclave } = await import('../steps.ts');
        rep.progress('starting the enclave process, the host and the control endpoint');
        const r = await startEnclave({ dataDir: opts.dataDir, logger: rep.logger });
        rep.say(`enclave running (pid ${r.enclave.pid}); control endpoint ${r.url}. Next: geode handshake --data-dir ${opts.dataDir}`);
        rep.result({ ok: true, pid: r.enclave.pid ?? null, control: r.url });
        const stop = async () => { await r.stop(); process.exit(0); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      } catch (e) {
        fail(rep, e, e instanceof CliArgumentError ? 2 : 1);
      }
    });
  enclave
    .command('recovery-key')
    .requiredOption('--out <file>', 'where to write the new recovery key pair (JSON, 0600); keep it offline: it opens every backup')
    .option('--json', 'print one JSON line')
    .description('Create a recovery key pair (X25519) for backups; pass its public key to `geode deploy --recovery-key` (docs/protocol.md#backup)')
    .action(async (opts: { out: string; json?: boolean }) => {
      const rep = reporter(opts);
      try {
        const { writeRecoveryKey } = await import('../backup-steps.ts');
        const r = await writeRecoveryKey(opts.out);
        rep.say(`recovery key written to ${r.file}; public key ${r.publicKey}. Next: geode deploy ... --recovery-key ${r.publicKey}`);
        rep.result({ ok: true, ...r });
      } catch (e) {
        fail(rep, e);
      }
    });
  enclave
    .command('backup')
    .option('--data-dir <dir>', 'the data dir of a running, keyed `geode enclave start`')
    .option('--out <file>', 'where to write the backup (ciphertext JSON)')
    .option('--json', 'print one JSON line')
    .description('Export the enclave\'s key material sealed to the deployment\'s recovery key; store it, with copies of <data-dir>/enclave/state-*.db, anywhere (docs/protocol.md#backup)')
    .action(async (opts: { dataDir?: string; out?: string; json?: boolean }) => {
      const rep = reporter(opts);
      try {
        if (!opts.dataDir) throw new CliArgumentError('--data-dir <dir> is required (the one `geode enclave start` runs on)');
        if (!opts.out) throw new CliArgumentError('--out <file> is required (where the backup goes)');
        const { backupStep } = await import('../backup-steps.ts');
        const r = await backupStep({ dataDir: opts.dataDir, out: opts.out });
        rep.say(`backup of session ${r.sessionId} (signer ${r.signer}) written to ${r.file}; copy ${opts.dataDir}/enclave/state-*.db with it`);
        rep.result({ ok: true, ...r });
      } catch (e) {
        fail(rep, e, e instanceof CliArgumentError ? 2 : 1);
      }
    });
  enclave
    .command('restore')
    .option('--backup <file>', 'the backup file `geode enclave backup` wrote')
    .option('--recovery-key <file>', 'the recovery key file `geode enclave recovery-key` wrote')
    .option('--data-dir <dir>', 'the newcomer: a running `geode enclave start` with no keys (copy the backed-up state-*.db into <dir>/enclave before it starts)')
    .option('--request <id>', 'the newcomer\'s on-chain handover request (default: file one through the newcomer)')
    .option('--json', 'print one JSON line')
    .description('Restore the key material into a new attested instance: check it and the on-chain request, re-seal the keys to its handover key (docs/protocol.md#backup)')
    .action(async (opts: { backup?: string; recoveryKey?: string; dataDir?: string; request?: string; json?: boolean }) => {
      const rep = reporter(opts);
      try {
        if (!opts.backup || !opts.recoveryKey || !opts.dataDir) throw new CliArgumentError('--backup <file>, --recovery-key <file> and --data-dir <dir> are required');
        if (opts.request !== undefined && !/^[1-9][0-9]*$/.test(opts.request)) throw new CliArgumentError(`--request must be a handover request id (a positive integer), got "${opts.request}"`);
        const { restoreStep } = await import('../backup-steps.ts');
        const r = await restoreStep({ dataDir: opts.dataDir, backup: opts.backup, recoveryKey: opts.recoveryKey, requestId: opts.request === undefined ? undefined : BigInt(opts.request) });
        rep.say(`session ${r.sessionId} restored through handover request ${r.requestId}; the host follows the committed state ${r.stateRoot} and relays`);
        rep.result({ ok: true, ...r });
      } catch (e) {
        fail(rep, e, e instanceof CliArgumentError ? 2 : 1);
      }
    });
  enclave
    .command('build')
    .option('--tee <tee>', `TEE to build for: ${BUILD_TEES.join(', ')}`, 'sim')
    .option('--entry <file>', "the app's enclave entry (default: the manifest's geode.enclave of --app or of the default app)")
    .option('--out <file>', 'bundle path (default: dist/enclave/<app>[-<tee>].mjs)')
    .option('--node <path>', 'sgx: absolute path of node inside the image (default /usr/bin/node)')
    .option('--data-dir <dir>', 'sgx: host directory for sealed files, relative to where gramine-sgx runs (default geode-data)')
    .option('--json', 'print one JSON object')
    .description('Bundle the enclave; hardware builds contain no simulation code, --tee sgx also writes the Gramine manifest')
    .action(async (opts: EnclaveBuildOptions, cmd: Command) => {
      const rep = reporter(opts);
      try {
        const dir = (cmd.optsWithGlobals() as { app?: string }).app;
        rep.progress(`bundling the enclave for ${opts.tee ?? 'sim'}`);
        const r = await runEnclaveBuild({ ...opts, app: dir ? loadApp(dir, REPO_ROOT) : undefined });
        rep.result(r);
        rep.say(`${r.tee} bundle ${r.bundle} (sha256 ${r.bundleSha256})`);
        if (r.measurement) rep.say(`simulated mr_enclave ${r.measurement}`);
        if (r.manifest) rep.say(`Gramine manifest template ${r.manifest}`);
        for (const n of r.next) rep.say(`next: ${n}`);
      } catch (e) {
        fail(rep, e, e instanceof CliArgumentError ? 2 : 1);
      }
    });
}
