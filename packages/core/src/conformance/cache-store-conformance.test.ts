import { describe, it } from 'vitest';
import { createMemoryStore } from '../cache/memory-store.js';
import { cacheStoreConformanceCases } from './cache-store-conformance.js';

describe('CacheStore conformance: memory store', () => {
  for (const testCase of cacheStoreConformanceCases(() => createMemoryStore<string>())) it(testCase.name, testCase.run);
});

describe('CacheStore conformance: memory store on a fake clock', () => {
  let now = 0;
  const cases = cacheStoreConformanceCases(() => createMemoryStore<string>({ now: () => now }), {
    sleep: async (ms) => {
      now += ms;
    },
  });
  for (const testCase of cases) it(testCase.name, testCase.run);
});
