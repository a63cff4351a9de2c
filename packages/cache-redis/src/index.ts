export { redisCache, type RedisCacheOptions, type RedisCachePlugin } from './redis-cache.js';
export { createRedisStore, type FillTicket, type RedisKeys, type RedisStore, type RedisStoreOptions } from './redis-store.js';
export { RedisUnavailableError, type CircuitBreakerOptions, type RedisClient, type RedisFailureReason } from './command-guard.js';
export { redisRoster, type RedisRosterOptions, type RedisRosterPlugin } from './redis-roster.js';
