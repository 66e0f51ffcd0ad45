// TEST-ONLY PKI for AMD SEV-SNP: a test ARK -> ASK -> VCEK chain (ECDSA P-384 instead of AMD's RSA-PSS ARK/ASK;
// the verifier checks issuance with node:crypto either way) and ATTESTATION_REPORTs in the real byte layout (ABI
// spec #56860 Table 22, signed ECDSA P-384/SHA-384 by the VCEK, r/s little-endian), which the real verifySnpReport
// accepts with `trustedArkDer` = this ARK. Never imported by packages/*/src.
import '@geode/attestation/sim';
import { createHash, sign, webcrypto, type KeyObject } from 'node:crypto';
import { KeyObject as KO } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { encodeSnpCertTable } from '@geode/attestation/snp';

const ALG = { name: 'ECDSA', namedCurve: 'P-384' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-384' } as const;
const NAME = 'OU=Engineering, C=US, L=Test, ST=CA, O=Geode Test (not AMD)';
const OID = '1.3.6.1.4.1.3704.1';

/** The test chip: CHIP_ID and REPORTED_TCB (Genoa layout: bl, tee, 0,0,0,0, snp, ucode). */
export const TEST_CHIP_ID = new Uint8Array(createHash('sha512').update('geode test chip').digest());
export const TEST_SNP_TCB = { bootloader: 9, tee: 0, snp: 23, microcode: 72 };

/** A test SEV-SNP PKI for product Genoa. */
export interface SnpTestPki {
  arkDer: Uint8Array;
  askDer: Uint8Array;
  vcekDer: Uint8Array;
  /** ASK then ARK, PEM (what AMD KDS serves as cert_chain). */
  certChainPem: string;
  vcekKey: KeyObject;
  /** The certificate table configfs-tsm returns as auxblob (VCEK, ASK, ARK). */
  certTable: Uint8Array;
}

const der = (n: asn1js.AsnType) => new Uint8Array(n.toBER(false));

/** Create the test PKI; certificates valid [notBefore, notBefore + days]. */
export async function createSnpTestPki(notBefore: number, days = 3650): Promise<SnpTestPki> {
  const gen = () => webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
  const [ark, ask, vcek] = await Promise.all([gen(), gen(), gen()]);
  const nb = new Date(notBefore * 1000);
  const na = new Date((notBefore + days * 86400) * 1000);
  const ca = [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)];
  const arkCert = await x509.X509CertificateGenerator.create({ serialNumber: '01', subject: `CN=ARK-Genoa, ${NAME}`, issuer: `CN=ARK-Genoa, ${NAME}`, notBefore: nb, notAfter: na, publicKey: ark.publicKey, signingKey: ark.privateKey, signingAlgorithm: SIGN, extensions: ca });
  const askCert = await x509.X509CertificateGenerator.create({ serialNumber: '02', subject: `CN=SEV-Genoa, ${NAME}`, issuer: `CN=ARK-Genoa, ${NAME}`, notBefore: nb, notAfter: na, publicKey: ask.publicKey, signingKey: ark.privateKey, signingAlgorithm: SIGN, extensions: ca });
  const int = (v: number) => der(new asn1js.Integer({ value: v }));
  const vcekCert = await x509.X509CertificateGenerator.create({
    serialNumber: '03', subject: `CN=SEV-VCEK, ${NAME}`, issuer: `CN=SEV-Genoa, ${NAME}`, notBefore: nb, notAfter: na, publicKey: vcek.publicKey, signingKey: ask.privateKey, signingAlgorithm: SIGN,
    extensions: [
      new x509.Extension(`${OID}.2`, false, der(new asn1js.IA5String({ value: 'Genoa' }))),
      new x509.Extension(`${OID}.3.1`, false, int(TEST_SNP_TCB.bootloader)),
      new x509.Extension(`${OID}.3.2`, false, int(TEST_SNP_TCB.tee)),
      new x509.Extension(`${OID}.3.3`, false, int(TEST_SNP_TCB.snp)),
      new x509.Extension(`${OID}.3.8`, false, int(TEST_SNP_TCB.microcode)),
      new x509.Extension(`${OID}.4`, false, TEST_CHIP_ID),
    ],
  });
  const pem = (c: x509.X509Certificate) => c.toString('pem').replace(/\r\n/g, '\n').trimEnd() + '\n';
  const arkDer = new Uint8Array(arkCert.rawData);
  const askDer = new Uint8Array(askCert.rawData);
  const vcekDer = new Uint8Array(vcekCert.rawData);
  return {
    arkDer, askDer, vcekDer, certChainPem: pem(askCert) + pem(arkCert), vcekKey: KO.from(vcek.privateKey),
    certTable: encodeSnpCertTable({ vcek: vcekDer, ask: askDer, ark: arkDer }),
  };
}

/**
 * An SEV-SNP ATTESTATION_REPORT (version 3, 1184 bytes) of the test chip with `measurement` (48 bytes) and
 * `reportData` (64 bytes), signed by the VCEK. `debug` sets POLICY bit 19.
 */
export function buildSnpReport(pki: SnpTestPki, measurement: Uint8Array, reportData: Uint8Array, o: { debug?: boolean } = {}): Uint8Array {
  if (measurement.length !== 48 || reportData.length !== 64) throw new RangeError('measurement 48 bytes, reportData 64 bytes');
  const r = new Uint8Array(0x4a0);
  const v = new DataView(r.buffer);
  const tcb = Uint8Array.from([TEST_SNP_TCB.bootloader, TEST_SNP_TCB.tee, 0, 0, 0, 0, TEST_SNP_TCB.snp, TEST_SNP_TCB.microcode]);
  v.setUint32(0x00, 3, true); // VERSION
  v.setBigUint64(0x08, 0x30000n | (o.debug ? 1n << 19n : 0n), true); // POLICY: SMT, reserved bit 17
  v.setUint32(0x34, 1, true); // SIGNATURE_ALGO ECDSA P-384/SHA-384
  r.set(tcb, 0x38); // CURRENT_TCB
  v.setUint32(0x48, 0, true); // SIGNING_KEY = VCEK
  r.set(reportData, 0x50);
  r.set(measurement, 0x90);
  r.set(tcb, 0x180); // REPORTED_TCB
  r[0x188] = 0x19; r[0x189] = 0x11; r[0x18a] = 0x01; // CPUID family/model/stepping: Genoa
  r.set(TEST_CHIP_ID, 0x1a0);
  r.set(tcb, 0x1e0); // COMMITTED_TCB
  r.set(tcb, 0x1f0); // LAUNCH_TCB
  const sig = sign('sha384', r.subarray(0, 0x2a0), { key: pki.vcekKey, dsaEncoding: 'ieee-p1363' });
  r.set(Uint8Array.from(sig.subarray(0, 48)).reverse(), 0x2a0);
  r.set(Uint8Array.from(sig.subarray(48, 96)).reverse(), 0x2e8);
  return r;
}

/** A fixed test launch measurement (48 bytes) from `label`. */
export const testSnpMeasurement = (label: string): Uint8Array => new Uint8Array(createHash('sha384').update(`snp:${label}`).digest());
