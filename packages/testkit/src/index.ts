import './provided-context.js';
export { getFreePort } from './free-port.js';
export { waitFor, sleep, type WaitForOptions } from './wait-for.js';
export { CountingServer } from './counting-server.js';
export { RedisProcess, ping, assertRedisServerInstalled, type RedisProcessOptions } from './redis-process.js';
