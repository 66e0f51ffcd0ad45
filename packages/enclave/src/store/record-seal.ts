import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { EnclaveError } from '../errors.ts';

/**
 * Sealing of one store record (docs/enclave.md#store-sealing): AES-256-GCM (NIST SP 800-38D, node:crypto) under
 * the enclave's sealing key, fresh 96-bit random IV per write.
 *
 *   sealed = "GSR1" (4 ASCII bytes) || iv (12) || tag (16) || ciphertext
 *   AAD    = "geode.store-record.v1" (UTF-8) || storeId (32) || recordKey
 *
 * The AAD binds the record to its key (a record copied under another key does not open) and to the store's
 * identity (a record copied from another store, even of the same enclave build, does not open).
 */

const MAGIC = Buffer.from('GSR1', 'ascii');
const DOMAIN = Buffer.from('geode.store-record.v1', 'utf8');
const IV_LEN = 12;
const TAG_LEN = 16;

/**
 * IVs are drawn from the CSPRNG 12 KiB at a time (one randomFillSync per 1,024 records instead of one per record,
 * which cost more than the encryption itself). Random 96-bit IVs keep the NIST SP 800-38D §8.3 bound: at most 2^32
 * records sealed under one key.
 */
let ivPool = Buffer.alloc(0);
let ivOff = 0;
function freshIv(): Buffer {
  if (ivOff + IV_LEN > ivPool.length) {
    ivPool = randomFillSync(Buffer.allocUnsafe(IV_LEN * 1024));
    ivOff = 0;
  }
  const iv = ivPool.subarray(ivOff, ivOff + IV_LEN); // each IV is handed out once: the pool is replaced, never reused
  ivOff += IV_LEN;
  return iv;
}

const aad = (storeId: Uint8Array, recordKey: Uint8Array): Buffer => Buffer.concat([DOMAIN, storeId, recordKey]);

/** Seal `plain` as the record `recordKey` of store `storeId` (32 bytes) under `key` (32 bytes). */
export function sealRecord(key: Uint8Array, storeId: Uint8Array, recordKey: Uint8Array, plain: Uint8Array): Uint8Array {
  const iv = freshIv();
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad(storeId, recordKey));
  // One output buffer, written in place: MAGIC || iv || tag || ciphertext (GCM's final() adds no bytes).
  const out = Buffer.allocUnsafe(MAGIC.length + IV_LEN + TAG_LEN + plain.length);
  MAGIC.copy(out, 0);
  iv.copy(out, MAGIC.length);
  const ct = c.update(plain);
  const fin = c.final();
  if (ct.length + fin.length !== plain.length) throw new EnclaveError('ENCLAVE_INTERNAL', 'AES-GCM ciphertext length differs from the plaintext length; this is a Geode bug.');
  ct.copy(out, MAGIC.length + IV_LEN + TAG_LEN);
  c.getAuthTag().copy(out, MAGIC.length + IV_LEN);
  return out;
}

/**
 * Open a record sealed by sealRecord. Throws ENCLAVE_SEAL_CORRUPT when the bytes are malformed, tampered, stored
 * under another key, or sealed for another store or sealing key.
 */
export function openRecord(key: Uint8Array, storeId: Uint8Array, recordKey: Uint8Array, sealed: Uint8Array): Uint8Array {
  const b = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (b.length < MAGIC.length + IV_LEN + TAG_LEN || !b.subarray(0, MAGIC.length).equals(MAGIC)) throw refused(recordKey, 'not a Geode store record');
  try {
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(MAGIC.length, MAGIC.length + IV_LEN));
    d.setAAD(aad(storeId, recordKey));
    d.setAuthTag(b.subarray(MAGIC.length + IV_LEN, MAGIC.length + IV_LEN + TAG_LEN));
    return new Uint8Array(Buffer.concat([d.update(b.subarray(MAGIC.length + IV_LEN + TAG_LEN)), d.final()]));
  } catch (e) {
    throw refused(recordKey, 'authentication failed (tampered, moved from another key or another store, or sealed by another enclave build or config)', e);
  }
}

function refused(recordKey: Uint8Array, why: string, cause?: unknown): EnclaveError {
  return new EnclaveError('ENCLAVE_SEAL_CORRUPT', `A sealed store record was refused: ${why}. The enclave will not use it; restore this enclave's data directory from a backup, or start from an empty one and the chain's committed state.`, { cause, details: { record: Buffer.from(recordKey).toString('hex') } });
}
