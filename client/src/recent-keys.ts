/**
 * Remembers the last `capacity` keys it saw, to drop an event delivered twice (a replay that
 * overlaps what already arrived live). Old keys fall out first, so memory stays bounded.
 */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly capacity = 2000) {}

  /** True if `key` was seen before; otherwise remembers it and returns false. */
  seen(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      // A Set iterates in insertion order: the first key is the oldest.
      const oldest = this.keys.values().next();
      if (!oldest.done) this.keys.delete(oldest.value);
    }
    return false;
  }

  clear(): void {
    this.keys.clear();
  }
}
