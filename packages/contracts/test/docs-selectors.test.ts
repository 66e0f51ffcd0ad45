import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAbiItem, toEventSelector, toFunctionSelector, type Abi, type AbiEvent, type AbiFunction } from 'viem';
import * as contracts from '@geode/contracts';
import { ComputationsAbi } from '../../../apps/computations/generated/artifacts.ts';

const docsDir = fileURLToPath(new URL('../../../docs/', import.meta.url));

/** Every ABI Geode builds (GeodeCore, the verifiers, the computations app), as selector -> item name. */
function knownSelectors(): Map<string, string> {
  const out = new Map<string, string>();
  const abis = [ComputationsAbi as Abi, ...Object.entries(contracts).filter(([k, v]) => k.endsWith('Abi') && Array.isArray(v)).map(([, v]) => v as Abi)];
  for (const abi of abis) {
    for (const it of abi) {
      // An error's selector is computed like a function's (Solidity ABI spec: the first 4 bytes of keccak of its signature).
      if (it.type === 'function' || it.type === 'error') out.set(toFunctionSelector({ ...it, type: 'function', outputs: [], stateMutability: 'nonpayable' } as AbiFunction), it.name);
      else if (it.type === 'event') out.set(toEventSelector(it as AbiEvent), it.name);
    }
  }
  return out;
}

/** Table rows of docs/*.md that give a signature (first backticked cell with parentheses) and its selector or topic0. */
function documentedSelectors(): Row[] {
  const rows: Row[] = [];
  for (const file of readdirSync(docsDir).filter((f) => f.endsWith('.md'))) {
    readFileSync(docsDir + file, 'utf8').split('\n').forEach((l, i) => {
      const m = /^\|.*?`([A-Za-z_][A-Za-z0-9_]*\([^`]*\)[^`]*)`[^|]*\| `(0x[0-9a-f]{8}|0x[0-9a-f]{64})`/.exec(l);
      if (m) rows.push({ file, line: i + 1, signature: m[1]!, selector: m[2]! });
    });
  }
  return rows;
}

type Row = { file: string; line: number; signature: string; selector: string };

/** What is wrong with a documented row (its selector is not its signature's, or no Geode ABI has it), or null. */
function problem(r: Row, known: Map<string, string>): string | null {
  const where = `${r.file}:${r.line} ${r.signature}`;
  const isEvent = r.selector.length === 66;
  const item = parseAbiItem(`${isEvent ? 'event' : 'function'} ${r.signature}`) as AbiFunction | AbiEvent;
  const computed = isEvent ? toEventSelector(item as AbiEvent) : toFunctionSelector(item as AbiFunction);
  if (r.selector !== computed) return `${where}: documented ${r.selector}, computed ${computed}`;
  if (known.get(computed) !== item.name) return `${where}: no ${item.name} with this signature in GeodeCore, the verifiers or Computations`;
  return null;
}

test('docs: every selector and topic0 in the docs tables is the keccak of its signature and names an item of a Geode ABI', () => {
  const known = knownSelectors();
  const rows = documentedSelectors();
  assert.ok(rows.length >= 60, `expected the reference tables, found ${rows.length} rows`);
  assert.deepEqual(rows.map((r) => problem(r, known)).filter((p) => p !== null), []);
});

test('docs: the table check refuses a wrong selector, a wrong topic0 and a signature no contract has', () => {
  const known = knownSelectors();
  const row = (signature: string, selector: string): Row => ({ file: 'x.md', line: 1, signature, selector });
  assert.equal(problem(row('createComputation(string name, uint8 ctype, address[] participants, uint256 quorum) returns (uint256 seq)', '0x2a727cc7'), known), null);
  assert.match(problem(row('createComputation(string,uint8,address[],uint256)', '0x2a727cc8'), known)!, /documented 0x2a727cc8, computed 0x2a727cc7/);
  assert.match(problem(row('ComputationCreated(bytes32,string,uint8,address[],uint256,address,uint256)', `0x${'00'.repeat(32)}`), known)!, /computed 0x379c2df8/);
  const absent = toFunctionSelector('createComputation(string,uint8,address[])');
  assert.match(problem(row('createComputation(string,uint8,address[])', absent), known)!, /no createComputation with this signature/);
});
