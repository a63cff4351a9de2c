// Test helpers: a real redis-server (and a 3-node Cluster) on free ports, for this package's tests
// and for users who test their own code against a real Redis rather than a mock.
export { connect, freePort, startRedisCluster, startRedisServer, type RedisCluster, type RedisServer } from './testing/redis-server.js';
