import { describe, expect, it } from 'vitest';
import { ChangeFeed, MAX_PENDING_CHANGES, RosterLagError } from './change-feed.js';

describe('ChangeFeed', () => {
  it('gives every reader every item in order, from when it subscribed', async () => {
    const feed = new ChangeFeed<number>();
    feed.publish(0);
    const a = feed.subscribe();
    const b = feed.subscribe();
    for (let i = 1; i <= 3; i++) feed.publish(i);
    feed.close();
    const read = async (it: AsyncIterableIterator<number>) => {
      const out: number[] = [];
      for await (const n of it) out.push(n);
      return out;
    };
    expect(await read(a)).toEqual([1, 2, 3]);
    expect(await read(b)).toEqual([1, 2, 3]);
  });

  it('break ends a reader and leaves nothing subscribed', async () => {
    const feed = new ChangeFeed<number>();
    const reader = feed.subscribe();
    setTimeout(() => feed.publish(1), 5);
    for await (const n of reader) {
      expect(n).toBe(1);
      break;
    }
    expect(feed.size).toBe(0);
    feed.publish(2); // nobody left to hold it
  });

  it('an abort signal ends a reader at once, even with diffs still queued for it', async () => {
    const feed = new ChangeFeed<number>();
    const controller = new AbortController();
    const reader = feed.subscribe(controller.signal);
    for (let i = 0; i < 3; i++) feed.publish(i);
    controller.abort();
    await expect(reader.next()).resolves.toEqual({ done: true, value: undefined });
    expect(feed.size).toBe(0);
  });

  it('an abort signal ends a waiting reader at once; an aborted one never starts', async () => {
    const feed = new ChangeFeed<number>();
    const controller = new AbortController();
    const reader = feed.subscribe(controller.signal);
    const next = reader.next();
    controller.abort();
    await expect(next).resolves.toEqual({ done: true, value: undefined });
    expect(feed.size).toBe(0);
    expect(await feed.subscribe(controller.signal).next()).toEqual({ done: true, value: undefined });
    expect(feed.size).toBe(0);
  });

  it('close() ends waiting readers, and later subscribers end at once', async () => {
    const feed = new ChangeFeed<number>();
    const pending = feed.subscribe().next();
    feed.close();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    expect(await feed.subscribe().next()).toEqual({ done: true, value: undefined });
  });

  it('a reader that falls too far behind is ended with RosterLagError instead of holding memory', async () => {
    const feed = new ChangeFeed<number>();
    const slow = feed.subscribe();
    for (let i = 0; i <= MAX_PENDING_CHANGES; i++) feed.publish(i);
    await expect(slow.next()).rejects.toBeInstanceOf(RosterLagError);
    expect(feed.size).toBe(0);
    expect(await slow.next()).toEqual({ done: true, value: undefined });
  });
});
