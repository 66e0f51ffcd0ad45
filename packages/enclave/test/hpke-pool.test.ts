// The HPKE pool (src/hpke/pool.ts) gives the bytes the inline functions and stock @hpke/core give, fails the same
// way, and loses nothing when a worker dies (its jobs are computed inline).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, hkdfSync } from 'node:crypto';
import { hexToBytes, keccak256, numberToBytes } from 'viem';
import { HPKE_INFO, hpkeDeriveKeyPair, hpkeOpen, hpkeSeal, stockSuite } from '@geode/protocol';
import { bundleHpkeWorker } from '../src/build.ts';
import { HpkePool } from '../src/hpke/pool.ts';
import { jobEphemeralIkm, type OpenJob, type SealJob } from '../src/hpke/jobs.ts';
import { outputEphemeralIkm } from '../src/hpke/output-ekm.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytesOf = (label: string, n = 32) => new Uint8Array(createHash('sha256').update(label).digest()).slice(0, n);
const source = await bundleHpkeWorker();

async function fixtures(n: number) {
  const recipient = await hpkeDeriveKeyPair(bytesOf('recipient'));
  const seals: SealJob[] = [];
  const opens: OpenJob[] = [];
  for (let i = 0; i < n; i++) {
    const aad = bytesOf(`aad ${i}`, 20 + (i % 13));
    const plaintext = new TextEncoder().encode(JSON.stringify({ seq: String(i), ok: true, message: { n: i } }));
    seals.push({ recipientKey: recipient.publicKey, info: HPKE_INFO.output, aad, plaintext, ephemeralIkm: bytesOf(`ekm ${i}`) });
    const s = await hpkeSeal(recipient.publicKey, HPKE_INFO.request, aad, plaintext);
    opens.push({ privateKey: recipient.privateKey, enc: s.enc, info: HPKE_INFO.request, aad, ciphertext: s.ciphertext });
  }
  return { recipient, seals, opens };
}

test('pooled seals are byte-identical to inline hpkeSeal and to stock @hpke/core with the same ephemeral key', async () => {
  const { seals } = await fixtures(40);
  const pool = new HpkePool(source, 2);
  try {
    assert.equal(pool.size, 2);
    const pooled = await Promise.all(seals.map((j) => pool.seal(j)));
    for (const [i, j] of seals.entries()) {
      const inline = await hpkeSeal(j.recipientKey, j.info, j.aad, j.plaintext, jobEphemeralIkm(j));
      assert.equal(hex(pooled[i]!.enc), hex(inline.enc), `enc ${i}`);
      assert.equal(hex(pooled[i]!.ciphertext), hex(inline.ciphertext), `ciphertext ${i}`);
    }
    // Independent of hpkeSeal: stock @hpke/core (WebCrypto primitives) with the same DeriveKeyPair input.
    for (const i of [0, 17, 39]) {
      const j = seals[i]!;
      const stock = await stockSuite.seal({ recipientPublicKey: await stockSuite.kem.deserializePublicKey(j.recipientKey), info: new TextEncoder().encode(j.info), ekm: await stockSuite.kem.deriveKeyPair(jobEphemeralIkm(j)) }, j.plaintext, j.aad);
      assert.equal(hex(pooled[i]!.enc), hex(new Uint8Array(stock.enc)));
      assert.equal(hex(pooled[i]!.ciphertext), hex(new Uint8Array(stock.ct)));
    }
  } finally {
    await pool.close();
  }
});

test('pooled opens give the plaintexts; a tampered ciphertext or a wrong AAD rejects with HPKE_OPEN, the others still open', async () => {
  const { seals, opens } = await fixtures(24);
  const jobs = opens.map((j) => ({ ...j }));
  jobs[3] = { ...jobs[3]!, ciphertext: jobs[3]!.ciphertext.map((b, i) => (i === 0 ? b ^ 1 : b)) };
  jobs[11] = { ...jobs[11]!, aad: bytesOf('another sender') };
  const pool = new HpkePool(source, 2);
  try {
    const results = await Promise.allSettled(jobs.map((j) => pool.open(j)));
    for (const [i, r] of results.entries()) {
      if (i === 3 || i === 11) {
        assert.equal(r.status, 'rejected', `job ${i} must not open`);
        assert.equal((r as PromiseRejectedResult).reason.code, 'HPKE_OPEN');
        await assert.rejects(hpkeOpen(jobs[i]!.privateKey, jobs[i]!.enc, jobs[i]!.info, jobs[i]!.aad, jobs[i]!.ciphertext), { code: 'HPKE_OPEN' });
      } else {
        assert.equal(r.status, 'fulfilled', `job ${i} must open`);
        assert.equal(hex((r as PromiseFulfilledResult<Uint8Array>).value), hex(seals[i]!.plaintext));
      }
    }
  } finally {
    await pool.close();
  }
});

test('a seal to a low-order X25519 key rejects in the pool as inline (the batch records the output as undeliverable)', async () => {
  const { seals } = await fixtures(1);
  const job = { ...seals[0]!, recipientKey: new Uint8Array(32) };
  const pool = new HpkePool(source, 1);
  try {
    await assert.rejects(pool.seal(job));
    await assert.rejects(hpkeSeal(job.recipientKey, job.info, job.aad, job.plaintext, jobEphemeralIkm(job)));
  } finally {
    await pool.close();
  }
});

