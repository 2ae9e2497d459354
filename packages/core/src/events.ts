import { EVENTS_CHANNEL } from './redis/keys.js';
import type { SlotEvent } from './types.js';
import type { RedisClient } from './redis/connect.js';

/** Publishes a SlotEvent on `ss:events` (scripts publish grant/release/expire/... themselves). */
export async function publishEvent(redis: RedisClient, event: SlotEvent): Promise<void> {
  await redis.publish(EVENTS_CHANNEL, JSON.stringify(event));
}

/** Parses a message from `ss:events`; null when it is not a SlotEvent. */
export function parseEvent(message: string): SlotEvent | null {
  try {
    const value: unknown = JSON.parse(message);
    if (value && typeof value === 'object' && typeof (value as SlotEvent).type === 'string' && typeof (value as SlotEvent).mailbox === 'string') {
      return value as SlotEvent;
    }
  } catch {
    // not JSON: not ours
  }
  return null;
}
