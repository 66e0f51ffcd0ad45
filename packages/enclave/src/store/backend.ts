/**
 * Where sealed store records live (docs/enclave.md#store-backend). The backend is untrusted storage: it only ever
 * sees sealed bytes under record keys (a node hash, a version id), and the host can read, drop, reorder or replay
 * anything in it; everything read back is authenticated by the layer above. Keeping this interface narrow is what
 * lets an oblivious (ORAM) or padded backend replace it without touching apps.
 */
export interface RecordBackend {
  /**
   * The sealed bytes stored under `key`, or undefined. A read the backend cannot make throws ENCLAVE_SEAL_CORRUPT
   * (the storage is damaged) or ENCLAVE_SEAL_IO (it cannot be read), never the database's own error: only those
   * codes tell the batch that the host's storage failed (batch.ts STORE_FAULTS), whatever a handler does with them.
   */
  get(key: Uint8Array): Uint8Array | undefined;
  /**
   * Store every record in `puts` (and delete every key in `dels`) in ONE atomic, durable transaction: after a crash
   * at any point either all of them are there or none. Throws ENCLAVE_SEAL_IO if it could not.
   * With `opts.durable` false the transaction is still atomic but may be lost by an OS crash or power loss until the
   * next durable write returns, which makes it (and every write before it) durable too; the bulk loader uses this
   * for its intermediate chunks, which no version record points at until the final, durable write.
   */
  write(puts: readonly (readonly [Uint8Array, Uint8Array])[], dels?: readonly Uint8Array[], opts?: WriteOptions): void;
  /** Every record whose key starts with `prefix`, in ascending key byte order; the same errors as get. */
  scan(prefix: Uint8Array): Iterable<[Uint8Array, Uint8Array]>;
  /** Release the database; further calls throw. */
  close(): void;
}

/** Options of RecordBackend.write. */
export interface WriteOptions {
  /** Default true: the write is on stable storage when write() returns. */
  durable?: boolean;
}
