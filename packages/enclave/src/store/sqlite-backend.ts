import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { EnclaveError } from '../errors.ts';
import type { RecordBackend, WriteOptions } from './backend.ts';
import { nativeAddon } from './native.ts';

/**
 * RecordBackend on SQLite (better-sqlite3, docs/enclave.md#store-backend): one table
 * `records(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID`, write-ahead log (optionally in exclusive locking
 * mode: no -shm file, no other connection while open), synchronous=FULL so that a write
 * is on disk before the host can commit the root it produced. Each write() is one SQLite transaction; a
 * non-durable one runs with synchronous=NORMAL (in WAL mode: atomic, not fsynced; the next FULL commit fsyncs the
 * log, and with it every earlier frame). Records are inserted in key order: node keys are hashes, and sorted
 * inserts walk the B-tree's pages in order instead of at random.
 */
export class SqliteBackend implements RecordBackend {
  private readonly db: Database.Database;
  private readonly sel: Database.Statement<[Uint8Array], Buffer>;
  private readonly put: Database.Statement<[Uint8Array, Uint8Array]>;
  private readonly del: Database.Statement<[Uint8Array]>;
  private readonly range: Database.Statement<[Uint8Array, Uint8Array]>;
  private readonly from: Database.Statement<[Uint8Array]>;
  private readonly tx: (puts: readonly (readonly [Uint8Array, Uint8Array])[], dels: readonly Uint8Array[]) => void;
  private durable = true;

  /**
   * Open (creating if absent) the database file `file`. `exclusive`: hold the database exclusively while open (no
   * -shm file; another connection gets ENCLAVE_SEAL_IO "database is locked"). Throws ENCLAVE_SEAL_IO if SQLite
   * cannot open it.
   */
  constructor(readonly file: string, opts: { exclusive?: boolean } = {}) {
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(file), { recursive: true });
      // better-sqlite3 accepts a loaded addon object as nativeBinding (lib/database.js); @types/better-sqlite3 only lists a path.
      db = new Database(file, { nativeBinding: nativeAddon().exports as unknown as string });
      // Exclusive locking (the runtime's databases): one enclave process owns its database, and the WAL index lives
      // in heap memory instead of a -shm file, so reads leave every file byte-identical (a refused batch changes no file).
      if (opts.exclusive) db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('CREATE TABLE IF NOT EXISTS records (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID');
    } catch (e) {
      // A connection that opened and then failed must be closed: in exclusive mode it holds the file's lock, and
      // every later open in this process (the runtime's retry) would meet "database is locked" (red-team round 3).
      try {
        db?.close();
      } catch {
        // already unusable; the error below is the one to report
      }
      if (e instanceof EnclaveError) throw e;
      throw sqliteFault(e, file, `The state database ${file} could not be opened`, 'Check the data directory\'s permissions and free space.');
    }
    this.db = db;
    this.sel = this.db.prepare<[Uint8Array], Buffer>('SELECT v FROM records WHERE k = ?').pluck();
    this.put = this.db.prepare('INSERT OR REPLACE INTO records (k, v) VALUES (?, ?)');
    this.del = this.db.prepare('DELETE FROM records WHERE k = ?');
    this.range = this.db.prepare('SELECT k, v FROM records WHERE k >= ? AND k < ? ORDER BY k').raw();
    this.from = this.db.prepare('SELECT k, v FROM records WHERE k >= ? ORDER BY k').raw();
    this.tx = this.db.transaction((puts, dels) => {
      for (const [k, v] of puts) this.put.run(k, v);
      for (const k of dels) this.del.run(k);
    });
  }

  /**
   * The sealed bytes under `key`, or undefined. Throws ENCLAVE_SEAL_CORRUPT if SQLite finds the file damaged and
   * ENCLAVE_SEAL_IO if it cannot read it (readFault): never SQLite's own error, which is no store fault to the
   * layers above, so a handler could catch it and turn the host's damage into an outcome.
   */
  get(key: Uint8Array): Uint8Array | undefined {
    let v: Buffer | undefined;
    try {
      v = this.sel.get(key);
    } catch (e) {
      throw this.readFault(e);
    }
    return v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  write(puts: readonly (readonly [Uint8Array, Uint8Array])[], dels: readonly Uint8Array[] = [], opts: WriteOptions = {}): void {
    try {
      const durable = opts.durable ?? true;
      if (durable !== this.durable) {
        this.db.pragma(`synchronous = ${durable ? 'FULL' : 'NORMAL'}`);
        this.durable = durable;
      }
      this.tx(puts.length > 1 ? [...puts].sort((a, b) => Buffer.compare(a[0], b[0])) : puts, dels);
    } catch (e) {
      throw sqliteFault(e, this.file, `Writing ${puts.length} records to ${this.file} failed`, 'Nothing was written; check free space and permissions.');
    }
  }

  /** Every record whose key starts with `prefix`, in key order. Same errors as get, raised while iterating. */
  *scan(prefix: Uint8Array): Iterable<[Uint8Array, Uint8Array]> {
    const end = prefixEnd(prefix);
    const rows = (end ? this.range.iterate(prefix, end) : this.from.iterate(prefix)) as IterableIterator<[Buffer, Buffer]>;
    for (;;) {
      let r: IteratorResult<[Buffer, Buffer]>;
      try {
        r = rows.next();
      } catch (e) {
        throw this.readFault(e);
      }
      if (r.done) return;
      yield [new Uint8Array(r.value[0]), new Uint8Array(r.value[1])];
    }
  }

  /**
   * A read that SQLite refused, as a store fault: ENCLAVE_SEAL_CORRUPT when the file is damaged (SQLITE_CORRUPT*,
   * SQLITE_NOTADB: pages altered or truncated behind SQLite's back), ENCLAVE_SEAL_IO for anything else.
   */
  private readFault(e: unknown): EnclaveError {
    return sqliteFault(e, this.file, `Reading the state database ${this.file} failed`, 'Check the data directory\'s disk and permissions.');
  }

  close(): void {
    this.db.close();
  }
}

/**
 * An error SQLite raised on `file`, as a store fault: ENCLAVE_SEAL_CORRUPT when the file is damaged (SQLITE_CORRUPT*,
 * SQLITE_NOTADB: pages altered, truncated, or a main file and a -wal that do not belong together), on a read, a write
 * or an open alike; ENCLAVE_SEAL_IO ("<what>: <SQLite's message>. <remedy>") for anything else (permissions, a full
 * disk, a lock held by another process).
 */
function sqliteFault(e: unknown, file: string, what: string, remedy: string): EnclaveError {
  const code = String((e as { code?: unknown }).code ?? '');
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new EnclaveError('ENCLAVE_SEAL_CORRUPT', `The state database ${file} is damaged (${(e as Error).message}). Restore this enclave's data directory from a backup, or start from an empty one and the chain's committed state.`, { cause: e, details: { sqlite: code } });
  }
  return new EnclaveError('ENCLAVE_SEAL_IO', `${what}: ${(e as Error).message}. ${remedy}`, { cause: e, ...(code ? { details: { sqlite: code } } : {}) });
}

/** Smallest byte string greater than every string starting with `p`, or null if there is none (p all 0xff). */
function prefixEnd(p: Uint8Array): Uint8Array | null {
  const e = Uint8Array.from(p);
  for (let i = e.length - 1; i >= 0; i--) {
    if (e[i]! < 0xff) {
      e[i]!++;
      return e.subarray(0, i + 1);
    }
  }
  return null;
}
