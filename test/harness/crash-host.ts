/**
 * A Geode host in its own OS process, for test/crash/host-process.test.ts: the test SIGKILLs it for real.
 * Config (JSON) in env GEODE_CRASH_HOST: { rpcUrl, contract, config, fromBlock, operatorKey, bundle, dataDir, simPki }.
 * Prints `ready` once relaying and `enclave <pid>` each time its enclave child (re)starts.
 */
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import pino from 'pino';
import { chainAccessFromUrl, EnclaveProcess, Host } from '@geode/host';
import type { ConfigJson } from '@geode/protocol';

const c = JSON.parse(process.env.GEODE_CRASH_HOST ?? '{}') as {
  rpcUrl: string; contract: Address; config: ConfigJson; fromBlock: string; operatorKey: Hex; bundle: string; dataDir: string; simPki: string;
};
const chain = await chainAccessFromUrl(c.rpcUrl);
const enclave = new EnclaveProcess({ bundle: c.bundle, dataDir: c.dataDir, simPki: c.simPki });
const host = new Host({
  chain, operator: privateKeyToAccount(c.operatorKey), contract: c.contract, config: c.config, enclave,
  fromBlock: BigInt(c.fromBlock), logger: pino({ level: process.env.CRASH_LOG ?? 'silent' }, pino.destination(2)),
});
enclave.start();
await host.start();
let pid: number | undefined;
setInterval(() => {
  if (enclave.pid !== undefined && enclave.pid !== pid) {
    pid = enclave.pid;
    process.stdout.write(`enclave ${pid}\n`);
  }
}, 20);
process.stdout.write('ready\n');
