/**
 * What `geode --help` needs to list the commands apps contribute, read without loading any app code or the CLI's
 * heavier modules (no zod, no viem: docs/cli.md#startup): which app folders there are, and the commands each one
 * declares in its package.json manifest (`"geode": { …, "commands": [{ "name", "summary", "subcommands" }] }`).
 *
 * apps.ts (loadApp, appManifestSchema) stays the authority on a manifest: when this reader finds `commands` absent or
 * malformed it answers `undefined` (not declared), and the caller loads the app the full way, which either reads
 * the commands from the client module or reports the precise CLI_BAD_APP error.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspaceRoot } from '@geode/protocol/files';

/**
 * Repository root, found from this module (source, dist or the CLI bundle: workspaceRoot): holds apps/, dist/ and
 * the package.json naming the default app.
 */
export const REPO_ROOT = workspaceRoot(fileURLToPath(import.meta.url));

/** A command name as commander and a shell take it: lower-case words joined by single hyphens. */
export const COMMAND_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** One top-level command an app declares: name, the summary `geode --help` lists, its subcommands' names. */
export interface DeclaredCommand {
  readonly name: string;
  readonly summary: string;
  readonly subcommands: readonly string[];
}

/**
 * The CLI's home directory (default ./.geode, or --home / GEODE_HOME): identities/ and dev.json, the connection
 * details `geode dev` writes for the other commands. Absolute path.
 */
export function homeDir(opt?: string): string {
  return resolve(opt ?? process.env.GEODE_HOME ?? '.geode');
}

/** The app folder the running `geode dev` in `home` runs (dev.json's `app`), or undefined without a readable one. */
export function devAppOf(home: string): string | undefined {
  try {
    const app = (JSON.parse(readFileSync(join(home, 'dev.json'), 'utf8')) as { app?: unknown }).app;
    return typeof app === 'string' && app.length > 0 ? app : undefined;
  } catch {
    return undefined;
  }
}

/** package.json's `"geode"` field of the folder `dir`, or undefined when there is none or it is unreadable. */
function manifestOf(dir: string): Record<string, unknown> | undefined {
  try {
    const geode = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { geode?: unknown }).geode;
    return typeof geode === 'object' && geode !== null && !Array.isArray(geode) ? (geode as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Absolute paths of the app folders under `<repoRoot>/apps/` (a package.json with a "geode" field), sorted by name. */
export function appDirs(repoRoot: string): string[] {
  const root = join(repoRoot, 'apps');
  if (!existsSync(root)) return [];
  return readdirSync(root).sort().map((d) => join(root, d)).filter((d) => manifestOf(d) !== undefined);
}

/**
 * The commands the app at `dir` declares (manifest `commands`), or undefined when it declares none, has no
 * manifest, or the declaration is malformed (then loadApp reports why). An empty array: the app adds no command.
 */
export function declaredCommands(dir: string): DeclaredCommand[] | undefined {
  const commands = manifestOf(resolve(dir))?.commands;
  if (!Array.isArray(commands)) return undefined;
  const out: DeclaredCommand[] = [];
  for (const c of commands as unknown[]) {
    if (typeof c !== 'object' || c === null) return undefined;
    const { name, summary, subcommands = [] } = c as { name?: unknown; summary?: unknown; subcommands?: unknown };
    if (typeof name !== 'string' || !COMMAND_NAME.test(name) || typeof summary !== 'string' || summary.length === 0) return undefined;
    if (!Array.isArray(subcommands) || !subcommands.every((s) => typeof s === 'string' && COMMAND_NAME.test(s))) return undefined;
    out.push({ name, summary, subcommands: subcommands as string[] });
  }
  return out;
}
