/**
 * `geode init <name> [--dir <parent>] [--json]`: scaffold a minimal working app (docs/apps.md#geode-init) from
 * packages/cli/templates/app: a contract inheriting GeodeCore, enclave handlers (a private total per sender), the
 * shared message codecs, a client module with one command (`geode <name> add`) and a demo scenario, a unit test
 * with an in-memory harness and an end-to-end test. Right after it, `geode demo --app <dir> --json` ends with
 * `{"ok":true,…}`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { REPO_ROOT } from '../apps.ts';
import { CliArgumentError } from '../errors.ts';
import { fail, reporter } from '../output.ts';

/**
 * The template folder, packages/cli/templates/app, found upwards from this module (source, dist or a chunk of the
 * CLI bundle: their depths differ); file names and contents use __name__ (kebab), __Name__ (Pascal), __camel__ and
 * __NAME__ (error-code form).
 */
const TEMPLATE_DIR = (() => {
  for (let d = dirname(fileURLToPath(import.meta.url)); dirname(d) !== d; d = dirname(d)) {
    if (existsSync(join(d, 'templates/app/package.json.tmpl'))) return join(d, 'templates/app');
  }
  return fileURLToPath(new URL('../../templates/app/', import.meta.url));
})();

/** Names an app may not take: the CLI's own commands (the app's command is `geode <name>`). */
const RESERVED = new Set(['attest', 'demo', 'deploy', 'dev', 'enclave', 'handshake', 'help', 'identity', 'init', 'lightclient', 'status', 'geode', 'core']);

/** Result of {@link runInit} (also the --json line). */
export interface InitResult {
  ok: true;
  app: string;
  /** Absolute path of the new app folder. */
  dir: string;
  /** Files written, relative to `dir`, sorted. */
  files: string[];
  /**
   * Non-blank, non-comment lines of each side: contract (contracts/), enclave (what the enclave bundle takes from the
   * app: src/enclave/, src/spec.ts, src/errors.ts), client (src/client/, src/index.ts).
   */
  lines: { contract: number; enclave: number; client: number };
  /** What to run next. */
  next: string[];
}

/** The placeholder values for an app name: kebab-case as given, PascalCase (the contract), camelCase and SCREAMING_SNAKE (its error codes, as defineAppErrors makes them). */
export function appNames(name: string): { name: string; Name: string; camel: string; NAME: string } {
  const parts = name.split('-');
  const Name = parts.map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
  return { name, Name, camel: Name[0]!.toLowerCase() + Name.slice(1), NAME: name.toUpperCase().replace(/-/g, '_') };
}

/** Lines that are code: not blank, not only a comment line. */
function codeLines(text: string): number {
  return text.split('\n').filter((l) => { const t = l.trim(); return t !== '' && !t.startsWith('//') && !t.startsWith('*') && !t.startsWith('/**') && !t.startsWith('*/'); }).length;
}

/** Throws CliArgumentError unless `name` is an app name: kebab-case, 2-32 characters, not a CLI command. */
export function checkName(name: string): void {
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name) || name.length < 2 || name.length > 32) {
    throw new CliArgumentError(`the app name must be 2-32 characters of lower-case letters, digits and single dashes, starting with a letter (e.g. "notes" or "sealed-bid"), got ${JSON.stringify(name)}`);
  }
  if (RESERVED.has(name)) throw new CliArgumentError(`"${name}" is taken by the CLI itself (the app's command would be \`geode ${name}\`); pick another name`);
}

/**
 * Write the scaffold for `name` into `<parent>/<name>` (default parent: the repository's apps/). Throws
 * CliArgumentError (nothing written) when the name is not kebab-case of 2-32 characters starting with a letter, is
 * one of the CLI's own command names, or the folder already exists.
 */
export function runInit(name: string, o: { dir?: string } = {}): InitResult {
  checkName(name);
  const dir = resolve(o.dir ?? join(REPO_ROOT, 'apps'), name);
  if (existsSync(dir)) throw new CliArgumentError(`${dir} already exists; pick another name or remove it`);
  const r = writeScaffold(name, dir);
  const shown = relative(process.cwd(), dir) || '.';
  return {
    ...r,
    next: [`geode demo --app ${shown} --json`, `node scripts/test.mjs ${relative(REPO_ROOT, dir)}`, `geode dev --app ${shown}   # then: geode identity create alice && geode ${name} add 2 --as alice`],
  };
}

/** Write the template into `dir` (which must not exist) for app `name`: the files written (sorted) and the line counts. */
export function writeScaffold(name: string, dir: string): Omit<InitResult, 'next'> {
  const n = appNames(name);
  const fill = (s: string) => s.replaceAll('__name__', n.name).replaceAll('__Name__', n.Name).replaceAll('__camel__', n.camel).replaceAll('__NAME__', n.NAME);
  const files: string[] = [];
  const lines = { contract: 0, enclave: 0, client: 0 };
  const walk = (from: string) => {
    for (const e of readdirSync(from).sort()) {
      const src = join(from, e);
      if (statSync(src).isDirectory()) { walk(src); continue; }
      const rel = fill(relative(TEMPLATE_DIR, src)).replace(/\.tmpl$/, '');
      const text = fill(readFileSync(src, 'utf8'));
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), text);
      files.push(rel);
      if (rel.startsWith('contracts/')) lines.contract += codeLines(text);
      else if (rel.startsWith('src/enclave/') || rel === 'src/spec.ts' || rel === 'src/errors.ts') lines.enclave += codeLines(text);
      else if (rel.startsWith('src/client/') || rel === 'src/index.ts') lines.client += codeLines(text);
    }
  };
  walk(TEMPLATE_DIR);
  return { ok: true, app: name, dir, files: files.sort(), lines };
}


/** Register `geode init`. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .argument('<name>', 'the app name, kebab-case (e.g. notes): its folder, its command `geode <name>` and its contract name (PascalCase); with --standalone, the folder to create (its base name is the app name)')
    .option('--dir <parent>', "where the app folder goes (default: the repository's apps/)")
    .option('--standalone', 'create the app as its own npm project outside the repository, on the packed Geode packages (vendor/*.tgz)')
    .option('--json', 'print one JSON line')
    .description('Scaffold a minimal working app: contract, enclave handlers, declaration and errors, commands, a demo scenario and tests')
    .action(async (name: string, opts: { dir?: string; json?: boolean; standalone?: boolean }) => {
      const rep = reporter(opts);
      try {
        if (opts.standalone && opts.dir) throw new CliArgumentError('--dir does not apply with --standalone: give the folder itself (geode init ../notes --standalone)');
        const r = opts.standalone ? (await import('./init-standalone.ts')).runInitStandalone(name) : runInit(name, opts);
        rep.say(`Created app "${r.app}" in ${r.dir}:`);
        for (const f of r.files) rep.say(`  ${f}`);
        rep.say(`Lines of code: contract ${r.lines.contract}, enclave ${r.lines.enclave}, client ${r.lines.client}.`);
        rep.say('Next:');
        for (const x of r.next) rep.say(`  ${x}`);
        rep.result(r);
      } catch (e) {
        fail(rep, e, e instanceof CliArgumentError ? 2 : 1);
      }
    });
}
