/**
 * Edits of simulation-PKI collateral re-signed with the simulation keys, so every signature is genuine and only the
 * edited field differs (shared by dcap-sim-collateral.test.ts and the on-chain DCAP tests under test/dcap/).
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList, RevokedCertificate, Time } from '@peculiar/asn1-x509';
import type { SimulationPki } from '../src/sim/index.ts';
import { parseQuote } from '../src/dcap/quote.ts';
import { pemToDers, parseCert } from '../src/dcap/x509.ts';

/** Simulation private keys are PKCS#8 DER as 0x hex. */
export function keyOf(pkcs8Hex: string): KeyObject {
  return createPrivateKey({ key: Buffer.from(pkcs8Hex.replace(/^0x/, ''), 'hex'), format: 'der', type: 'pkcs8' });
}
/** Re-signs a collateral JSON field with the simulation TCB Signing key after `edit`. */
export function resign(pki: SimulationPki, field: 'tcb_info' | 'qe_identity', edit: (j: Record<string, unknown>) => void) {
  const col = pki.collateral() as unknown as Record<string, string>;
  const j = JSON.parse(col[field]);
  edit(j);
  col[field] = JSON.stringify(j);
  col[`${field}_signature`] = sign('sha256', Buffer.from(col[field]), { key: keyOf(pki.keys.tcbSigning), dsaEncoding: 'ieee-p1363' }).toString('hex');
  return col;
}

/**
 * The PKI's collateral with its PCK CRL re-issued (signed by the simulation PCK CA) listing the PCK leaf of `quote`,
 * revoked at `revokedAt` (unix seconds).
 */
export function withRevokedPckLeaf(pki: SimulationPki, quote: Uint8Array, revokedAt: number): Record<string, string> {
  const leaf = parseCert(pemToDers(parseQuote(quote).signatureData.qe.certification.pemChain as string, 'chain')[0], 'leaf');
  const col = pki.collateral() as unknown as Record<string, string>;
  const crl = AsnConvert.parse(Buffer.from(col.pck_crl.replace(/^0x/, ''), 'hex'), CertificateList);
  const serial = Buffer.from(leaf.serial.length % 2 ? '0' + leaf.serial : leaf.serial, 'hex');
  const withLeaf = new RevokedCertificate({ userCertificate: new Uint8Array(serial[0] & 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial).buffer, revocationDate: new Time(new Date(revokedAt * 1000)) });
  crl.tbsCertList.revokedCertificates = [...(crl.tbsCertList.revokedCertificates ?? []), withLeaf];
  const tbs = Buffer.from(AsnConvert.serialize(crl.tbsCertList));
  const fresh = new CertificateList({ tbsCertList: crl.tbsCertList, signatureAlgorithm: crl.signatureAlgorithm, signature: new Uint8Array(sign('sha256', tbs, keyOf(pki.keys.pckCa))).buffer });
  col.pck_crl = Buffer.from(AsnConvert.serialize(fresh)).toString('hex');
  return col;
}
