import type { CacheStore } from '../cache/cache-store.js';

export interface CacheStoreConformanceOptions {
  /** Waits in the TTL case; default a real timer. A store on a fake clock passes one that advances it. */
  sleep?: (ms: number) => Promise<void>;
  /** Shortest TTL the store honours exactly enough to expire within a short wait. Default 40 ms. */
  shortTtlMs?: number;
}

export interface CacheStoreConformanceCase {
  readonly name: string;
  run(): Promise<void>;
}

type MakeStore = () => CacheStore<string> | Promise<CacheStore<string>>;

class ConformanceMismatch extends Error {
  override readonly name = 'ConformanceMismatch';
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (!Object.is(actual, expected)) {
    const show = (v: unknown): string => (typeof v === 'string' && v.length > 80 ? `a string of ${v.length} characters` : JSON.stringify(v));
    throw new ConformanceMismatch(`${what}: expected ${show(expected)}, got ${show(actual)}.`);
  }
}

const LONG = 60_000;

/**
 * The CacheStore contract as runnable cases, framework-agnostic: each case throws an Error that
 * says what differed. Run every case on a fresh store from `makeStore`, e.g. with vitest:
 * `for (const c of cacheStoreConformanceCases(() => myStore())) it(c.name, c.run)`.
 */
export function cacheStoreConformanceCases(makeStore: MakeStore, options: CacheStoreConformanceOptions = {}): CacheStoreConformanceCase[] {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const shortTtlMs = options.shortTtlMs ?? 40;

  const cases: Array<[string, (store: CacheStore<string>) => Promise<void>]> = [
    [
      'get returns undefined for a key never set, and the value after set',
      async (store) => {
        expectEqual(await store.get('conformance:missing'), undefined, 'get of a key never set');
        await store.set('conformance:a', 'alpha', { ttlMs: LONG, tags: [] });
        expectEqual(await store.get('conformance:a'), 'alpha', 'get after set');
        expectEqual(await store.get('conformance:b'), undefined, 'get of another key after set');
      },
    ],
    [
      'set replaces the value of an existing key',
      async (store) => {
        await store.set('conformance:a', 'first', { ttlMs: LONG, tags: [] });
        await store.set('conformance:a', 'second', { ttlMs: LONG, tags: [] });
        expectEqual(await store.get('conformance:a'), 'second', 'get after the second set');
      },
    ],
    [
      'an entry expires after its ttlMs',
      async (store) => {
        await store.set('conformance:short', 'brief', { ttlMs: shortTtlMs, tags: ['t'] });
        await store.set('conformance:long', 'lasting', { ttlMs: LONG, tags: ['t'] });
        expectEqual(await store.get('conformance:short'), 'brief', 'get before the TTL ran out');
        await sleep(shortTtlMs * 3 + 50);
        expectEqual(await store.get('conformance:short'), undefined, 'get after the TTL ran out');
        expectEqual(await store.get('conformance:long'), 'lasting', 'get of a longer-lived entry');
      },
    ],
    [
      'delete removes one entry and ignores a missing key',
      async (store) => {
        await store.set('conformance:a', 'alpha', { ttlMs: LONG, tags: ['t'] });
        await store.set('conformance:b', 'beta', { ttlMs: LONG, tags: ['t'] });
        await store.delete('conformance:a');
        await store.delete('conformance:never');
        expectEqual(await store.get('conformance:a'), undefined, 'get after delete');
        expectEqual(await store.get('conformance:b'), 'beta', 'get of an entry not deleted');
      },
    ],
    [
      'invalidate drops only entries carrying a given tag and returns how many',
      async (store) => {
        await store.set('conformance:a', 'alpha', { ttlMs: LONG, tags: ['red'] });
        await store.set('conformance:b', 'beta', { ttlMs: LONG, tags: ['blue'] });
        await store.set('conformance:c', 'gamma', { ttlMs: LONG, tags: ['red', 'green'] });
        await store.set('conformance:d', 'delta', { ttlMs: LONG, tags: [] });
        expectEqual(await store.invalidate(['red']), 2, 'count returned by invalidate(["red"])');
        expectEqual(await store.get('conformance:a'), undefined, 'get of a red entry after invalidate');
        expectEqual(await store.get('conformance:c'), undefined, 'get of a red and green entry after invalidate');
        expectEqual(await store.get('conformance:b'), 'beta', 'get of a blue entry after invalidating red');
        expectEqual(await store.get('conformance:d'), 'delta', 'get of an untagged entry after invalidating red');
        expectEqual(await store.invalidate(['red']), 0, 'count of a second invalidate(["red"])');
        expectEqual(await store.invalidate(['no-such-tag']), 0, 'count of invalidating an unknown tag');
      },
    ],
    [
      'an entry matching several invalidated tags is counted once',
      async (store) => {
        await store.set('conformance:a', 'alpha', { ttlMs: LONG, tags: ['x', 'y'] });
        await store.set('conformance:b', 'beta', { ttlMs: LONG, tags: ['y'] });
        expectEqual(await store.invalidate(['x', 'y']), 2, 'count returned by invalidate(["x", "y"])');
        expectEqual(await store.get('conformance:a'), undefined, 'get after invalidate');
      },
    ],
    [
      'overwriting an entry replaces its tags',
      async (store) => {
        await store.set('conformance:a', 'old', { ttlMs: LONG, tags: ['before'] });
        await store.set('conformance:a', 'new', { ttlMs: LONG, tags: ['after'] });
        expectEqual(await store.invalidate(['before']), 0, 'count of invalidating the replaced tag');
        expectEqual(await store.get('conformance:a'), 'new', 'get after invalidating the replaced tag');
        expectEqual(await store.invalidate(['after']), 1, 'count of invalidating the current tag');
        expectEqual(await store.get('conformance:a'), undefined, 'get after invalidating the current tag');
      },
    ],
    [
      'an invalidated tag does not drop entries set under it afterwards',
      async (store) => {
        await store.set('conformance:a', 'first', { ttlMs: LONG, tags: ['t'] });
        expectEqual(await store.invalidate(['t']), 1, 'count of the first invalidate');
        await store.set('conformance:a', 'second', { ttlMs: LONG, tags: ['t'] });
        expectEqual(await store.get('conformance:a'), 'second', 'get of an entry set after an invalidation');
      },
    ],
    [
      'clear drops every entry',
      async (store) => {
        await store.set('conformance:a', 'alpha', { ttlMs: LONG, tags: ['t'] });
        await store.set('conformance:b', 'beta', { ttlMs: LONG, tags: [] });
        await store.clear();
        expectEqual(await store.get('conformance:a'), undefined, 'get of a tagged entry after clear');
        expectEqual(await store.get('conformance:b'), undefined, 'get of an untagged entry after clear');
        await store.set('conformance:a', 'again', { ttlMs: LONG, tags: ['t'] });
        expectEqual(await store.get('conformance:a'), 'again', 'get of an entry set after clear');
      },
    ],
    [
      'unicode keys, tags and values round-trip exactly',
      async (store) => {
        const value = 'héllo wörld — 世界 👋🏽 \u0000 "quoted" \\ back\nslash \uFFFD';
        const key = 'conformance:ключ|🔑|%2C';
        await store.set(key, value, { ttlMs: LONG, tags: ['標籤', 'ch:👋'] });
        expectEqual(await store.get(key), value, 'get of a unicode value under a unicode key');
        expectEqual(await store.get('conformance:ключ|🔑|,'), undefined, 'get of a key differing only in encoding');
        expectEqual(await store.invalidate(['ch:👋']), 1, 'count of invalidating a unicode tag');
        expectEqual(await store.get(key), undefined, 'get after invalidating a unicode tag');
      },
    ],
    [
      'a large value (1 MiB) round-trips exactly',
      async (store) => {
        const chunk = 'presence-large-value-0123456789abcdef-ünïcødé-';
        let value = '';
        while (value.length < 1024 * 1024) value += chunk;
        await store.set('conformance:large', value, { ttlMs: LONG, tags: ['big'] });
        expectEqual(await store.get('conformance:large'), value, 'get of a 1 MiB value');
      },
    ],
    [
      'the empty string is a value, not a miss',
      async (store) => {
        await store.set('conformance:empty', '', { ttlMs: LONG, tags: [] });
        expectEqual(await store.get('conformance:empty'), '', 'get of an empty-string value');
      },
    ],
  ];

  return cases.map(([name, body]) => ({
    name,
    async run() {
      const store = await makeStore();
      await body(store);
    },
  }));
}
