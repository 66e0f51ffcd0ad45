// TEST-ONLY attestation devices: a fake configfs-tsm report tree and a fake Gramine /dev/attestation, each a real
// directory answered synchronously through the PlatformFiles interface the hardware platforms use (so the
// platform code above that interface is exactly what runs on hardware). Like the kernel, the fake generates outblob
// lazily when it is read after inblob changed, and bumps `generation` on every inblob write.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PlatformFiles } from '../../../packages/enclave/src/platform/files.ts';
import { nodePlatformFiles } from '../../../packages/enclave/src/platform/files.ts';

/** What the fake TSM returns for 64 bytes of inblob. */
export type TsmResponder = (inblob: Uint8Array) => { outblob: Uint8Array; auxblob?: Uint8Array };

/** Options of {@link fakeConfigfsTsm}. */
export interface FakeTsmOptions {
  /** Directory standing in for /sys/kernel/config/tsm/report (created). */
  root: string;
  /** `provider` of every entry: tdx_guest or sev_guest. */
  provider: string;
  respond: TsmResponder;
  /** Called after outblob was generated and before the platform reads it: lets a test play another writer. */
  afterGenerate?: (entry: string) => void;
}

/** A fake configfs-tsm: files under `root`, mkdir populates provider/generation, reading outblob generates it. */
export function fakeConfigfsTsm(o: FakeTsmOptions): PlatformFiles & { requests: number } {
  mkdirSync(o.root, { recursive: true });
  const dirty = new Set<string>();
  const api = {
    requests: 0,
    mkdir(p: string) {
      mkdirSync(p);
      writeFileSync(join(p, 'provider'), `${o.provider}\n`);
      writeFileSync(join(p, 'generation'), '0\n');
    },
    rmdir: (p: string) => rmSync(p, { recursive: true, force: true }),
    exists: (p: string) => existsSync(p),
    write(p: string, d: Uint8Array) {
      const entry = dirname(p);
      if (basename(p) !== 'inblob') throw Object.assign(new Error(`EACCES: ${p} is read-only`), { code: 'EACCES' });
      if (d.length > 64) throw Object.assign(new Error('EINVAL: inblob takes at most 64 bytes'), { code: 'EINVAL' });
      writeFileSync(p, d);
      const g = Number(readFileSync(join(entry, 'generation'), 'utf8'));
      writeFileSync(join(entry, 'generation'), `${g + 1}\n`);
      dirty.add(entry);
    },
    read(p: string): Uint8Array {
      const entry = dirname(p);
      if (basename(p) === 'outblob' && dirty.has(entry)) {
        dirty.delete(entry);
        const r = o.respond(new Uint8Array(readFileSync(join(entry, 'inblob'))));
        api.requests++;
        writeFileSync(join(entry, 'outblob'), r.outblob);
        if (r.auxblob) writeFileSync(join(entry, 'auxblob'), r.auxblob);
        o.afterGenerate?.(entry);
      }
      return nodePlatformFiles.read(p);
    },
  };
  return api;
}

/** Options of {@link fakeGramine}. */
export interface FakeGramineOptions {
  /** Directory standing in for /dev/attestation (created). */
  dir: string;
  /** Quote for the current user_report_data. */
  quote: (userReportData: Uint8Array) => Uint8Array;
  /** The 16-byte MRENCLAVE seal key. */
  sealKey: Uint8Array;
  /** attestation_type (default dcap). */
  type?: string;
}

/** A fake Gramine /dev/attestation: user_report_data (write), quote (read, generated), keys/_sgx_mrenclave. */
export function fakeGramine(o: FakeGramineOptions): PlatformFiles {
  mkdirSync(join(o.dir, 'keys'), { recursive: true });
  writeFileSync(join(o.dir, 'attestation_type'), o.type ?? 'dcap');
  writeFileSync(join(o.dir, 'keys/_sgx_mrenclave'), o.sealKey);
  return {
    ...nodePlatformFiles,
    write(p, d) {
      if (basename(p) !== 'user_report_data' || d.length !== 64) throw Object.assign(new Error(`EINVAL: ${p}`), { code: 'EINVAL' });
      writeFileSync(p, d);
    },
    read(p) {
      if (basename(p) === 'quote') return o.quote(new Uint8Array(readFileSync(join(o.dir, 'user_report_data'))));
      return nodePlatformFiles.read(p);
    },
  };
}