test('jobs a dying worker owed are computed inline: same results, nothing lost; the pool then runs inline', async () => {
  const { seals, opens } = await fixtures(20);
  // A "worker" that exits on its first message, standing in for one that crashes mid-batch.
  const dying = "require('node:worker_threads').parentPort.on('message', () => process.exit(3));";
  const pool = new HpkePool(dying, 2);
  try {
    const [sealed, opened] = await Promise.all([Promise.all(seals.map((j) => pool.seal(j))), Promise.all(opens.map((j) => pool.open(j)))]);
    for (const [i, j] of seals.entries()) {
      const inline = await hpkeSeal(j.recipientKey, j.info, j.aad, j.plaintext, jobEphemeralIkm(j));
      assert.equal(hex(sealed[i]!.ciphertext), hex(inline.ciphertext));
      assert.equal(hex(opened[i]!), hex(j.plaintext));
    }
    assert.equal(pool.size, 0, 'the dead workers are dropped');
    assert.equal(hex(await pool.open(opens[0]!)), hex(seals[0]!.plaintext));
  } finally {
    await pool.close();
  }
});

test('without a worker source (an unbundled enclave) or with size 0 every job runs inline', async () => {
  const { seals, opens } = await fixtures(2);
  for (const pool of [new HpkePool(undefined, 4), new HpkePool(source, 0)]) {
    assert.equal(pool.size, 0);
    assert.equal(hex(await pool.open(opens[1]!)), hex(seals[1]!.plaintext));
    const s = await pool.seal(seals[0]!);
    assert.equal(hex(s.ciphertext), hex((await hpkeSeal(seals[0]!.recipientKey, seals[0]!.info, seals[0]!.aad, seals[0]!.plaintext, jobEphemeralIkm(seals[0]!))).ciphertext));
  }
});

test('seal jobs carrying OutputEkmInput: the worker derives the ephemeral key material as SessionKeys does, and the bytes match an independent HKDF over viem Keccak', async () => {
  const { seals } = await fixtures(20);
  const appSecret = bytesOf('app secret');
  // Every other job carries the derivation inputs, the rest the derived bytes: both kinds in the same chunks.
  const jobs: SealJob[] = seals.map((j, index) => ({ ...j, ephemeralIkm: index % 2 ? { appSecret, index } : outputEphemeralIkm(appSecret, index, j.aad, j.recipientKey, j.plaintext) }));
  const pool = new HpkePool(source, 1);
  try {
    const pooled = await Promise.all(jobs.map((j) => pool.seal(j)));
    for (const [index, j] of jobs.entries()) {
      // RFC 5869 HKDF from node:crypto over the documented info (docs/protocol.md#outputs), Keccak from viem.
      const info = Buffer.concat([Buffer.from('geode.output-ekm.v2', 'ascii'), Buffer.from(numberToBytes(BigInt(index), { size: 32 })), hexToBytes(keccak256(j.aad)), j.recipientKey, hexToBytes(keccak256(j.plaintext))]);
      const ikm = new Uint8Array(hkdfSync('sha256', appSecret, new Uint8Array(0), info, 32));
      assert.equal(hex(jobEphemeralIkm(j)), hex(ikm), `ikm ${index}`);
      const inline = await hpkeSeal(j.recipientKey, j.info, j.aad, j.plaintext, ikm);
      assert.equal(hex(pooled[index]!.enc), hex(inline.enc), `enc ${index}`);
      assert.equal(hex(pooled[index]!.ciphertext), hex(inline.ciphertext), `ciphertext ${index}`);
    }
    assert.throws(() => outputEphemeralIkm(appSecret, -1, new Uint8Array(0), new Uint8Array(32), new Uint8Array(0)), RangeError);
  } finally {
    await pool.close();
  }
});

test('now() runs a still-queued job on the calling thread and drain() runs the rest there alongside the worker: the same bytes either way', async () => {
  const { seals, opens } = await fixtures(96);
  const pool = new HpkePool(source, 1);
  try {
    const opened = opens.map((j) => pool.open(j));
    // The worker holds at most WINDOW chunks; the last open is still queued here, so now() computes it inline.
    const last = await pool.now(opened.at(-1)!);
    assert.equal(pool.counts.inline, 1);
    assert.equal(new TextDecoder().decode(last), new TextDecoder().decode(seals.at(-1)!.plaintext));
    for (const [i, p] of opened.entries()) assert.equal(new TextDecoder().decode(await pool.now(p)), new TextDecoder().decode(seals[i]!.plaintext), `open ${i}`);
    const before = pool.counts;
    const sealed = seals.map((j) => pool.seal(j));
    await pool.drain();
    const after = pool.counts;
    assert.ok(after.inline > before.inline, 'drain ran some seals inline');
    assert.ok(after.worker > before.worker, 'the worker ran some seals');
    assert.equal(after.inline + after.worker, opens.length + seals.length, 'every job ran exactly once');
    for (const [i, p] of sealed.entries()) {
      const j = seals[i]!;
      const inline = await hpkeSeal(j.recipientKey, j.info, j.aad, j.plaintext, jobEphemeralIkm(j));
      const s = await p;
      assert.equal(hex(s.enc), hex(inline.enc), `enc ${i}`);
      assert.equal(hex(s.ciphertext), hex(inline.ciphertext), `ciphertext ${i}`);
    }
  } finally {
    await pool.close();
  }
});
