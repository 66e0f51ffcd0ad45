// TEST-ONLY PKI for Intel TDX: quotes v4 and v5 in the real byte layout ("Intel TDX DCAP Quoting Library API"
// A.3 / A.4) and matching TDX collateral (TCB Info v3 id TDX, QE Identity v2 id TD_QE), signed through a Geode
// simulation PKI (@geode/attestation/sim) so the real verifyDcapQuote accepts them with `rootCaDer: pki.rootCaDer`.
// Never imported by packages/*/src.
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { buildSimQuote, type SimulationPki } from '@geode/attestation/sim';
import { QUOTE_ATTESTATION_KEY_LEN, QUOTE_ATTESTATION_KEY_OFFSET } from '@geode/attestation/sim';
import type { QuoteCollateral } from '@geode/attestation';

const iso = (unix: number): string => new Date(unix * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/** TEE_TCB_SVN of the test TD: module ISVSVN 3, major version 1 (TDX 1.5 module identity TDX_01), then SVNs. */
export const TEST_TEE_TCB_SVN = Uint8Array.from([3, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
/** MRSIGNERSEAM of the test TDX module (Intel's is all zero too). */
export const TEST_MR_SIGNER_SEAM = new Uint8Array(48);

function p1363(pkcs8Hex: string, data: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.from(pkcs8Hex.slice(2), 'hex'), format: 'der', type: 'pkcs8' });
  return new Uint8Array(sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }));
}

/** Collateral for TDX quotes of `pki`: same certificates and CRLs, TDX TCB Info and TD_QE identity. */
export function tdxCollateral(pki: SimulationPki): QuoteCollateral {
  const sgx = pki.collateral();
  const qe = JSON.parse(pki.qeIdentity) as Record<string, unknown>;
  const qeIdentity = JSON.stringify({ ...qe, id: 'TD_QE' });
  const level = JSON.parse(pki.tcbInfo).tcbLevels[0] as { tcb: Record<string, unknown> };
  const tcbInfo = JSON.stringify({
    id: 'TDX', version: 3, issueDate: iso(pki.notBefore), nextUpdate: iso(pki.notAfter),
    fmspc: pki.platform.fmspc.slice(2).toUpperCase(), pceId: pki.platform.pceId.slice(2).toUpperCase(), tcbType: 0, tcbEvaluationDataNumber: 1,
    tdxModule: { mrsigner: '00'.repeat(48), attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF' },
    tdxModuleIdentities: [{ id: 'TDX_01', mrsigner: '00'.repeat(48), attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF', tcbLevels: [{ tcb: { isvsvn: 3 }, tcbDate: iso(pki.notBefore), tcbStatus: 'UpToDate' }] }],
    tcbLevels: [{ tcb: { ...level.tcb, tdxtcbcomponents: Array.from(TEST_TEE_TCB_SVN, (svn) => ({ svn })) }, tcbDate: iso(pki.notBefore), tcbStatus: 'UpToDate' }],
  });
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  return { ...sgx, tcb_info: tcbInfo, tcb_info_signature: hex(p1363(pki.keys.tcbSigning, new TextEncoder().encode(tcbInfo))), qe_identity: qeIdentity, qe_identity_signature: hex(p1363(pki.keys.tcbSigning, new TextEncoder().encode(qeIdentity))) };
}

/** What a test TD reports. */
export interface TestTd {
  mrTd: Uint8Array; // 48
  rtmrs: [Uint8Array, Uint8Array, Uint8Array, Uint8Array]; // 48 each
  /** TD attributes (8 bytes LE, bit 0 = DEBUG); default only SEPT_VE_DISABLE (bit 28), as production TDs set it. */
  tdAttributes?: Uint8Array;
}

/**
 * A TDX quote: v4 (TD report 1.0, 584 bytes) or v5 (body descriptor type 3, TD report 1.5, 648 bytes), ECDSA-P256
 * attestation key and QE report of `pki`, certification data type 6 wrapping type 5 (the PCK chain).
 */
export function buildTdxQuote(pki: SimulationPki, td: TestTd, reportData: Uint8Array, version: 4 | 5 = 4): Uint8Array {
  if (reportData.length !== 64) throw new RangeError('reportData must be 64 bytes');
  // QE report || its signature || auth data || type-5 PCK chain: exactly the tail of a v3 quote of the same PKI.
  const v3 = buildSimQuote({ pki, mrEnclave: new Uint8Array(32), mrSigner: new Uint8Array(32), reportData: new Uint8Array(64) });
  const attKey = v3.subarray(QUOTE_ATTESTATION_KEY_OFFSET, QUOTE_ATTESTATION_KEY_OFFSET + QUOTE_ATTESTATION_KEY_LEN);
  const qeCertData = v3.subarray(QUOTE_ATTESTATION_KEY_OFFSET + QUOTE_ATTESTATION_KEY_LEN);

  const header = new Uint8Array(48);
  const hv = new DataView(header.buffer);
  hv.setUint16(0, version, true);
  hv.setUint16(2, 2, true); // ECDSA-256-with-P-256
  hv.setUint32(4, 0x81, true); // TDX
  header.set(Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex'), 12);
  header.set(new TextEncoder().encode('geode-test-tdx'), 28);

  const body = new Uint8Array(version === 5 ? 648 : 584);
  body.set(TEST_TEE_TCB_SVN, 0);
  body.set(TEST_MR_SIGNER_SEAM, 64);
  body.set(td.tdAttributes ?? Uint8Array.from([0, 0, 0, 0x10, 0, 0, 0, 0]), 120);
  body.set(Uint8Array.from([0xe7, 0x02, 0x06, 0, 0, 0, 0, 0]), 128); // XFAM
  body.set(td.mrTd, 136);
  td.rtmrs.forEach((r, i) => body.set(r, 328 + 48 * i));
  body.set(reportData, 520);

  const descriptor = new Uint8Array(version === 5 ? 6 : 0);
  if (version === 5) {
    new DataView(descriptor.buffer).setUint16(0, 3, true);
    new DataView(descriptor.buffer).setUint32(2, body.length, true);
  }
  const signed = Buffer.concat([header, descriptor, body]);
  const signature = p1363(pki.keys.attestation, signed);
  const outer = new Uint8Array(6);
  new DataView(outer.buffer).setUint16(0, 6, true);
  new DataView(outer.buffer).setUint32(2, qeCertData.length, true);
  const sigData = Buffer.concat([signature, attKey, outer, qeCertData]);
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, sigData.length, true);
  return new Uint8Array(Buffer.concat([signed, len, sigData]));
}

/** A fixed test TD identity derived from `label`. */
export function testTd(label: string): TestTd {
  const h = (s: string) => new Uint8Array(createHash('sha384').update(`${label}:${s}`).digest());
  return { mrTd: h('mrtd'), rtmrs: [h('rtmr0'), h('rtmr1'), h('rtmr2'), h('rtmr3')] };
}

export { sha256 };
