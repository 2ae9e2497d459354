export { createApp, type CreateAppOptions, type CoordinatorApp } from './app.js';
export { startCoordinator, main, type RunningCoordinator } from './main.js';
export { coordinatorConfigSchema, loadConfig, parseConfig, type CoordinatorConfig, type CoordinatorConfigInput } from './config.js';
export type { MailboxSummary, MailboxDetail, HolderView, WaiterView } from './services/mailbox-view.js';
export type { MailboxPage } from './services/mailbox-service.js';
export type { AgentView } from './services/agent-service.js';
export type { ErrorBody } from './http/error-handler.js';
export { OTHER_MAILBOXES } from './metrics/cluster-metrics.js';
