/**
 * A byte-bounded least-recently-used cache (Map insertion order = recency). The enclave keeps this, not the state,
 * in memory: at most `maxBytes`, counting each entry as its value's byteLength plus `entryOverhead` (what the key
 * string, the Map entry and the Uint8Array objects cost besides the bytes themselves, so that the bound is memory
 * and not just payload).
 */
export class ByteLru<V = Uint8Array> {
  private readonly map = new Map<string, V>();
  private bytes = 0;

  /**
   * `maxBytes` > 0: total cost of the entries kept; `entryOverhead` >= 0 bytes added per entry (default 0);
   * `sizeOf` the bytes of one value (default its byteLength, for Uint8Array values).
   */
  constructor(readonly maxBytes: number, readonly entryOverhead = 0, private readonly sizeOf: (v: V) => number = (v) => (v as Uint8Array).byteLength) {}

  private cost(v: V): number {
    return this.sizeOf(v) + this.entryOverhead;
  }

  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }

  set(k: string, v: V): void {
    const old = this.map.get(k);
    if (old !== undefined) {
      this.bytes -= this.cost(old);
      this.map.delete(k);
    }
    if (this.cost(v) > this.maxBytes) return;
    this.map.set(k, v);
    this.bytes += this.cost(v);
    if (this.bytes <= this.maxBytes) return;
    // Evict the least recently used down to 3/4 of the bound in one pass. (One entry per insert would start a fresh
    // iterator each time, and a Map iterator walks over the deleted entries at the front: quadratic.)
    const target = (this.maxBytes * 3) / 4;
    for (const [ek, ev] of this.map) {
      if (this.bytes <= target) break;
      this.map.delete(ek);
      this.bytes -= this.cost(ev);
    }
  }

  delete(k: string): void {
    const old = this.map.get(k);
    if (old === undefined) return;
    this.bytes -= this.cost(old);
    this.map.delete(k);
  }

  /** The entries held, least recently used first (does not change the order). */
  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }

  /** Cost of the entries held (sum of value byteLengths plus entryOverhead each). */
  get size(): number {
    return this.bytes;
  }
}
