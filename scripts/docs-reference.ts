/**
 * Generates the contract reference tables of docs/protocol.md (`npm run docs:reference`) from the compiled ABI and
 * the protocol constants, so the page a client author reads cannot drift from the contract: the domain tags, every
 * GeodeCore view function with its return types, every state-changing function with its selector, every event with
 * parameter types, which are indexed and its topic0, and every custom error with its selector.
 *
 * Each table lives between `<!-- reference:<name>:begin -->` and `<!-- reference:<name>:end -->` markers.
 * `--check` exits 1 (and names the stale tables) instead of writing; test/docs/protocol-reference.test.ts runs it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { keccak256, toBytes, toEventSelector, toFunctionSelector, type Abi, type AbiParameter } from 'viem';
import { DOMAIN } from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts';

const DOC = fileURLToPath(new URL('../docs/protocol.md', import.meta.url));

/** Solidity type of an ABI parameter, tuples spelled out as (t1 name1, …). */
function typeOf(p: AbiParameter): string {
  if (p.type.startsWith('tuple')) {
    const comps = (p as { components: readonly AbiParameter[] }).components;
    return `(${comps.map((c) => `${typeOf(c)} ${c.name ?? ''}`.trim()).join(', ')})${p.type.slice('tuple'.length)}`;
  }
  return p.type;
}
const param = (p: AbiParameter & { indexed?: boolean }): string => `${typeOf(p)}${p.indexed ? ' indexed' : ''} ${p.name ?? ''}`.trim();
const sig = (name: string, inputs: readonly AbiParameter[]): string => `${name}(${inputs.map(param).join(', ')})`;
const code = (s: string): string => `\`${s}\``;

/** The tables, by marker name. */
export function referenceTables(abi: Abi = GeodeCoreAbi): Record<string, string> {
  const fns = abi.filter((x) => x.type === 'function');
  const views = fns.filter((f) => f.stateMutability === 'view' || f.stateMutability === 'pure').sort((a, b) => a.name.localeCompare(b.name));
  const writes = fns.filter((f) => f.stateMutability !== 'view' && f.stateMutability !== 'pure').sort((a, b) => a.name.localeCompare(b.name));
  const events = abi.filter((x) => x.type === 'event').sort((a, b) => a.name.localeCompare(b.name));
  const errors = abi.filter((x) => x.type === 'error').sort((a, b) => a.name.localeCompare(b.name));

  const domains = [
    '| constant | value | tag |',
    '|---|---|---|',
    ...Object.entries(DOMAIN).map(([name, value]) => {
      const tag = TAGS[name as keyof typeof DOMAIN];
      if (keccak256(toBytes(tag)) !== value) throw new Error(`docs-reference: DOMAIN.${name} is not keccak256("${tag}"); update TAGS in scripts/docs-reference.ts`);
      return `| ${code(`DOMAIN.${name}`)} | ${code(value)} | ${code(`keccak256("${tag}")`)} |`;
    }),
  ];
  const viewRows = [
    '| view function | returns |',
    '|---|---|',
    ...views.map((f) => `| ${code(sig(f.name, f.inputs))} | ${code(f.outputs.map(param).join(', ') || '—')} |`),
  ];
  const writeRows = [
    '| function | selector | returns |',
    '|---|---|---|',
    ...writes.map((f) => `| ${code(sig(f.name, f.inputs))}${f.stateMutability === 'payable' ? ' payable' : ''} | ${code(toFunctionSelector(f))} | ${code(f.outputs.map(param).join(', ') || '—')} |`),
  ];
  const eventRows = [
    '| event | topic0 |',
    '|---|---|',
    ...events.map((e) => `| ${code(sig(e.name, e.inputs))} | ${code(toEventSelector(e))} |`),
  ];
  const errorRows = [
    '| error | selector |',
    '|---|---|',
    ...errors.map((e) => `| ${code(sig(e.name, e.inputs))} | ${code(toFunctionSelector(`${e.name}(${e.inputs.map((i) => i.type).join(',')})`))} |`),
  ];
  return {
    domains: domains.join('\n'),
    views: viewRows.join('\n'),
    functions: writeRows.join('\n'),
    events: eventRows.join('\n'),
    errors: errorRows.join('\n'),
  };
}

/** The tag string each DOMAIN constant hashes (kebab-case; the constant's name is its camelCase form). */
const TAGS: Record<keyof typeof DOMAIN, string> = {
  config: 'geode.config.v1',
  sessionCreate: 'geode.session-create.v1',
  sessionKeys: 'geode.session-keys.v1',
  commitment: 'geode.commitment.v1',
  blockSignature: 'geode.devnet-block.v1',
  requestAad: 'geode.request-aad.v1',
  outputAad: 'geode.output-aad.v1',
  keyId: 'geode.key-id.v1',
  sessionSuccession: 'geode.session-succession.v1',
  handoverRequest: 'geode.handover-request.v1',
  handoverMessage: 'geode.handover-message.v1',
  handoverSender: 'geode.handover-sender.v1',
  requestEpochAad: 'geode.request-epoch-aad.v1',
  epochCommitment: 'geode.epoch-commitment.v1',
  backup: 'geode.backup.v1',
};

/** `doc` with every marked table replaced by its generated text. Throws if a marker pair is missing. */
export function renderReference(doc: string, tables = referenceTables()): string {
  let out = doc;
  for (const [name, body] of Object.entries(tables)) {
    const begin = `<!-- reference:${name}:begin -->`;
    const end = `<!-- reference:${name}:end -->`;
    const i = out.indexOf(begin);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`docs/protocol.md lacks the markers ${begin} … ${end}`);
    out = `${out.slice(0, i + begin.length)}\n${body}\n${out.slice(j)}`;
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const doc = readFileSync(DOC, 'utf8');
  const next = renderReference(doc);
  if (process.argv.includes('--check')) {
    if (next !== doc) {
      process.stderr.write('docs/protocol.md: the contract reference tables are stale; run `npm run docs:reference` and commit the result.\n');
      process.exit(1);
    }
  } else if (next !== doc) {
    writeFileSync(DOC, next);
    process.stderr.write('docs/protocol.md: contract reference tables updated\n');
  }
}
