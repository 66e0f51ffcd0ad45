import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from '@geode/protocol/files';
import { EnclaveError } from './errors.ts';

/**
 * Sealed storage (docs/enclave.md#sealing): AES-256-GCM (NIST SP 800-38D, node:crypto) under a sealing key that
 * only this enclave identity (measurement + deployment config) can derive (the Platform's, ./platform/).
 *
 * It holds the small files sealed under the platform key: keys.sealed and lightclient.sealed (the state itself is
 * the record store of ./store/, docs/enclave.md#store). File format: "GSL1" (4 ASCII bytes) || iv (12) || tag (16)
 * || ciphertext. AAD = UTF-8 "geode.sealed-file.v1:" || file name, so a file renamed to another name does not open.
 * Writes are atomic: temp file, fsync, rename, fsync of the directory.
 */

const MAGIC = Buffer.from('GSL1', 'ascii');
const IV_LEN = 12;
const TAG_LEN = 16;
/** File name of the sealed keys. */
export const KEYS_FILE = 'keys.sealed';
/** File name of the sealed Ethereum light-client store (Ethereum deployments only; lightclient/gate.ts). */
export const LIGHT_CLIENT_FILE = 'lightclient.sealed';

/**
 * Write `data` to `<dir>/<name>` atomically and privately (0600 in a 0700 directory; @geode/protocol/files
 * writeFileAtomic: temp, fsync, rename, fsync(dir)). Throws EnclaveError ENCLAVE_SEAL_IO.
 */
export function atomicWrite(dir: string, name: string, data: Uint8Array): void {
  try {
    writeFileAtomic(join(dir, name), data);
  } catch (e) {
    throw sealIoError(dir, name, e);
  }
}

/** Create `dir` as a private (0700) directory, or make it one. Throws EnclaveError ENCLAVE_SEAL_IO. */
export function sealDir(dir: string): void {
  try {
    ensurePrivateDir(dir);
  } catch (e) {
    throw sealIoError(dir, '.', e);
  }
}

function sealIoError(dir: string, name: string, e: unknown): EnclaveError {
  return new EnclaveError('ENCLAVE_SEAL_IO', `Could not write ${name} in ${dir}: ${(e as Error).message}. Check the data directory's permissions and free space.`, { cause: e, details: { file: name } });
}

/** Encrypt `plain` for file `name` (the AAD binds the name). */
export function sealBytes(key: Uint8Array, name: string, plain: Uint8Array): Uint8Array {
  const iv = randomBytes(IV_LEN);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aadFor(name));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return new Uint8Array(Buffer.concat([MAGIC, iv, c.getAuthTag(), ct]));
}

/** Decrypt a sealed file's bytes. Throws ENCLAVE_SEAL_CORRUPT when the bytes are malformed, foreign or tampered. */
export function unsealBytes(key: Uint8Array, name: string, sealed: Uint8Array): Uint8Array {
  const b = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const headLen = MAGIC.length;
  if (b.length < headLen + IV_LEN + TAG_LEN || !b.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw corrupt(name, 'not a Geode sealed file of this kind');
  }
  const iv = b.subarray(headLen, headLen + IV_LEN);
  const tag = b.subarray(headLen + IV_LEN, headLen + IV_LEN + TAG_LEN);
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAAD(aadFor(name));
    d.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([d.update(b.subarray(headLen + IV_LEN + TAG_LEN)), d.final()]));
  } catch (e) {
    throw corrupt(name, 'authentication failed (tampered, or sealed by another enclave build or config)', e);
  }
}

const aadFor = (name: string): Buffer => Buffer.from(`geode.sealed-file.v1:${name}`, 'utf8');

function corrupt(name: string, why: string, cause?: unknown): EnclaveError {
  return new EnclaveError('ENCLAVE_SEAL_CORRUPT', `Sealed file ${name} was refused: ${why}. The enclave ignores it; restore the data directory of this enclave build, or start from the chain's committed state.`, { cause, details: { file: name } });
}

/**
 * A directory of sealed files under one sealing key. Never throws anything but EnclaveError (ENCLAVE_SEAL_CORRUPT
 * for bad content, ENCLAVE_SEAL_IO for failed writes).
 */
export class SealedStore {
  constructor(readonly dir: string, private readonly key: Uint8Array) {
    sealDir(dir);
  }

  /** Seal and atomically write `plain` to `name`. */
  write(name: string, plain: Uint8Array): void {
    atomicWrite(this.dir, name, sealBytes(this.key, name, plain));
  }

  /** Unseal `name`; null when the file does not exist. Throws ENCLAVE_SEAL_CORRUPT for a bad file. */
  read(name: string): Uint8Array | null {
    let b: Buffer;
    try {
      // Only a regular file: reading a FIFO the host planted would block the whole process.
      const st = lstatSync(join(this.dir, name), { throwIfNoEntry: false });
      if (st === undefined) return null;
      if (!st.isFile()) throw new Error('not a regular file (a directory, FIFO, device or symlink)');
      b = readFileSync(join(this.dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw corrupt(name, `unreadable (${(e as Error).message})`, e);
    }
    return unsealBytes(this.key, name, b);
  }
}
