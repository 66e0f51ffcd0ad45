import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { GeodeError } from '@geode/protocol';
import { IdentityStore } from '@geode/client';

/**
 * The CLI's home directory (default ./.geode, or --home / GEODE_HOME): identities/ and dev.json, the connection
 * details `geode dev` writes for the other commands.
 */
export function homeDir(opt?: string): string {
  return resolve(opt ?? process.env.GEODE_HOME ?? '.geode');
}

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
  faucetKey: z.string(),
  pid: z.number(),
  trustedRpc: z.boolean().optional(),
});
export type DevInfo = z.infer<typeof devInfoSchema>;

/** No running `geode dev` was found (or its file is corrupt). */
export class NoDevnetError extends GeodeError {
  constructor(message: string) {
    super('CLI_NO_DEVNET', `${message}. Start one in another terminal with \`geode dev\` (or pass --home).`, { docsPath: 'README.md#by-hand' });
  }
}

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

/** Write dev.json atomically. */
export function writeDevInfo(home: string, info: DevInfo): void {
  mkdirSync(home, { recursive: true });
  const f = join(home, 'dev.json');
  writeFileSync(`${f}.tmp`, JSON.stringify(info, null, 2));
  renameSync(`${f}.tmp`, f);
}

export function removeDevInfo(home: string, pid: number): void {
  try {
    const f = join(home, 'dev.json');
    if (JSON.parse(readFileSync(f, 'utf8')).pid === pid) rmSync(f);
  } catch {
    /* already gone */
  }
}
