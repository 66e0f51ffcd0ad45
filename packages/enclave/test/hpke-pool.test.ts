// The HPKE pool (src/hpke/pool.ts) gives the bytes the inline functions and stock @hpke/core give, fails the same
// way, and loses nothing when a worker dies (its jobs are computed inline).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HPKE_INFO, hpkeDeriveKeyPair, hpkeOpen, hpkeSeal, stockSuite } from '@geode/protocol';
import { bundleHpkeWorker } from '../src/build.ts';
import { HpkePool } from '../src/hpke/pool.ts';
import type { OpenJob, SealJob } from '../src/hpke/jobs.ts';

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
      const inline = await hpkeSeal(j.recipientKey, j.info, j.aad, j.plaintext, j.ephemeralIkm);
      assert.equal(hex(pooled[i]!.enc), hex(inline.enc), `enc ${i}`);
      assert.equal(hex(pooled[i]!.ciphertext), hex(inline.ciphertext), `ciphertext ${i}`);
    }
    // Independent of hpkeSeal: stock @hpke/core (WebCrypto primitives) with the same DeriveKeyPair input.
    for (const i of [0, 17, 39]) {
      const j = seals[i]!;
      const stock = await stockSuite.seal({ recipientPublicKey: await stockSuite.kem.deserializePublicKey(j.recipientKey), info: new TextEncoder().encode(j.info), ekm: await stockSuite.kem.deriveKeyPair(j.ephemeralIkm) }, j.plaintext, j.aad);
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
    await assert.rejects(hpkeSeal(job.recipientKey, job.info, job.aad, job.plaintext, job.ephemeralIkm));
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
      const inline = await hpkeSeal(j.recipientKey, j.info, j.aad, j.plaintext, j.ephemeralIkm);
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
    assert.equal(hex(s.ciphertext), hex((await hpkeSeal(seals[0]!.recipientKey, seals[0]!.info, seals[0]!.aad, seals[0]!.plaintext, seals[0]!.ephemeralIkm)).ciphertext));
  }
});
