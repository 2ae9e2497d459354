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
export { type SlotBackend } from './slot-backend.js';
export { QuorumSlots, type QuorumSlotsOptions } from './quorum-slots.js';
export { QUORUM_CLIENT_OPTIONS, createQuorumClients, waitForMajority } from './quorum-clients.js';
export { LeaderLease, type LeaderLeaseEvents, type LeaderLeaseOptions } from './leader-lease.js';
export { pingWithin } from './ping-within.js';
