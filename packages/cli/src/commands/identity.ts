import type { Command } from 'commander';
import { parseEther } from 'viem';
import { createIdentity, checkIdentityName, IdentityError } from '@geode/client';
import { faucetKeyOf, homeDir, identityStore, readDevInfo } from '../home.ts';
import { connect, fundFromFaucet } from '../connect.ts';
import { fail, reporter } from '../output.ts';

export function registerIdentityCommands(program: Command): void {
  const id = program.command('identity').description('Create and list local identities (an account key and an output key under an easy name)');
  id.command('create')
    .argument('<name>', 'easy name, 1-32 of A-Z a-z 0-9 _ . -')
    .description('Create an identity; with a running `geode dev`, fund it from the dev faucet and register its output key with the enclave')
    .option('--home <dir>', 'CLI home (default ./.geode)')
    .option('--offline', 'only create the keys; do not fund or register')
    .option('--json', 'one JSON line')
    .action(async (name: string, opts: { home?: string; offline?: boolean; json?: boolean }) => {
      const rep = reporter(opts);
      try {
        checkIdentityName(name);
        const home = homeDir(opts.home);
        const store = identityStore(home);
        // Refuse a taken name before anything touches the chain: a failed command changes no state.
        if (store.has(name)) throw new IdentityError(`Identity "${name}" already exists. Pick another name or use the existing one.`, { name });
        const identity = await createIdentity(name);
        let registered = false;
        if (!opts.offline) {
          const faucetKey = faucetKeyOf(readDevInfo(home));
          rep.progress('connecting to the devnet and verifying the enclave');
          const conn = await connect(home);
          try {
            rep.progress(`funding ${identity.name} (${identity.address}) from the dev faucet`);
            await fundFromFaucet(conn.chain, faucetKey, identity.address);
            rep.progress(`registering ${identity.name}'s output key`);
            await conn.client(identity).registerOutputKey();
            registered = true;
          } finally {
            await conn.close();
          }
        }
        store.save(identity);
        rep.say(`${name} = ${identity.address}${registered ? ' (funded, output key registered)' : ''}`);
        rep.result({ ok: true, name, address: identity.address, outputKey: identity.outputKey.publicKey, registered });
      } catch (e) {
        fail(rep, e);
      }
    });
  id.command('register')
    .argument('[names...]', 'identities to fund and register (default: every identity in the home)')
    .description('Fund identities from the dev faucet and register their output keys with the running `geode dev` (after a restart of `geode dev`, old identities need this)')
    .option('--home <dir>', 'CLI home (default ./.geode)')
    .option('--json', 'one JSON line')
    .action(async (names: string[], opts: { home?: string; json?: boolean }) => {
      const rep = reporter(opts);
      try {
        const home = homeDir(opts.home);
        const store = identityStore(home);
        // Resolve every name first: an unknown one fails the command before anything touches the chain.
        const identities = names.length ? names.map((n) => store.get(n)) : store.list().identities;
        if (identities.length === 0) throw new IdentityError('No identities to register: create one with `geode identity create alice`.', {});
        const faucetKey = faucetKeyOf(readDevInfo(home));
        rep.progress('connecting to the devnet and verifying the enclave');
        const conn = await connect(home);
        const done: { name: string; address: string; funded: boolean; registered: boolean }[] = [];
        try {
          for (const identity of identities) {
            const balance = await conn.chain.publicClient.getBalance({ address: identity.address });
            const funded = balance < parseEther('1');
            if (funded) {
              rep.progress(`funding ${identity.name} from the dev faucet`);
              await fundFromFaucet(conn.chain, faucetKey, identity.address);
            }
            rep.progress(`registering ${identity.name}'s output key`);
            await conn.client(identity).registerOutputKey();
            done.push({ name: identity.name, address: identity.address, funded, registered: true });
            rep.say(`${identity.name} = ${identity.address} (${funded ? 'funded, ' : ''}output key registered)`);
          }
        } finally {
          await conn.close();
        }
        rep.result({ ok: true, identities: done });
      } catch (e) {
        fail(rep, e);
      }
    });
  id.command('list')
    .description('List local identities')
    .option('--home <dir>', 'CLI home (default ./.geode)')
    .option('--json', 'one JSON line')
    .action((opts: { home?: string; json?: boolean }) => {
      const rep = reporter(opts);
      try {
        const { identities, errors } = identityStore(homeDir(opts.home)).list();
        for (const i of identities) rep.say(`${i.name.padEnd(12)} ${i.address}`);
        if (identities.length === 0) rep.say('No identities yet: `geode identity create alice`.');
        for (const f of errors) process.stderr.write(`warning: ${f} is not a valid identity file; skipped\n`);
        rep.result({ ok: true, identities: identities.map((i) => ({ name: i.name, address: i.address })), unreadable: errors });
      } catch (e) {
        fail(rep, e);
      }
    });
}
