// `geode lightclient verify` / `verify-proof` on the real mainnet fixtures, tampered copies and bad arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram } from '../src/main.ts';
import { runLightClientVerify, runLightClientVerifyProof, type LightClientIo } from '../src/commands/lightclient.ts';

const FIX = new URL('../../../../shared/fixtures/ethereum/', import.meta.url).pathname;
const CAP = `${FIX}helios-mainnet-capella/`;
const EXE = `${FIX}helios-mainnet-execution/`;
const CHECKPOINT = '0x5afc212a7924789b2bc86acad3ab3a6ffb1f6e97253ea50bee7f4f51422c9275';
const dir = mkdtempSync(join(tmpdir(), 'geode-cli-lc-'));
const io = () => { const lines: string[] = []; return { lines, out: (t: string) => { lines.push(t); } } satisfies LightClientIo & { lines: string[] }; };
const last = (s: { lines: string[] }) => JSON.parse(s.lines.at(-1)!);
const tampered = (src: string, name: string, edit: (j: any) => void): string => {
  const j = JSON.parse(readFileSync(src, 'utf8'));
  edit(j);
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(j));
  return p;
};
const base = { checkpoint: CHECKPOINT, bootstrap: `${CAP}bootstrap.json`, updates: `${CAP}updates.json`, finality: `${CAP}finality.json` };

test('lightclient verify --json: mainnet checkpoint to finalized slot 7109344, block 17923026 and its state root', async () => {
  const s = io();
  assert.equal(await runLightClientVerify({ ...base, network: 'mainnet', json: true }, s), 0);
  assert.equal(s.lines.length, 1);
  assert.deepEqual(last(s), { ok: true, finalizedSlot: '7109344', executionBlockNumber: '17923026', executionStateRoot: '0x226f5ff47ab3725b5a4a3afc74b1e79e4aa3a29704561eccce590e58900baec3' });
  const t = io();
  assert.equal(await runLightClientVerify(base, t), 0);
  assert.match(t.lines.join('\n'), /finalized beacon slot: 7109344\nexecution block number: 17923026/);
});

test('lightclient verify: tampered inputs and bad arguments exit non-zero with {ok:false,error:{code,message}}', async () => {
  const cases: [Record<string, string>, string, number][] = [
    [{ updates: tampered(`${CAP}updates.json`, 'sig.json', (j) => { j[3].data.sync_aggregate.sync_committee_signature = `0x${'ab'.repeat(96)}`; }) }, 'LC_SYNC_SIGNATURE', 1],
    [{ updates: tampered(`${CAP}updates.json`, 'skip.json', (j) => { j.splice(1, 1); }) }, 'LC_UPDATE_PERIOD', 1],
    [{ finality: tampered(`${CAP}finality.json`, 'fin.json', (j) => { j.data.finalized_header.execution.state_root = `0x${'00'.repeat(32)}`; }) }, 'LC_EXECUTION_BRANCH', 1],
    [{ bootstrap: tampered(`${CAP}bootstrap.json`, 'boot.json', (j) => { j.data.current_sync_committee.pubkeys[0] = j.data.current_sync_committee.pubkeys[1]; }) }, 'LC_SYNC_COMMITTEE_BRANCH', 1],
    [{ checkpoint: `0x${'22'.repeat(32)}` }, 'LC_CHECKPOINT_MISMATCH', 1],
    [{ checkpoint: '0x1234' }, 'CLI_BAD_ARGUMENT', 2],
    [{ network: 'sepolia' }, 'CLI_BAD_ARGUMENT', 2],
    [{ updates: join(dir, 'missing.json') }, 'CLI_FILE', 2],
    [{ updates: `${CAP}bootstrap.json` }, 'CLI_BAD_ARGUMENT', 2],
  ];
  for (const [over, code, exit] of cases) {
    const s = io();
    assert.equal(await runLightClientVerify({ ...base, ...over, json: true }, s), exit, code);
    const j = last(s);
    assert.equal(j.ok, false);
    assert.equal(j.error.code, code);
    assert.ok(typeof j.error.message === 'string' && j.error.message.length > 10);
  }
});

