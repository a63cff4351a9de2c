import type { PresenceClient } from '@presence/core';
import { describe, expect, it } from 'vitest';
import { FakeWorld } from '../test/fake-world.js';
import { roster } from './index.js';

describe('roster() close()', () => {
  it('a second close() (the client closing after the user did) waits for the watch to end too', async () => {
    const world = new FakeWorld();
    let watchEnded = false;
    // A watch whose connection takes a moment to tear down, as a real socket does.
    const client = Object.assign(Object.create(world) as FakeWorld, {
      async *watch(options: Parameters<FakeWorld['watch']>[0]) {
        try {
          yield* world.watch(options);
        } finally {
          await new Promise((resolve) => setTimeout(resolve, 30));
          watchEnded = true;
        }
      },
    });
    const live = roster({ channels: ['a'], upstreamCacheMs: 0 });
    live.attach!(client as unknown as PresenceClient);
    for (let i = 0; i < 200 && world.watching === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(world.watching).toBe(1);
    void live.close();
    await live.close();
    expect(watchEnded).toBe(true);
    await expect(live.ready).rejects.toThrow();
  });
});
