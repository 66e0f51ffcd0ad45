/**
 * SEV-SNP certificate table: what the extended guest request returns next to the report, and what configfs-tsm
 * exposes as `auxblob` for the `sev_guest` provider (AMD "SEV-ES Guest-Hypervisor Communication Block
 * Standardization" #56421, §4.1.8.1 "SNP Extended Guest Request", certificate table layout).
 *
 * Layout: entries of 24 bytes { GUID (16 bytes, RFC 4122 byte order), offset (u32 LE), length (u32 LE) }, ended
 * by an all-zero entry; offset/length locate each DER certificate relative to the start of the table.
 * GUIDs: VCEK 63da758d-e664-4564-adc5-f4b93be8accd, VLEK a8074bc2-a25a-483e-aae6-39c045a0b8a1,
 * ASK 4ab7b379-bbac-4fe4-a02f-05aef327c782, ARK c0b406a4-a803-4952-9743-3fb6014cd0ae.
 */
import { DecodeError } from '../errors.ts';

/** Certificate table GUIDs by role. */
export const SNP_CERT_GUIDS = {
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
} as const;
export type SnpCertRole = keyof typeof SNP_CERT_GUIDS;

/** Certificates of a table, DER, by role (roles absent from the table are absent here). */
export type SnpCertificates = Partial<Record<SnpCertRole, Uint8Array>>;

/** At most this many entries are read (the table AMD defines has four roles; hosts may add a few more). */
export const SNP_CERT_TABLE_MAX_ENTRIES = 64;

const guidText = (b: Uint8Array): string => {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const guidBytes = (g: string): Uint8Array => new Uint8Array(Buffer.from(g.replace(/-/g, ''), 'hex'));

/**
 * Parse a certificate table. Unknown GUIDs are skipped.
 * @throws DecodeError (`ATTEST_DECODE`) for a table with no terminator, more than SNP_CERT_TABLE_MAX_ENTRIES
 *   entries, an entry pointing outside the table, or a role given twice.
 */
export function parseSnpCertTable(table: Uint8Array): SnpCertificates {
  const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const out: SnpCertificates = {};
  for (let i = 0; ; i++) {
    const o = i * 24;
    if (i > SNP_CERT_TABLE_MAX_ENTRIES || o + 24 > table.length) throw new DecodeError('SEV-SNP certificate table has no terminating zero entry', { details: { entries: i } });
    const guid = table.subarray(o, o + 16);
    const offset = v.getUint32(o + 16, true);
    const length = v.getUint32(o + 20, true);
    if (guid.every((x) => x === 0) && offset === 0 && length === 0) return out;
    if (offset + length > table.length || offset < (i + 1) * 24) throw new DecodeError('SEV-SNP certificate table entry points outside the table', { details: { entry: i, offset, length } });
    const g = guidText(guid);
    const role = (Object.keys(SNP_CERT_GUIDS) as SnpCertRole[]).find((r) => SNP_CERT_GUIDS[r] === g);
    if (!role) continue;
    if (out[role]) throw new DecodeError(`SEV-SNP certificate table lists the ${role.toUpperCase()} twice`, { details: { role } });
    out[role] = table.slice(offset, offset + length);
  }
}

/** Build a certificate table (inverse of {@link parseSnpCertTable}; roles in VCEK, VLEK, ASK, ARK order). */
export function encodeSnpCertTable(certs: SnpCertificates): Uint8Array {
  const roles = (Object.keys(SNP_CERT_GUIDS) as SnpCertRole[]).filter((r) => certs[r]);
  const head = (roles.length + 1) * 24;
  const total = head + roles.reduce((n, r) => n + certs[r]!.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let at = head;
  roles.forEach((r, i) => {
    out.set(guidBytes(SNP_CERT_GUIDS[r]), i * 24);
    v.setUint32(i * 24 + 16, at, true);
    v.setUint32(i * 24 + 20, certs[r]!.length, true);
    out.set(certs[r]!, at);
    at += certs[r]!.length;
  });
  return out;
}
