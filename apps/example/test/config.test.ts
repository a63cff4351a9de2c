import { describe, expect, test } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from '../src/config.js';

describe('configuration', () => {
  test('embedded defaults: emulator, memory cache, port 3000, one replica, simulated users', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', replicas: 1, upstream: { kind: 'emulator' }, redisUrl: undefined, simulate: true, cacheTtlMs: 3000, redisCommandTimeoutMs: 50, timeoutMs: 10_000 });
  });

  test('ROOMS: the rooms the page shows, in order, without repeats', () => {
    expect(loadConfig({}).rooms).toEqual(['lobby', 'engineering', 'random']);
    expect(loadConfig({ ROOMS: 'support, sales ,support' }).rooms).toEqual(['support', 'sales']);
  });

  test('real PubNub and Redis settings', () => {
    const config = loadConfig({
      PUBNUB_SUBSCRIBE_KEY: 'sub-c-1',
      PUBNUB_PUBLISH_KEY: 'pub-c-1',
      PUBNUB_SECRET_KEY: 'sec-c-SENTINEL',
      PUBNUB_USER_ID: 'svc',
      REDIS_URL: 'redis://127.0.0.1:6380',
      REPLICAS: '2',
    });
    expect(config.upstream).toEqual({ kind: 'pubnub', origin: 'https://ps.pndsn.com', subscribeKey: 'sub-c-1', publishKey: 'pub-c-1', secretKey: 'sec-c-SENTINEL', userId: 'svc' });
    expect(config.simulate).toBe(false);
    expect(describeConfig(config)).not.toContain('SENTINEL');
    expect(describeConfig(config)).toContain('Redis');
  });

  test.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['REPLICAS', { REPLICAS: '0' }],
    ['REPLICAS', { REPLICAS: '2', PORT: '65535' }],
    ['REDIS_URL', { REDIS_URL: 'localhost:6379' }],
    ['REDIS_URL', { REDIS_URL: 'http://localhost:6379' }],
    ['PUBNUB_ORIGIN', { PUBNUB_SUBSCRIBE_KEY: 's', PUBNUB_ORIGIN: 'ps.pndsn.com' }],
    ['PUBNUB_SUBSCRIBE_KEY', { PUBNUB_SECRET_KEY: 'x', PUBNUB_PUBLISH_KEY: 'p' }],
    ['PUBNUB_SUBSCRIBE_KEY', { PUBNUB_SUBSCRIBE_KEY: ' ' }],
    ['PUBNUB_PUBLISH_KEY', { PUBNUB_SUBSCRIBE_KEY: 's', PUBNUB_SECRET_KEY: 'x' }],
    ['SIMULATE', { SIMULATE: 'maybe' }],
    ['CACHE_TTL_MS', { CACHE_TTL_MS: '-5' }],
    ['REDIS_COMMAND_TIMEOUT_MS', { REDIS_COMMAND_TIMEOUT_MS: '0' }],
    ['PRESENCE_TIMEOUT_MS', { PRESENCE_TIMEOUT_MS: '1.5' }],
    ['ROOMS', { ROOMS: 'lobby,tea room' }],
    ['ROOMS', { ROOMS: 'lobby,a*b' }],
    ['ROOMS', { ROOMS: `lobby,${'r'.repeat(93)}` }],
    ['ROOMS', { ROOMS: 'lobby,,random' }],
    ['ROOMS', { ROOMS: Array.from({ length: 21 }, (_, i) => `room${i}`).join(',') }],
  ])('a bad %s stops start-up with a message naming it', (variable, env) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: `));
    expect((error as Error).message).not.toMatch(/sec-c|undefined/);
  });
});
