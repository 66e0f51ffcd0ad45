import type { Command } from 'commander';
import { bytesToHex } from 'viem';
import { REPO_ROOT, defaultApp, lightClientOption, rpcOption, startDevStack, teeOption, withRpcOptions, type RpcCliOptions } from '../stack.ts';
import { loadApp } from '../apps.ts';
import { homeDir, removeDevInfo, writeDevInfo } from '../home.ts';
import { fail, reporter } from '../output.ts';
import { CliArgumentError } from '../errors.ts';

export function registerDevCommand(program: Command): void {
  withRpcOptions(program
    .command('dev'))
    .description("Start the embedded devnet, deploy an app (--app <dir>, default the repository's geode.defaultApp), start the enclave and the host, and keep them running")
    .option('--port <port>', 'JSON-RPC port (HTTP and WebSocket)', '8545')
    .option('--host <address>', 'interface the JSON-RPC server listens on; the default 127.0.0.1 is reachable from this machine only. It serves standard eth_*/net_*/web3_* and geode_* methods, never test methods (hardhat_*, evm_*) or account methods', '127.0.0.1')
    .option('--home <dir>', 'where dev.json and identities live (default ./.geode)')
    .option('--tee <tee>', 'TEE of the enclave: sim, sgx, tdx, sev-snp (hardware needs an on-chain verifier for its evidence)', 'sim')
    .option('--json', 'print the connection details as one JSON line')
    .option('--save-private-key', 'with --rpc: also store --private-key in dev.json (mode 0600) so `geode identity create` can fund identities from it; by default your key is never written to disk')
    .option('-v, --verbose', 'log host and enclave activity to stderr')
    .action(async (opts: { port: string; host: string; home?: string; json?: boolean; verbose?: boolean; savePrivateKey?: boolean; tee?: string } & RpcCliOptions, cmd: Command) => {
      const rep = reporter(opts);
      try {
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliArgumentError(`--port must be an integer 0-65535, got "${opts.port}"`);
        const home = homeDir(opts.home);
        const rpc = rpcOption(opts);
        if (opts.savePrivateKey && !rpc) throw new CliArgumentError('--save-private-key only applies with --rpc <url> --private-key KEY (the embedded devnet\'s faucet key is always in dev.json)');
        const tee = teeOption(opts.tee);
        const lightClient = lightClientOption(opts.lightClient);
        const dir = (cmd.optsWithGlobals() as { app?: string }).app;
        const app = dir ? loadApp(dir, REPO_ROOT) : defaultApp();
        const stack = await startDevStack({ app, servePort: rpc ? undefined : port, serveHost: opts.host, progress: rep.progress, logger: rep.logger, rpc, tee, lightClient });
        const info = {
          rpcUrl: rpc ? rpc.url : stack.server!.url,
          wsUrl: rpc ? rpc.url : stack.server!.wsUrl,
          trustedRpc: stack.trustedRpc,
          lightClient: rpc ? (rpc.beacon ? 'ethereum' : 'devnet') : lightClient,
          ...(stack.beacon ? { beaconUrl: stack.server!.url, ethereumAnchor: stack.deployment.config.ethereumAnchor } : {}),
          chainId: stack.chain.chainId.toString(),
          contract: stack.deployment.contract,
          fromBlock: stack.deployment.fromBlock.toString(),
          measurement: stack.measurement,
          simRootCaDer: bytesToHex(stack.pki.rootCaDer),
          collateral: stack.pki.collateral() as unknown as Record<string, string>,
          policy: stack.policy,
          // The embedded devnet's faucet key is a throwaway dev key; a user's own --private-key stays off disk unless asked.
          faucetKey: rpc && !opts.savePrivateKey ? undefined : stack.faucetKey,
          pid: process.pid,
          app: app.dir,
          dataDir: stack.dataDir,
        };
        writeDevInfo(home, info);
        rep.say(`Geode devnet running.`);
        rep.say(`  RPC        ${info.rpcUrl}  (WebSocket ${info.wsUrl})`);
        if (stack.beacon) rep.say(`  beacon     ${info.rpcUrl}/eth/v1/beacon/light_client/* (Ethereum light client; the devnet holds every committee key: no security)`);
        rep.say(`  contract   ${info.contract} (${app.name} app, ${app.dir})`);
        rep.say(`  enclave    mr_enclave ${info.measurement.slice(2)} (SIMULATED TEE)`);
        rep.say(`  home       ${home} (dev.json, identities/)`);
        rep.say(`Try: geode identity create alice, then \`geode --help\` for the ${app.name} app's commands. Ctrl-C stops.`);
        rep.result({ ok: true, ...info, faucetKey: undefined });
        const stop = async () => {
          removeDevInfo(home, process.pid);
          await stack.stop();
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      } catch (e) {
        fail(rep, e);
      }
    });
}
