export { parseDemoArgs, USAGE, type DemoOptions } from './args.js';
export { startDemoStack, DEMO_MAILBOX, type DemoStack } from './stack.js';
export { runBatch, summaryPassed, type DemoSummary } from './batch.js';
export { formatSummary } from './summary.js';
export { submitBatch, demoMessageId, type Relay, type SubmitOptions, type SubmitResult } from './submit.js';
export { LocalRedis } from './local-redis.js';
export { mergeHistogram, histogramQuantile, histogramQuantileBound, type MergedHistogram } from './histogram.js';
