import './provided-context.js';
export { getFreePort } from './free-port.js';
export { waitFor, sleep, type WaitForOptions } from './wait-for.js';
export { CountingServer } from './counting-server.js';
export { RedisProcess, ping, assertRedisServerInstalled, type RedisProcessOptions } from './redis-process.js';
export { RedisCluster, type RedisClusterOptions, type NodeAddress } from './redis-cluster.js';
export { RedisSentinelSet, type RedisSentinelSetOptions } from './redis-sentinel.js';
export { redisCli, redisCliSession, parseInfo } from './redis-cli.js';
export { guardPort } from './port-guard.js';
