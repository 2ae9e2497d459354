import { createRequire } from 'node:module';
// redlock's package.json "exports" lists no "types", so NodeNext resolution cannot see its typings:
// take the types from its declaration file and the code through require.
import type * as RedlockModule from '../../node_modules/redlock/dist/index.js';

const redlock = createRequire(import.meta.url)('redlock') as typeof RedlockModule;

export const Redlock = redlock.default;
export type Redlock = RedlockModule.default;
export const { ExecutionError, ResourceLockedError } = redlock;
export type Lock = RedlockModule.Lock;
export type ExecutionStats = RedlockModule.ExecutionStats;
