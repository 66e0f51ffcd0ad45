/**
 * `geode deploy`, `geode handshake`, `geode status`: the Quartz-style steps one by one against any EVM endpoint
 * (docs/cli.md#steps); `geode enclave start` is in ./enclave.ts. The functions are in ../steps.ts. And `geode rotate`
 * (docs/cli.md#rotate, ../rotate.ts), the admin's rotation of the request key on the same data dir.
 */
import type { Command } from 'commander';
import { REPO_ROOT, defaultApp } from '../stack.ts';
import { loadApp } from '../apps.ts';
import { deployApp, handshake, readDeployment, status } from '../steps.ts';
import { homeDir, readDevInfo } from '../home.ts';
import { CliArgumentError } from '../errors.ts';
import { rotate, setRotationSchedule } from '../rotate.ts';
import { fail, reporter } from '../output.ts';

/** --data-dir is required by the steps (it holds the deployment's keys and files). Throws CliArgumentError. */
function dataDirOf(o: { dataDir?: string }): string {
  if (!o.dataDir) throw new CliArgumentError('--data-dir <dir> is required: it holds deployment.json, the operator key and the enclave\'s sealed files');
  return o.dataDir;
}

export function registerStepCommands(program: Command): void {
  program
    .command('deploy')
    .description("Deploy an app (--app <dir>) to an EVM endpoint: build its contract and enclave bundle, deploy the verifier and the app contract, write <data-dir>/deployment.json")
    .requiredOption('--rpc <url>', 'the EVM JSON-RPC endpoint (a Geode devnet, or any with --insecure-trusted-rpc)')
    .option('--private-key <hex>', 'funded account that deploys and funds the operator (or GEODE_PRIVATE_KEY)')
    .option('--insecure-trusted-rpc', 'INSECURE, testing only: let the enclave believe the RPC node (networks with no Geode light client)')
    .option('--data-dir <dir>', 'where deployment.json, the operator key and the sim PKI go (created 0700)')
    .option('--recovery-key <hex>', 'X25519 public key (0x, 32 bytes) backups are sealed to, from `geode enclave recovery-key`; fixed before the first session (default: none, no backup)')
    .option('--json', 'print one JSON line')
    .action(async (o: { rpc: string; privateKey?: string; insecureTrustedRpc?: boolean; dataDir?: string; recoveryKey?: string; json?: boolean }, cmd: Command) => {
      const rep = reporter(o);
      try {
        const dataDir = dataDirOf(o);
        if (!/^(https?|wss?):\/\/.+/.test(o.rpc)) throw new CliArgumentError(`--rpc must be an http(s):// or ws(s):// URL, got "${o.rpc}"`);
        const key = o.privateKey ?? process.env.GEODE_PRIVATE_KEY;
        if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) throw new CliArgumentError('deploying needs a funded account: pass --private-key 0x<64 hex> or set GEODE_PRIVATE_KEY');
        if (o.recoveryKey !== undefined && (!/^0x[0-9a-fA-F]{64}$/.test(o.recoveryKey) || BigInt(o.recoveryKey) === 0n)) throw new CliArgumentError('--recovery-key must be a non-zero 0x-prefixed 32-byte X25519 public key (the publicKey of `geode enclave recovery-key`)');
        const dir = (cmd.optsWithGlobals() as { app?: string }).app;
        const app = dir ? loadApp(dir, REPO_ROOT) : defaultApp();
        const d = await deployApp({ app, rpcUrl: o.rpc, privateKey: key as `0x${string}`, trustedRpc: o.insecureTrustedRpc, dataDir, recoveryKey: o.recoveryKey?.toLowerCase() as `0x${string}` | undefined, progress: rep.progress });
        rep.say(`${app.name} deployed: contract ${d.contract} (from block ${d.fromBlock}), measurement ${d.measurement.slice(2)}`);
        rep.say(`Next: geode enclave start --data-dir ${dataDir}`);
        rep.result({ ok: true, app: app.name, contract: d.contract, chainId: d.chainId, fromBlock: d.fromBlock, measurement: d.measurement, dataDir });
      } catch (e) {
        fail(rep, e, e instanceof CliArgumentError ? 2 : 1);
      }
    });

  program
    .command('handshake')
    .description('Run the session handshake through the running `geode enclave start` of --data-dir; the host then relays batches')
    .option('--data-dir <dir>', 'the data dir of `geode deploy` / `geode enclave start`')
    .option('--json', 'print one JSON line')
    .action(async (o: { dataDir?: string; json?: boolean }) => {
      const rep = reporter(o);
      try {
        const dataDir = dataDirOf(o);
        rep.progress('running the session handshake: the enclave attests, its keys go on-chain');
        const r = await handshake(dataDir);
        rep.say(`session ${r.sessionId} active; the host relays batches`);
        rep.result({ ok: true, ...r });
      } catch (e) {
        fail(rep, e, e instanceof CliArgumentError ? 2 : 1);
      }
    });

  program
    .command('status')
    .description('Session (attested measurement and verdict), committedSeq against requestCount, enclave and host health: of --data-dir, else of the running `geode dev`')
    .option('--data-dir <dir>', 'the data dir of `geode deploy` / `geode enclave start`')
    .option('--home <dir>', 'without --data-dir: the CLI home of the running `geode dev` (default ./.geode)')
    .option('--json', 'print one JSON line')
    .action(async (o: { dataDir?: string; home?: string; json?: boolean }) => {
      const rep = reporter(o);
      try {
        const conn = o.dataDir ? readDeployment(o.dataDir) : readDevInfo(homeDir(o.home));
        rep.progress('reading the chain and verifying the active session');
        // `geode dev` runs the same steps in its own data dir: its control endpoint answers for the enclave and host.
        const r = await status(conn, o.dataDir ?? ('dataDir' in conn ? conn.dataDir : undefined));
        if ('error' in r.session) rep.say(`session: NOT VERIFIED: ${r.session.error.code}: ${r.session.error.message}`);
        else rep.say(`session ${r.session.id}: ${r.session.verdict.teeType} ${r.session.verdict.status}, mr_enclave ${r.session.measurement.slice(2)}${r.session.simulated ? ' (SIMULATED TEE)' : ''}`);
        rep.say(`requests: ${r.committedSeq} of ${r.requestCount} committed (${r.pending} pending)`);
        rep.say(`request key: epoch ${r.epoch.epoch}${r.epoch.epoch === '0' ? ' (the session key)' : ''}, ${r.epoch.encPubKey}`);
        rep.say(r.enclave ? `enclave: ${r.enclave.running ? `running (pid ${r.enclave.pid})` : 'not running'}; host: ${r.host?.relaying ? 'relaying' : 'waiting for `geode handshake`'}${r.host?.lastError ? ` (last error: ${r.host.lastError})` : ''}` : `enclave and host: no control endpoint answers (${o.dataDir ? `no \`geode enclave start --data-dir ${o.dataDir}\` is running` : 'the running `geode dev` does not answer: restart it'})`);
        rep.result(r);
        if (!r.ok) process.exitCode = 1;
      } catch (e) {
        fail(rep, e, e instanceof CliArgumentError ? 2 : 1);
      }
    });

  program
    .command('rotate')
    .description("Rotate the request key to a new epoch (the admin's GeodeCore.requestRotation) of --data-dir, else of the running `geode dev`; --wait until it is committed, --every <n> for a schedule")
    .option('--data-dir <dir>', 'the data dir of `geode deploy` (its operator-key.json is the admin)')
    .option('--home <dir>', 'without --data-dir: the CLI home of the running `geode dev` (default ./.geode)')
    .option('--wait', 'wait until the host committed the rotation and print the new epoch key')
    .option('--every <requests>', 'instead of rotating now: rotate automatically after every <requests> requests (GeodeCore.setRotationSchedule; 0 = off, else at least 8)')
    .option('--timeout <seconds>', 'bound of --wait', '120')
    .option('--json', 'print one JSON line')
    .action(async (o: { dataDir?: string; home?: string; wait?: boolean; every?: string; timeout: string; json?: boolean }) => {
      const rep = reporter(o);
      try {
        if (o.every !== undefined && !/^(0|[1-9][0-9]{0,18})$/.test(o.every)) throw new CliArgumentError(`--every must be a whole number of requests (0 = off), got "${o.every}"`);
        if (o.every !== undefined && o.wait) throw new CliArgumentError('--wait waits for a rotation; with --every nothing rotates now');
        const seconds = Number(o.timeout);
        if (!Number.isFinite(seconds) || seconds <= 0) throw new CliArgumentError(`--timeout must be a positive number of seconds, got "${o.timeout}"`);
        const dataDir = o.dataDir ?? readDevInfo(homeDir(o.home)).dataDir;
        if (!dataDir) throw new CliArgumentError('--data-dir <dir> is required: the running `geode dev` records no data dir');
        if (o.every !== undefined) {
          rep.progress('sending GeodeCore.setRotationSchedule as the admin');
          const r = await setRotationSchedule(dataDir, BigInt(o.every));
          rep.say(r.everyRequests === '0' ? 'rotation schedule off: the request key rotates on demand only' : `the contract now rotates the request key after every ${r.everyRequests} requests (counting from request ${r.fromSeq})`);
          rep.result(r);
          return;
        }
        rep.progress('sending GeodeCore.requestRotation as the admin');
        const r = await rotate(dataDir, { wait: o.wait, timeoutMs: seconds * 1000 });
        rep.say(`rotation to epoch ${r.epoch} requested (request ${r.seq}, block ${r.block})${r.encPubKey ? `; committed: clients now encrypt to ${r.encPubKey}` : '; the host commits it with the new epoch key (geode status shows it)'}`);
        rep.result(r);
      } catch (e) {
        fail(rep, e, e instanceof CliArgumentError ? 2 : 1);
      }
    });
}
