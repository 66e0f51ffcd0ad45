// docs/protocol.md is written for people who implement a client from it alone (issue 9 §6), so what it states about
// bytes is checked against the code:
// - the typed formulas block (`<!-- formulas:begin -->`): every line `name = [keccak256(]abi.encode(type field, …)[)]`
//   is evaluated with viem on random values of the stated Solidity types and compared with the @geode/protocol
//   function of that name — a wrong type, a missing field or a wrong order fails;
// - the generated contract tables (domains, views, functions, events, errors) equal what scripts/docs-reference.ts
//   renders from the compiled ABI now.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bytesToHex, encodeAbiParameters, keccak256, type AbiParameter, type Address, type Hex } from 'viem';
import {
  DOMAIN, accumulatorStep, blockSigningDigest, commitmentDigest, configHash, keyIdOf, outputAad, requestAad,
  sessionCreateReportData, sessionKeysReportData, sessionSuccessionDigest, handoverAad, handoverRequestReportData, handoverSenderReportData, backupAad,
  requestEpochAad, epochCommitmentDigest,
} from '@geode/protocol';
import { renderReference } from '../../scripts/docs-reference.ts';

const doc = readFileSync(fileURLToPath(new URL('../../docs/protocol.md', import.meta.url)), 'utf8');

type Values = Record<string, unknown>;
/** The implementation of each documented formula, called with the documented fields by name. */
const IMPLEMENTATIONS: Record<string, (v: Values) => Hex> = {
  configHash: (v) => configHash({
    chainId: v.chainId as bigint, contract: v.contract as Address, measurements: v.measurements as Hex[],
    attestationVerifier: v.verifier as Address, lcSigner: v.lcSigner as Address, lcGenesisHash: v.lcGenesisHash as Hex,
    policyHash: v.policyHash as Hex, admin: v.admin as Address,
  }),
  sessionCreateReportData: (v) => sessionCreateReportData(v.chainId as bigint, v.contract as Address, v.configHash as Hex, v.nonce as Hex),
  sessionKeysReportData: (v) => sessionKeysReportData(v.chainId as bigint, v.contract as Address, v.nonce as Hex, v.encPubKey as Hex, v.signer as Address),
  sessionSuccessionDigest: (v) => sessionSuccessionDigest(v.chainId as bigint, v.contract as Address, v.newSessionId as bigint, v.encPubKey as Hex, v.signer as Address),
  acc: (v) => accumulatorStep(v.accPrev as Hex, v.seq as bigint, v.sender as Address, v.sessionId as bigint, v.payloadHash as Hex),
  keyId: (v) => keyIdOf(v.encPubKey as Hex, v.signer as Address),
  commitmentDigest: (v) => commitmentDigest({
    chainId: v.chainId as bigint, contract: v.contract as Address, sessionId: v.sessionId as bigint, from: v.from as bigint, to: v.to as bigint,
    accTo: v.accTo as Hex, prevRoot: v.prevRoot as Hex, newRoot: v.newRoot as Hex, outputsHash: v.outputsHash as Hex,
    publicOutputsHash: v.publicOutputsHash as Hex,
  }),
  requestAad: (v) => requestAad(v.chainId as bigint, v.contract as Address, v.sessionId as bigint, v.sender as Address),
  outputAad: (v) => outputAad(v.chainId as bigint, v.contract as Address, v.sessionId as bigint, v.recipient as Address, v.seq as bigint),
  handoverRequestReportData: (v) => handoverRequestReportData(v.chainId as bigint, v.contract as Address, v.configHash as Hex, v.mrEnclave as Hex, v.handoverPubKey as Hex),
  handoverAad: (v) => handoverAad(v.chainId as bigint, v.contract as Address, v.requestId as bigint, v.senderMrEnclave as Hex, v.recipientMrEnclave as Hex, v.handoverPubKey as Hex),
  backupAad: (v) => backupAad(v.chainId as bigint, v.contract as Address, v.sessionId as bigint, v.encPubKey as Hex, v.signer as Address, v.mrEnclave as Hex, v.recoveryKey as Hex),
  handoverSenderReportData: (v) => handoverSenderReportData(v.chainId as bigint, v.contract as Address, v.requestId as bigint, v.messageHash as Hex, v.encPubKey as Hex, v.signer as Address),
  blockSigningDigest: (v) => blockSigningDigest(v.chainId as bigint, v.number as bigint, v.blockHash as Hex),
  requestEpochAad: (v) => requestEpochAad(v.chainId as bigint, v.contract as Address, v.sessionId as bigint, v.sender as Address, v.epoch as bigint),
  epochCommitmentDigest: (v) => epochCommitmentDigest(v.commitmentDigest as Hex, v.epoch as bigint, v.encPubKey as Hex),
};

