import { PresenceConfigurationError } from '../errors/configuration-error.js';
import type { CacheSetOptions, CacheStore } from './cache-store.js';

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
  readonly tags: readonly string[];
  /** The write count when the entry was last moved to the recent end. */
  stamp: number;
}

export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used goes first. Default 10 000. */
  maxEntries?: number;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

export interface MemoryStore<V = unknown> extends CacheStore<V> {
  readonly size: number;
}

/** A bounded LRU with per-entry TTL and a tag index for invalidation; synchronous. */
export function createMemoryStore<V = unknown>(options: MemoryStoreOptions = {}): MemoryStore<V> {
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new PresenceConfigurationError('maxEntries', `maxEntries must be a whole number of at least 1; got ${String(maxEntries)}.`);
  }
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on read makes its first key the least recently used.
  const entries = new Map<string, Entry<V>>();
  const byTag = new Map<string, Set<string>>();
  // Approximate LRU: a read moves an entry to the recent end only once a quarter of the capacity
  // has been written since its last move, so a hot key's hits cost a lookup, not a re-insert.
  let writes = 0;
  const refreshAfter = Math.max(1, Math.floor(maxEntries / 4));

  const drop = (key: string): boolean => {
    const entry = entries.get(key);
    if (!entry) return false;
    entries.delete(key);
    for (const tag of entry.tags) {
      const keys = byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) byTag.delete(tag);
    }
    return true;
  };

  return {
    name: 'memory',
    get size() {
      return entries.size;
    },
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        drop(key);
        return undefined;
      }
      if (writes - entry.stamp >= refreshAfter) {
        entries.delete(key);
        entries.set(key, entry);
        entry.stamp = ++writes;
      }
      return entry.value;
    },
    set(key, value, { ttlMs, tags }: CacheSetOptions) {
      drop(key);
      if (!(ttlMs > 0)) return;
      entries.set(key, { value, expiresAt: now() + ttlMs, tags, stamp: ++writes });
      for (const tag of tags) {
        let keys = byTag.get(tag);
        if (!keys) byTag.set(tag, (keys = new Set()));
        keys.add(key);
      }
      while (entries.size > maxEntries) drop(entries.keys().next().value as string);
    },
    delete(key) {
      drop(key);
    },
    invalidate(tags) {
      let dropped = 0;
      for (const tag of tags) {
        for (const key of [...(byTag.get(tag) ?? [])]) if (drop(key)) dropped++;
      }
      return dropped;
    },
    clear() {
      entries.clear();
      byTag.clear();
    },
  };
}
