import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '@geode/protocol/files';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Hex } from 'viem';
import { defineError } from '@geode/protocol';
import { IdentityStore } from '@geode/client';

export { homeDir, devAppOf } from './app-listing.ts';

export const identityStore = (home: string) => new IdentityStore(join(home, 'identities'));

export const devInfoSchema = z.object({
  rpcUrl: z.string().url(),
  wsUrl: z.string(),
  chainId: z.string(),
  contract: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  fromBlock: z.string(),
  measurement: z.string(),
  simRootCaDer: z.string(),
  collateral: z.record(z.string(), z.string()),
  policy: z.unknown(),
  /**
   * Key that funds new identities: the embedded devnet's faucet account. Absent with `geode dev --rpc` (the user's
   * own --private-key is never written to disk) unless `--save-private-key` asked for it.
   */
  faucetKey: z.string().optional(),
  pid: z.number(),
  trustedRpc: z.boolean().optional(),
  /** Absolute path of the app folder this dev stack runs (its commands are the ones the CLI offers). */
  app: z.string().optional(),
  /**
   * The dev stack's data dir (0700): deployment.json, the keys, the enclave's sealed files and control.json, the
   * control endpoint `geode status` asks for the enclave's and the host's health (docs/cli.md#steps).
   */
  dataDir: z.string().optional(),
  /** The enclave's light client: the devnet's block signer or Ethereum's sync committee (docs/cli.md#light-client). */
  lightClient: z.enum(['devnet', 'ethereum']).optional(),
  /** With `--light-client ethereum`: the devnet's Beacon API base URL and the deployment's Ethereum anchor. */
  beaconUrl: z.string().url().optional(),
  ethereumAnchor: z.unknown().optional(),
});
export type DevInfo = z.infer<typeof devInfoSchema>;

/** No running `geode dev` was found (or its file is corrupt). */
export class NoDevnetError extends defineError({
  codes: ['CLI_NO_DEVNET'],
  docsPath: '../README.md#by-hand',
  build: (message: string) => ({ code: 'CLI_NO_DEVNET', message: `${message}. Start one in another terminal with \`geode dev\` (or pass --home).` }),
}) {}

/** Read dev.json. Throws NoDevnetError if absent or invalid. */
export function readDevInfo(home: string): DevInfo {
  const f = join(home, 'dev.json');
  if (!existsSync(f)) throw new NoDevnetError(`No devnet connection file at ${f}`);
  try {
    return devInfoSchema.parse(JSON.parse(readFileSync(f, 'utf8')));
  } catch {
    throw new NoDevnetError(`${f} is corrupt`);
  }
}

/** Write dev.json atomically and privately (it holds the faucet key): 0600 in a 0700 home. Throws FileWriteError. */
export function writeDevInfo(home: string, info: DevInfo): void {
  writeFileAtomic(join(home, 'dev.json'), JSON.stringify(info, null, 2));
}

/** `geode dev --rpc` stored no faucet key and GEODE_PRIVATE_KEY is not set: new identities cannot be funded. */
export class NoFaucetKeyError extends defineError({
  codes: ['CLI_NO_FAUCET_KEY'],
  docsPath: 'security.md#secrets-on-disk',
  build: () => ({ code: 'CLI_NO_FAUCET_KEY', message: 'dev.json holds no faucet key: `geode dev --rpc` never writes your --private-key to disk. Set GEODE_PRIVATE_KEY to a funded key for this command, restart `geode dev` with --save-private-key, or pass --offline and fund the identity yourself.' }),
}) {}

/** The key that funds new identities: dev.json's faucetKey, else GEODE_PRIVATE_KEY. Throws NoFaucetKeyError. */
export function faucetKeyOf(info: DevInfo): Hex {
  const key = info.faucetKey ?? process.env.GEODE_PRIVATE_KEY;
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) throw new NoFaucetKeyError();
  return key as Hex;
}

export function removeDevInfo(home: string, pid: number): void {
  try {
    const f = join(home, 'dev.json');
    if (JSON.parse(readFileSync(f, 'utf8')).pid === pid) rmSync(f);
  } catch {
    /* already gone */
  }
}
