// The latest few results per image, for work a correction click would otherwise repeat.

/**
 * Keeps the latest `limit` values per image (keyed by the image's values array, so a closed
 * image's entries go with it), each under a string key; the oldest is dropped first.
 */
export class PerImageCache<T> {
  private readonly entries = new WeakMap<object, { key: string; value: T }[]>();

  constructor(private readonly limit: number) {}

  /** The value of `key` for `image`, computed (and kept) when it is not kept already. */
  get(image: object, key: string, compute: () => T): T {
    const entries = this.entries.get(image) ?? [];
    let entry = entries.find((e) => e.key === key);
    if (!entry) {
      entry = { key, value: compute() };
      entries.unshift(entry);
      entries.length = Math.min(entries.length, this.limit);
      this.entries.set(image, entries);
    }
    return entry.value;
  }
}
