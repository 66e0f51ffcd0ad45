/**
 * The file interface hardware platforms use (configfs-tsm, Gramine's /dev/attestation): the only I/O between the
 * enclave and its attestation device. Hardware uses node:fs; tests pass a fake device that answers through this
 * same interface, so the code above it is the code hardware runs.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';

/** Synchronous file operations on absolute paths. Errors are node's (callers map them to EnclaveError). */
export interface PlatformFiles {
  /** Create directory `path` (not recursive: configfs creates the attribute files itself). */
  mkdir(path: string): void;
  /** Remove directory `path`. */
  rmdir(path: string): void;
  exists(path: string): boolean;
  /** Whole-file read. Reading a device file may make the device generate it (configfs-tsm outblob, Gramine quote). */
  read(path: string): Uint8Array;
  /** Whole-file write in one write(2) (configfs and Gramine pseudo-files take one write per value). */
  write(path: string, data: Uint8Array): void;
}

/** The real files (node:fs). */
export const nodePlatformFiles: PlatformFiles = {
  mkdir: (p) => mkdirSync(p),
  rmdir: (p) => rmdirSync(p),
  exists: (p) => existsSync(p),
  read: (p) => new Uint8Array(readFileSync(p)),
  write: (p, d) => writeFileSync(p, d),
};
