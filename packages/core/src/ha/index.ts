// High availability: Sentinel/Cluster connections, the redlock quorum backend, leader leases.
export {
  createRedisClient,
  describeRedisConnection,
  redisConnectionSchema,
  redisDeployment,
  type CreateRedisClientOptions,
  type RedisClient,
  type RedisConnectionConfig,
  type RedisConnectionInput,
  type RedisDeployment,
  type RedisNodeAddress,
} from './connect.js';
