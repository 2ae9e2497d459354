import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { EVENTS_CHANNEL, parseEvent, type RedisClient, type SlotEvent } from '@smtp-slots/core';

/**
 * The coordinator's single subscription to the events channel, fanned out in-process to every
 * SSE client (and to metrics). One Redis subscriber per coordinator, however many browsers.
 */
export class EventHub extends EventEmitter<{ event: [SlotEvent]; malformed: [string] }> {
  private started = false;
  private subscribed = false;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0);
  }

  /**
   * Subscribes. When Redis is not reachable yet, rejects but keeps trying on every reconnect;
   * once subscribed, ioredis itself re-subscribes after reconnects.
   */
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
    this.subscriber.on('ready', () => {
      if (!this.subscribed) void this.subscribe().catch(() => undefined);
    });
    await this.subscribe();
  }

  private async subscribe(): Promise<void> {
    await this.subscriber.subscribe(EVENTS_CHANNEL);
    if (!this.subscribed) this.logger.info({ channel: EVENTS_CHANNEL }, 'subscribed to slot events');
    this.subscribed = true;
  }
}
