export type {
  RedisLike,
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
  SlotsError,
  AcquireTimeoutError,
  AcquireAbortedError,
  MailboxPausedError,
  LeaseLostError,
  RedisUnavailableError,
  LimitExceededError,
  InvalidArgumentError,
} from './errors.js';
export { mailboxKeys, stateKeys, GLOBAL_KEYS, EVENTS_CHANNEL, clientChannel, mailboxFromKey, type MailboxKeys } from './keys.js';
export { SlotClient, type SlotClientOptions, type AcquireOptions, type Lease, type SlotClientEvents } from './slot-client.js';
export { MailboxAdmin, type ListMailboxesOptions, type ListMailboxesResult, type MailboxAdminOptions } from './mailbox-admin.js';
export { RateLimiter, type RateDecision } from './rate-limiter.js';
export { RecipientLedger, type RecipientDecision } from './recipient-ledger.js';
export { LimitFeedback, type LimitFeedbackOptions } from './limit-feedback.js';
export { incrementCounter } from './counters.js';
export { publishEvent, parseEvent } from './events.js';
export { settlesWithin, closeRedisWithin } from './shutdown-deadline.js';
export { AgentRegistry, type AgentRecord, type AgentStatus } from './agent-registry.js';
export * from './ha/index.js';
