import type { Command } from 'commander';
import { bytesToHex } from 'viem';
import { rpcOption, startDevStack, teeOption, withRpcOptions, type RpcCliOptions } from '../stack.ts';
import { homeDir, removeDevInfo, writeDevInfo } from '../home.ts';
import { fail, reporter } from '../output.ts';
import { CliArgumentError } from '../errors.ts';

export function registerDevCommand(program: Command): void {
  withRpcOptions(program
    .command('dev'))
    .description('Start the embedded devnet, deploy the computations app, start the enclave and the host, and keep them running')
    .option('--port <port>', 'JSON-RPC port (HTTP and WebSocket)', '8545')
    .option('--home <dir>', 'where dev.json and identities live (default ./.geode)')
    .option('--tee <tee>', 'TEE of the enclave: sim, sgx, tdx, sev-snp (hardware needs an on-chain verifier for its evidence)', 'sim')
    .option('--json', 'print the connection details as one JSON line')
    .option('-v, --verbose', 'log host and enclave activity to stderr')
    .action(async (opts: { port: string; home?: string; json?: boolean; verbose?: boolean; tee?: string } & RpcCliOptions) => {
      const rep = reporter(opts);
      try {
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliArgumentError(`--port must be an integer 0-65535, got "${opts.port}"`);
        const home = homeDir(opts.home);
        const rpc = rpcOption(opts);
        const tee = teeOption(opts.tee);
        const stack = await startDevStack({ servePort: rpc ? undefined : port, progress: rep.progress, logger: rep.logger, rpc, tee });
        const info = {
          rpcUrl: rpc ? rpc.url : stack.server!.url,
          wsUrl: rpc ? rpc.url : stack.server!.wsUrl,
          trustedRpc: stack.trustedRpc,
          chainId: stack.chain.chainId.toString(),
          contract: stack.deployment.contract,
          fromBlock: stack.deployment.fromBlock.toString(),
          measurement: stack.measurement,
          simRootCaDer: bytesToHex(stack.pki.rootCaDer),
          collateral: stack.pki.collateral() as unknown as Record<string, string>,
          policy: stack.policy,
          faucetKey: stack.faucetKey,
          pid: process.pid,
        };
        writeDevInfo(home, info);
        rep.say(`Geode devnet running.`);
        rep.say(`  RPC        ${info.rpcUrl}  (WebSocket ${info.wsUrl})`);
        rep.say(`  contract   ${info.contract} (computations app)`);
        rep.say(`  enclave    mr_enclave ${info.measurement.slice(2)} (SIMULATED TEE)`);
        rep.say(`  home       ${home} (dev.json, identities/)`);
        rep.say(`Try: geode identity create alice && geode computation list. Ctrl-C stops.`);
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
