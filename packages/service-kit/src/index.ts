// @smtp-slots/service-kit: what the agent and the coordinator share as services.
export { readConfigDocument, type DocumentResult } from './config-document.js';
export { applyEnvOverrides, envNameToPath, ENV_PREFIX, type EnvOverrideOptions } from './env-overrides.js';
export { describeIssues, formatIssues, type FormatIssuesOptions } from './format-issues.js';
export { loadConfigFile, parseConfig, resolveConfig, validateConfig, type ConfigResult, type LoadConfigOptions } from './load-config.js';
export { createServiceLogger, REDACT_PATHS, type ServiceLoggerOptions } from './logger.js';
export { formatProblem, joinPath, type Problem } from './problem.js';
export { resolveReferences, type ResolvedReferences } from './references.js';
