import { clientChannel } from '../redis/keys.js';
import type { RedisClient } from '../redis/connect.js';
import { closeRedisWithin, settlesWithin } from '../redis/shutdown-deadline.js';

/** A push message on a client's channel (published by the Lua scripts). */
export type ClientNotification =
  | { type: 'grant'; mailbox: string; id: string; slot: number; token: number; expiresAt: number; epoch: string; ticket: number; now: number }
  | { type: 'paused'; mailbox: string; id: string; reason: string }
  | { type: 'revoke'; mailbox: string; id: string; slot: number };

/**
 * Resolves once `connection` takes commands. ioredis writes SUBSCRIBE even before its ready
 * check (INFO) is answered; the check then fails in subscriber mode and the connection is reset,
 * losing the subscription and with it every push until the next subscribe.
 */
function whenReady(connection: RedisClient): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = () => {
      connection.off('end', onEnd);
      resolve();
    };
    const onEnd = () => {
      connection.off('ready', onReady);
      reject(new Error('subscriber connection closed'));
    };
    connection.once('ready', onReady);
    connection.once('end', onEnd);
    if (connection.status === 'wait') connection.connect().catch(() => undefined);
  });
}

/**
 * The one subscriber connection of a SlotClient: grants for its waiters and revocations of
 * its leases arrive here. Lost messages are covered by the waiters' safety poll.
 */
export class ClientNotifier {
  readonly channel: string;
  private subscriber: RedisClient | undefined;
  private subscribing: Promise<void> | undefined;
  private subscribed = false;
  private readonly onMessage = (channel: string, message: string) => {
    if (channel !== this.channel) return;
    try {
      this.deliver(JSON.parse(message) as ClientNotification);
    } catch {
      // not ours
    }
  };

  constructor(
    private readonly source: RedisClient,
    private readonly given: RedisClient | undefined,
    clientId: string,
    private readonly deliver: (notification: ClientNotification) => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.channel = clientChannel(clientId);
  }

  /** Subscribes once; waits at most `maxWaitMs` (a grant sent before then is found by the poll). */
  async ready(maxWaitMs: number): Promise<void> {
    if (this.subscribed) return;
    if (!this.subscribing) {
      if (!this.subscriber) {
        this.subscriber = this.given ?? this.source.duplicate();
        if (!this.given) this.subscriber.on('error', this.onError);
      }
      const sub = this.subscriber;
      sub.on('message', this.onMessage);
      this.subscribing = whenReady(sub).then(() => sub.subscribe(this.channel)).then(
        () => void (this.subscribed = true),
        (error: unknown) => {
          this.subscribing = undefined;
          sub.off('message', this.onMessage);
          this.onError(error instanceof Error ? error : new Error(String(error)));
        },
      );
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.subscribing, new Promise((r) => (timer = setTimeout(r, maxWaitMs)))]);
    clearTimeout(timer);
  }

  /** Leaves the channel; a connection this notifier opened is closed, dropped if Redis does not answer within `timeoutMs`. */
  async close(timeoutMs = Infinity): Promise<void> {
    const sub = this.subscriber;
    if (!sub) return;
    sub.off('message', this.onMessage);
    if (this.given) {
      await settlesWithin(sub.unsubscribe(this.channel), timeoutMs);
    } else {
      await closeRedisWithin(sub, timeoutMs);
      sub.off('error', this.onError);
    }
    this.subscriber = undefined;
    this.subscribing = undefined;
    this.subscribed = false;
  }
}
