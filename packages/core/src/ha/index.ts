/**
 * `@smtp-slots/core/ha`, experimental: high availability without Sentinel or Cluster. The redlock
 * quorum backend (`QuorumSlots`, a `SlotBackend` over independent masters) and `LeaderLease`.
 * No agent or coordinator path uses them, so they stay out of the main entry point (and redlock
 * out of every service's import graph); see docs/ha.md for the decision and its limits.
 */
export { QuorumSlots, type QuorumSlotsOptions } from './quorum-slots.js';
export { QUORUM_CLIENT_OPTIONS, createQuorumClients, waitForMajority } from './quorum-clients.js';
export { LeaderLease, type LeaderLeaseEvents, type LeaderLeaseOptions } from './leader-lease.js';
