// High availability without Sentinel or Cluster: the redlock quorum backend and leader leases.
export { QuorumSlots, type QuorumSlotsOptions } from './quorum-slots.js';
export { QUORUM_CLIENT_OPTIONS, createQuorumClients, waitForMajority } from './quorum-clients.js';
export { LeaderLease, type LeaderLeaseEvents, type LeaderLeaseOptions } from './leader-lease.js';
