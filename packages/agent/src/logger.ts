import { createServiceLogger } from '@smtp-slots/service-kit';
import type { Logger } from 'pino';
import type { AgentConfig } from './config.js';

/** The agent's JSON logger (stdout), secrets redacted; every line names the agent. */
export function createAgentLogger(config: Pick<AgentConfig, 'logLevel' | 'agentId'>): Logger {
  return createServiceLogger({ service: 'smtp-slots-agent', level: config.logLevel, bindings: { agentId: config.agentId } });
}
