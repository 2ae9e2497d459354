import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { EVENTS_CHANNEL, parseEvent, type SlotEvent } from '@smtp-slots/core';

/**
 * The coordinator's single subscription to the events channel, fanned out in-process to every
 * SSE client (and to metrics). One Redis subscriber per coordinator, however many browsers.
 */
export class EventHub extends EventEmitter<{ event: [SlotEvent]; malformed: [string] }> {
  private started = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  /** Subscribes; resolves once Redis confirmed. ioredis re-subscribes after reconnects. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== EVENTS_CHANNEL) return;
      const event = parseEvent(message);
      if (event === null) {
        this.logger.warn({ channel }, 'ignored a malformed slot event');
        this.emit('malformed', message);
        return;
      }
      this.emit('event', event);
    });
    await this.subscriber.subscribe(EVENTS_CHANNEL);
  }
}
