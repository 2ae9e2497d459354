// @smtp-slots/agent: local SMTP relay and library, durable spool, slot-gated upstream sender.
export { createAgent, AGENT_VERSION, type Agent, type CreateAgentOptions, type SendReceipt } from './agent.js';
export type { DeliveryReport } from './delivery-tracker.js';
export type { MailInput } from './mail-input.js';
export {
  agentConfigSchema, parseAgentConfig, isLoopback,
  type AgentConfig, type AgentConfigInput, type MailboxSettings, type UpstreamSettings, type UpstreamAuth, type RetryPolicy,
} from './config.js';
export { loadAgentConfig, resolveAgentConfig, ENV_PREFIX } from './config-loader.js';
export { AgentError, ConfigError, SpoolLockedError, SpoolCorruptError, SpoolMessageNotFoundError, AgentStoppedError, InvalidMessageError } from './errors.js';
export {
  ClientCredentialsTokenProvider, StaticTokenProvider, TokenRequestError, entraTokenUrl,
  type AccessTokenProvider, type ClientCredentialsOptions,
} from './sender/token-provider.js';
export { classifyFailure, enhancedCode, type Disposition, type Classification } from './sender/reply-classifier.js';
export { UpstreamError, type UpstreamStage, type UpstreamFault } from './sender/upstream-error.js';
export { DeadLetterStore, type DeadLetter } from './spool/dead-letters.js';
export type { Attempt, AttemptKind, SpoolHeader, SpoolState } from './spool/spool-file.js';
