import type { Response } from 'express';
import type { SlotEvent } from '@smtp-slots/core';
import type { EventHub } from './event-hub.js';

/** A stream that buffered this much unread data is cut; the browser's EventSource reconnects. */
const MAX_BUFFERED_BYTES = 1 << 20;

export interface SseStreamsOptions {
  heartbeatMs: number;
  /** Called when a slow client is dropped (counted in metrics). */
  onDropped?: () => void;
}

/**
 * The open `GET /api/events` responses. Each gets the hub's events (optionally only for some
 * mailboxes) and a comment line every `heartbeatMs` so idle proxies keep the stream open.
 */
export class SseStreams {
  private readonly streams = new Set<Response>();
  private nextId = 1;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly hub: EventHub,
    private readonly options: SseStreamsOptions,
  ) {
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Turns `res` into an event stream until the client goes away. */
  open(res: Response, mailboxes: ReadonlySet<string> | null): void {
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      // nginx would otherwise buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write(`retry: 3000\n: connected\n\n`);
    const onEvent = (event: SlotEvent) => {
      if (mailboxes !== null && !mailboxes.has(event.mailbox)) return;
      this.send(res, `id: ${this.nextId++}\ndata: ${JSON.stringify(event)}\n\n`);
    };
    this.hub.on('event', onEvent);
    this.streams.add(res);
    res.on('close', () => {
      this.hub.off('event', onEvent);
      this.streams.delete(res);
    });
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    clearInterval(this.heartbeat);
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  private beat(): void {
    const line = `: heartbeat ${Date.now()}\n\n`;
    for (const res of this.streams) this.send(res, line);
  }

  private send(res: Response, chunk: string): void {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      this.options.onDropped?.();
      res.destroy();
      return;
    }
    res.write(chunk);
  }
}
