// Enclave identity per TEE (docs/attestation.md#enclave-identity) and the SEV-SNP certificate table (auxblob).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sgxEnclaveIdentity, snpEnclaveIdentity, tdxEnclaveIdentity } from '../src/identity.ts';
import { encodeSnpCertTable, parseSnpCertTable, SNP_CERT_GUIDS } from '../src/snp/certs.ts';
import { verifySnpReport } from '../src/snp/verify.ts';
import { buildSnpReport, createSnpTestPki, testSnpMeasurement } from '../../../test/harness/tee/snp.ts';

const b = (n: number, len: number) => new Uint8Array(len).fill(n);

test('identity: SGX = MRENCLAVE, TDX = SHA-256(MRTD||RTMR0..3), SNP = SHA-256(MEASUREMENT); wrong sizes are ATTEST_DECODE', () => {
  assert.deepEqual(sgxEnclaveIdentity(b(1, 32)), b(1, 32));
  const rt = [b(2, 48), b(3, 48), b(4, 48), b(5, 48)];
  const want = new Uint8Array(createHash('sha256').update(Buffer.concat([b(1, 48), ...rt])).digest());
  assert.deepEqual(tdxEnclaveIdentity(b(1, 48), rt), want);
  assert.notDeepEqual(tdxEnclaveIdentity(b(1, 48), [rt[0]!, rt[1]!, rt[2]!, b(6, 48)]), want, 'RTMR3 is part of the identity');
  assert.deepEqual(snpEnclaveIdentity(b(7, 48)), new Uint8Array(createHash('sha256').update(b(7, 48)).digest()));
  assert.throws(() => sgxEnclaveIdentity(b(1, 48)), { code: 'ATTEST_DECODE' });
  assert.throws(() => tdxEnclaveIdentity(b(1, 48), rt.slice(0, 3)), { code: 'ATTEST_DECODE' });
  assert.throws(() => tdxEnclaveIdentity(b(1, 32), rt), { code: 'ATTEST_DECODE' });
  assert.throws(() => snpEnclaveIdentity(b(1, 32)), { code: 'ATTEST_DECODE' });
});

test('SNP certificate table: round trip, GUIDs in RFC 4122 byte order, unknown GUIDs skipped; malformed tables are ATTEST_DECODE', () => {
  const t = encodeSnpCertTable({ vcek: b(1, 10), ask: b(2, 20), ark: b(3, 30) });
  assert.equal(Buffer.from(t.subarray(0, 16)).toString('hex'), SNP_CERT_GUIDS.vcek.replace(/-/g, ''));
  assert.deepEqual(parseSnpCertTable(t), { vcek: b(1, 10), ask: b(2, 20), ark: b(3, 30) });
  const unknown = new Uint8Array(t);
  unknown[0] ^= 0xff; // the first entry's GUID is no longer the VCEK's
  assert.deepEqual(Object.keys(parseSnpCertTable(unknown)).sort(), ['ark', 'ask']);
  assert.throws(() => parseSnpCertTable(t.subarray(0, 24 * 3)), { code: 'ATTEST_DECODE' }, 'no terminator');
  const oob = new Uint8Array(t);
  new DataView(oob.buffer).setUint32(20, 10_000, true);
  assert.throws(() => parseSnpCertTable(oob), { code: 'ATTEST_DECODE' }, 'length past the end');
  const dup = new Uint8Array(t);
  dup.set(t.subarray(0, 16), 24); // second entry also claims VCEK
  assert.throws(() => parseSnpCertTable(dup), { code: 'ATTEST_DECODE' });
});

test('verifySnpReport with a substitute root: needs its chain, reports simulated; a forged VCEK under it is refused', async () => {
  const now = 1_700_000_000;
  const pki = await createSnpTestPki(now - 100);
  const other = await createSnpTestPki(now - 100);
  const report = buildSnpReport(pki, testSnpMeasurement('x'), b(1, 64));
  assert.throws(() => verifySnpReport(report, { now, vcekDer: pki.vcekDer, trustedArkDer: pki.arkDer }), { code: 'ATTEST_COLLATERAL_MISSING' });
  assert.equal(verifySnpReport(report, { now, vcekDer: pki.vcekDer, certChainPem: pki.certChainPem, trustedArkDer: pki.arkDer }).simulated, true);
  assert.throws(() => verifySnpReport(report, { now, vcekDer: other.vcekDer, certChainPem: pki.certChainPem, trustedArkDer: pki.arkDer }), { code: 'ATTEST_CHAIN_INVALID' });
  assert.throws(() => verifySnpReport(report, { now, vcekDer: pki.vcekDer, certChainPem: other.certChainPem, trustedArkDer: pki.arkDer }), { code: 'ATTEST_CHAIN_INVALID' });
  const tampered = new Uint8Array(report);
  tampered[0x90] ^= 1;
  assert.throws(() => verifySnpReport(tampered, { now, vcekDer: pki.vcekDer, certChainPem: pki.certChainPem, trustedArkDer: pki.arkDer }), { code: 'ATTEST_SNP_SIGNATURE' });
});
