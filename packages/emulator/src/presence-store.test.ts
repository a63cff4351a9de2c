import { describe, expect, it } from 'vitest';
import { PresenceStore } from './presence-store.js';

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('PresenceStore', () => {
  it('times out a user not refreshed within its heartbeat, and deletes its state', () => {
    const clock = fakeClock();
    const store = new PresenceStore(clock.now, 300);
    store.heartbeat('k', 'alice', ['c'], 10, new Map([['c', { mood: 'x' }]]));
    store.heartbeat('k', 'bob', ['c'], 60);
    clock.advance(10_000);
    // Expiry is strictly after expiresAt.
    expect(store.sweep()).toBe(0);
    clock.advance(1);
    expect(store.sweep()).toBe(1);
    expect(store.channel('k', 'c')?.occupancy).toBe(1);
    expect([...(store.channel('k', 'c')?.members.keys() ?? [])]).toEqual(['bob']);
    expect(store.getState('k', 'alice', 'c')).toBeUndefined();
    expect(store.whereNow('k', 'alice')).toEqual([]);
    expect(store.timeouts).toBe(1);
  });

  it('a refresh pushes the expiry out; the channel disappears when its last member times out', () => {
    const clock = fakeClock();
    const store = new PresenceStore(clock.now, 300);
    store.heartbeat('k', 'alice', ['c'], 10);
    clock.advance(8_000);
    store.heartbeat('k', 'alice', ['c'], 10);
    clock.advance(8_000);
    expect(store.sweep()).toBe(0);
    clock.advance(3_000);
    expect(store.sweep()).toBe(1);
    expect(store.channel('k', 'c')).toBeUndefined();
    expect(store.counts()).toEqual({ subscribeKeys: 1, channels: 0, occupancy: 0 });
  });

  it('leave removes presence and state; state set before joining survives the join', () => {
    const clock = fakeClock();
    const store = new PresenceStore(clock.now, 300);
    store.heartbeat('k', 'bob', ['c'], 300);
    store.setState('k', 'alice', ['c'], { a: 1 });
    expect(store.channel('k', 'c')?.occupancy).toBe(1);
    store.heartbeat('k', 'alice', ['c'], 300);
    expect(store.getState('k', 'alice', 'c')).toEqual({ a: 1 });
    // Join order, not state order.
    expect([...(store.channel('k', 'c')?.members.keys() ?? [])]).toEqual(['bob', 'alice']);
    store.leave('k', 'alice', ['c']);
    expect(store.getState('k', 'alice', 'c')).toBeUndefined();
    expect(store.channel('k', 'c')?.occupancy).toBe(1);
  });

  it('drops state-only records after the default timeout without counting a timeout', () => {
    const clock = fakeClock();
    const store = new PresenceStore(clock.now, 5);
    store.setState('k', 'alice', ['c'], { a: 1 });
    clock.advance(5_001);
    expect(store.sweep()).toBe(0);
    expect(store.getState('k', 'alice', 'c')).toBeUndefined();
  });

  it('keeps subscribe keys apart', () => {
    const store = new PresenceStore(() => 0, 300);
    store.heartbeat('k1', 'alice', ['c'], 300);
    store.addChannelsToGroup('k1', 'g', ['c']);
    expect(store.channel('k2', 'c')).toBeUndefined();
    expect(store.whereNow('k2', 'alice')).toEqual([]);
    expect(store.listGroups('k2')).toEqual([]);
    expect(store.resolve('k2', [], ['g'])).toEqual([]);
    expect(store.resolve('k1', ['x', 'c'], ['g'])).toEqual(['x', 'c']);
  });
});