function randomOf(type: string): unknown {
  if (type === 'bytes32') return bytesToHex(randomBytes(32));
  if (type === 'address') return bytesToHex(randomBytes(20));
  if (type === 'uint256') return BigInt(bytesToHex(randomBytes(8)));
  throw new Error(`formula uses type ${type}: add it to randomOf`);
}

interface Formula { name: string; hashed: boolean; fields: { type: string; name: string }[]; line: string }

function formulas(): Formula[] {
  const i = doc.indexOf('<!-- formulas:begin -->');
  const j = doc.indexOf('<!-- formulas:end -->');
  assert.ok(i >= 0 && j > i, 'docs/protocol.md has the formulas block');
  const out: Formula[] = [];
  for (const line of doc.slice(i, j).split('\n')) {
    const m = /^([A-Za-z]+)(?:\([^)]*\))?\s+=\s+(keccak256\()?abi\.encode\((.*?)\)\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const fields = m[3]!.split(',').map((f) => {
      const [type, name] = f.trim().split(/\s+/);
      return { type: type!, name: name! };
    });
    out.push({ name: m[1]!, hashed: m[2] !== undefined, fields, line });
  }
  return out;
}

test('every typed formula in docs/protocol.md computes what @geode/protocol computes', () => {
  const fs = formulas();
  assert.deepEqual(fs.map((f) => f.name).sort(), Object.keys(IMPLEMENTATIONS).sort(), 'the formulas block documents exactly the protocol hashes');
  for (let round = 0; round < 5; round++) {
    for (const f of fs) {
      const values: Values = {};
      const words: unknown[] = [];
      for (const fld of f.fields) {
        let v: unknown;
        if (fld.name.startsWith('DOMAIN.')) {
          v = DOMAIN[fld.name.slice('DOMAIN.'.length) as keyof typeof DOMAIN];
          assert.ok(v, `${f.line}: ${fld.name} is not a DOMAIN constant`);
        } else if (fld.name === 'measurementsHash') {
          const ms = [bytesToHex(randomBytes(32)), bytesToHex(randomBytes(32))];
          values.measurements = ms;
          v = keccak256(`0x${ms.map((m) => m.slice(2)).join('')}`);
        } else {
          v = randomOf(fld.type);
        }
        values[fld.name.replace(/\(.*$/, '')] = v;
        words.push(v);
      }
      // acc(n-1) is written "acc(n-1)"; the implementation calls it accPrev
      if (f.name === 'acc') values.accPrev = words[0];
      const encoded = encodeAbiParameters(f.fields.map((x) => ({ type: x.type })) as AbiParameter[], words);
      const expected = f.hashed ? keccak256(encoded) : encoded;
      assert.equal(IMPLEMENTATIONS[f.name]!(values).toLowerCase(), expected.toLowerCase(), `docs/protocol.md formula disagrees with the code:\n${f.line}`);
    }
  }
});

test('a formula with a wrong type or order is caught (the check can fail)', () => {
  const f = formulas().find((x) => x.name === 'requestAad')!;
  const swapped = [f.fields[0]!, f.fields[2]!, f.fields[1]!, ...f.fields.slice(3)];
  const values: Values = {};
  const words = swapped.map((fld) => {
    const v = fld.name.startsWith('DOMAIN.') ? DOMAIN.requestAad : randomOf(fld.type);
    values[fld.name] = v;
    return v;
  });
  const encoded = encodeAbiParameters(swapped.map((x) => ({ type: x.type })) as AbiParameter[], words);
  assert.notEqual(IMPLEMENTATIONS.requestAad!(values), encoded);
});

test('the contract reference tables in docs/protocol.md match the compiled GeodeCore ABI (run `npm run docs:reference`)', () => {
  assert.equal(renderReference(doc), doc, 'docs/protocol.md: the generated contract tables are stale; run `npm run docs:reference` and commit the result');
});
