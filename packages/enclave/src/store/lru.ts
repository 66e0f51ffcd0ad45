/**
 * A byte-bounded least-recently-used cache (Map insertion order = recency). The enclave keeps this, not the state,
 * in memory: at most `maxBytes` of cached values (by byteLength) plus the Map's own overhead per entry.
 */
export class ByteLru {
  private readonly map = new Map<string, Uint8Array>();
  private bytes = 0;

  /** `maxBytes` > 0: total byteLength of values kept. */
  constructor(readonly maxBytes: number) {}

  get(k: string): Uint8Array | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }

  set(k: string, v: Uint8Array): void {
    const old = this.map.get(k);
    if (old !== undefined) {
      this.bytes -= old.byteLength;
      this.map.delete(k);
    }
    if (v.byteLength > this.maxBytes) return;
    this.map.set(k, v);
    this.bytes += v.byteLength;
    if (this.bytes <= this.maxBytes) return;
    // Evict the least recently used down to 3/4 of the bound in one pass. (One entry per insert would start a fresh
    // iterator each time, and a Map iterator walks over the deleted entries at the front: quadratic.)
    const target = (this.maxBytes * 3) / 4;
    for (const [ek, ev] of this.map) {
      if (this.bytes <= target) break;
      this.map.delete(ek);
      this.bytes -= ev.byteLength;
    }
  }

  delete(k: string): void {
    const old = this.map.get(k);
    if (old === undefined) return;
    this.bytes -= old.byteLength;
    this.map.delete(k);
  }

  /** Bytes currently held (sum of value byteLengths). */
  get size(): number {
    return this.bytes;
  }
}