test('lightclient verify-proof: block hash recomputed, account and storage proven; tampering refused', async () => {
  const s = io();
  assert.equal(await runLightClientVerifyProof({ block: `${EXE}block.json`, proof: `${EXE}proof.json`, json: true }, s), 0);
  const j = last(s);
  assert.equal(j.ok, true);
  assert.equal(j.blockNumber, '21925176');
  assert.equal(j.blockHash, '0x92dabfa3f61ff1c349d12f5fd0dd4c99760a0a41b77dee8f0a80f83efdcb307a');
  assert.equal(j.stateRoot, '0x7b3d5a01f69b7d2ea7479fd7ae35f4bac2700ab6d6d7b4807a7fedf53ced710e');
  assert.equal(j.address, '0x00000000219ab540356cbb839cbe05303d7705fa');
  const proof = JSON.parse(readFileSync(`${EXE}proof.json`, 'utf8'));
  assert.equal(j.storage.length, proof.storageProof.length);
  for (const [i, sp] of proof.storageProof.entries()) assert.equal(BigInt(j.storage[i].value), BigInt(sp.value));
  const cases: [Record<string, string>, string][] = [
    [{ block: tampered(`${EXE}block.json`, 'b1.json', (b) => { b.gasUsed = '0x1'; }) }, 'LC_EXECUTION_BLOCK_MISMATCH'],
    [{ block: tampered(`${EXE}block.json`, 'b2.json', (b) => { b.stateRoot = `0x${'11'.repeat(32)}`; }) }, 'LC_EXECUTION_BLOCK_MISMATCH'],
    [{ proof: tampered(`${EXE}proof.json`, 'p1.json', (p) => { p.storageProof[0].value = '0x1234'; }) }, 'LC_STORAGE_PROOF'],
    [{ proof: tampered(`${EXE}proof.json`, 'p2.json', (p) => { p.balance = '0x1'; }) }, 'LC_ACCOUNT_PROOF'],
    [{ proof: tampered(`${EXE}proof.json`, 'p3.json', (p) => { p.accountProof[1] = p.accountProof[0]; }) }, 'LC_ACCOUNT_PROOF'],
  ];
  for (const [over, code] of cases) {
    const t = io();
    assert.equal(await runLightClientVerifyProof({ block: `${EXE}block.json`, proof: `${EXE}proof.json`, ...over, json: true }, t), 1, code);
    assert.equal(last(t).error.code, code);
  }
});

test('lightclient --help lists both commands and their options', async () => {
  const program = await buildProgram();
  const lc = program.commands.find((c) => c.name() === 'lightclient')!;
  assert.deepEqual(lc.commands.map((c) => c.name()), ['verify', 'verify-proof']);
  const help = lc.commands[0]!.helpInformation();
  for (const o of ['--network', '--checkpoint', '--bootstrap', '--updates', '--finality', '--json']) assert.ok(help.includes(o), o);
  const help2 = lc.commands[1]!.helpInformation();
  for (const o of ['--block', '--proof', '--json']) assert.ok(help2.includes(o), o);
});

test('--beacon/--checkpoint: parsed with --rpc, replace --insecure-trusted-rpc, refused alone or malformed', async () => {
  const { rpcOption } = await import('../src/stack.ts');
  const key = `0x${'ab'.repeat(32)}`;
  const r = rpcOption({ rpc: 'https://eth.example', privateKey: key, beacon: 'https://beacon.example', checkpoint: CHECKPOINT.toUpperCase().replace('0X', '0x') });
  assert.deepEqual(r, { url: 'https://eth.example', trustedRpc: false, privateKey: key, beacon: { url: 'https://beacon.example', checkpoint: CHECKPOINT } });
  const bad: Record<string, string | boolean>[] = [
    { beacon: 'https://beacon.example', checkpoint: CHECKPOINT },
    { rpc: 'https://eth.example', privateKey: key, beacon: 'https://beacon.example' },
    { rpc: 'https://eth.example', privateKey: key, checkpoint: CHECKPOINT },
    { rpc: 'https://eth.example', privateKey: key, beacon: 'https://beacon.example', checkpoint: CHECKPOINT, insecureTrustedRpc: true },
    { rpc: 'https://eth.example', privateKey: key, beacon: 'ftp://beacon.example', checkpoint: CHECKPOINT },
    { rpc: 'https://eth.example', privateKey: key, beacon: 'https://beacon.example', checkpoint: '0x1234' },
  ];
  for (const o of bad) assert.throws(() => rpcOption(o), (e: { code: string }) => e.code === 'CLI_BAD_ARGUMENT', JSON.stringify(o));
});
