/**
 * Writes not yet applied to the trie, by key (lowercase hex of the key bytes, which sorts like the bytes): the
 * encoded value, or null for a deletion. A request writes into its own overlay, merged into the batch's overlay
 * when the request succeeds and dropped when it is refused: no copy of the state is ever made.
 */
export class Overlay {
  private readonly map = new Map<string, Uint8Array | null>();

  /** The write for `keyHex`: bytes, null (deleted), or undefined (not written here). */
  get(keyHex: string): Uint8Array | null | undefined {
    return this.map.get(keyHex);
  }

  put(keyHex: string, value: Uint8Array | null): void {
    this.map.set(keyHex, value);
  }

  /** Copy every write of this overlay into `into` (later writes win). */
  mergeInto(into: Overlay): void {
    for (const [k, v] of this.map) into.put(k, v);
  }

  /** Number of keys written. */
  get size(): number {
    return this.map.size;
  }

  /** The writes whose key starts with `prefixHex`, in ascending key order. */
  sortedWithin(prefixHex: string): [string, Uint8Array | null][] {
    const out: [string, Uint8Array | null][] = [];
    for (const e of this.map) if (e[0].startsWith(prefixHex)) out.push(e);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}
