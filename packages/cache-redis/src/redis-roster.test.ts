import { PresenceConfigurationError } from '@presence/core';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisRoster } from './index.js';

// Options are checked at construction, before any connection is used: a never-connected client will do.
const redis = new Redis({ lazyConnect: true });
afterAll(() => redis.disconnect());

describe('redisRoster options', () => {
  it('refuses bad options with a typed error that names the option and says what to give', () => {
    const refuses = (options: unknown, field: RegExp) => {
      let error: unknown;
      try {
        redisRoster(options as never);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(options, (k, v) => (k === 'redis' ? '<redis>' : v))).toBeInstanceOf(PresenceConfigurationError);
      expect((error as Error).message).toMatch(field);
    };
    refuses(undefined, /redisRoster/);
    refuses({ channels: ['lobby'] }, /redis/);
    refuses({ redis: {}, channels: ['lobby'] }, /redis/);
    refuses({ redis }, /channels/);
    refuses({ redis, channels: 'lobby' }, /channels/);
    refuses({ redis, channels: ['a,b'] }, /channels\[0\]/);
    refuses({ redis, channels: ['lobby'], leaseMs: 0 }, /leaseMs/);
    refuses({ redis, channels: ['lobby'], leaseMs: Number.NaN }, /leaseMs/);
    // Beyond what a timer can wait (about 24.8 days), Node fires it at once: a renewal every millisecond.
    refuses({ redis, channels: ['lobby'], leaseMs: 10_000_000_000 }, /leaseMs/);
    refuses({ redis, channels: ['lobby'], maxStalenessMs: -5 }, /maxStalenessMs/);
    refuses({ redis, channels: ['lobby'], commandTimeoutMs: '250' }, /commandTimeoutMs/);
    refuses({ redis, channels: ['lobby'], prefix: 7 }, /prefix/);
    refuses({ redis, channelGroups: ['g'], groupRefreshMs: Number.POSITIVE_INFINITY }, /groupRefreshMs/);
    refuses({ redis, channels: ['lobby'], subscriber: 'yes' }, /subscriber/);
  });

  it('accepts good options', () => {
    expect(redisRoster({ redis, channels: ['lobby'], channelGroups: ['g'], leaseMs: 2000, maxStalenessMs: 4000, commandTimeoutMs: 100, prefix: 'p:' }).name).toBe('redisRoster');
  });
});
