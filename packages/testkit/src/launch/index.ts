// @smtp-slots/testkit/launch: real service processes for the e2e tests, the demo and the benches.
export { NodeService, resolvePackageCli, type NodeServiceOptions, type ExitStatus } from './node-service.js';
export { AgentProcess, type AgentProcessOptions, type AgentLaunchConfig, type SpoolState } from './agent-process.js';
export { startAgentFleet, stopAgentFleet, type FleetOptions } from './agent-fleet.js';
