export type {
  HolderInfo,
  MailboxConfig,
  MailboxSnapshot,
  LeaseView,
  WaiterView,
  LeaseLostReason,
  SlotEvent,
  SlotEventType,
} from './types.js';
export { DEFAULT_MAILBOX_CONFIG } from './types.js';
export {
  ErrorCode,
  SlotsError,
  AcquireTimeoutError,
  AcquireAbortedError,
  MailboxPausedError,
  LeaseLostError,
  RedisUnavailableError,
  LimitExceededError,
  InvalidArgumentError,
} from './errors.js';
export { mailboxKeys, stateKeys, GLOBAL_KEYS, EVENTS_CHANNEL, clientChannel, mailboxFromKey, type MailboxKeys } from './redis/keys.js';
export { SlotClient, type SlotClientOptions, type AcquireOptions, type Lease, type SlotClientEvents } from './slots/slot-client.js';
export { SLOT_CONNECTION_OPTIONS } from './slots/run-id-claim.js';
export { acquireJoint, JointLease } from './slots/joint-lease.js';
export type { MailboxFigures } from './admin/bulk-figures.js';
export { MailboxAdmin, type ListMailboxesOptions, type ListMailboxesResult, type MailboxAdminOptions } from './admin/mailbox-admin.js';
export { RateLimiter, type RateDecision } from './limits/rate-limiter.js';
export { RecipientLedger, type RecipientDecision, type RecipientReservation } from './limits/recipient-ledger.js';
export { MessageBudget, type MessageDecision } from './limits/message-budget.js';
export { LimitFeedback, type LimitFeedbackOptions } from './limits/limit-feedback.js';
export { incrementCounter } from './admin/counters.js';
export { publishEvent, parseEvent } from './events.js';
export { settlesWithin, closeRedisWithin } from './redis/shutdown-deadline.js';
export { AgentRegistry, type AgentRecord, type AgentStatus } from './admin/agent-registry.js';
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
} from './redis/connect.js';
export { pingWithin } from './redis/ping-within.js';
export { type SlotBackend } from './slots/slot-backend.js';
export { historyKey, agentKeys, type AgentKeys } from './redis/keys.js';
export { TRAIL_STATUSES, DEFAULT_TRAIL_SETTINGS, type TrailStatus, type TrailAttempt, type TrailRecord, type TrailSettings, type PrivacyMode } from './trail/trail-types.js';
export { protect, digest, searchTerms } from './trail/privacy.js';
export { MessageTrail, queueTrailStep, queueTrailSteps, type TrailPatch, type TrailQuery, type TrailStep } from './trail/message-trail.js';
export { queueHistory, queueSpoolDepth, readHistory, HISTORY_MAX_MINUTES, HISTORY_RETENTION_MS, type HistoryCounter, type HistoryPoint } from './trail/history.js';
export { DeadLetterIndex, type PublishedDeadLetter } from './fleet/dead-letter-index.js';
export { AgentCommands, type AgentCommand, type CommandAction, type CommandStatus } from './fleet/agent-commands.js';
