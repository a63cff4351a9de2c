/**
 * Where cached here-now results live. Implementations: the in-process memory store here, the
 * Redis store in `@presence/cache-redis`, or a user's own; each runs the conformance suite from
 * `@presence/core/testing` on itself. Methods may answer synchronously or with a promise.
 */
export interface CacheStore<V = unknown> {
  readonly name: string;
  get(key: string): V | undefined | Promise<V | undefined>;
  /** Stores `value` for `ttlMs`, findable through each of `tags` for invalidation. */
  set(key: string, value: V, options: CacheSetOptions): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  /** Drops every entry carrying any of `tags`; returns how many it dropped. */
  invalidate(tags: readonly string[]): number | Promise<number>;
  clear(): void | Promise<void>;
}

export interface CacheSetOptions {
  readonly ttlMs: number;
  readonly tags: readonly string[];
}
