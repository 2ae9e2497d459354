import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess, waitFor } from '@smtp-slots/testkit';
import { EVENTS_CHANNEL, type SlotEvent } from '@smtp-slots/core';
import { mailboxPath, randomMailbox, startTestCoordinator, type TestCoordinator } from './testing/fixture.js';
import { SseReader } from './testing/sse-reader.js';

let coordinator: TestCoordinator;
beforeAll(async () => {
  coordinator = await startTestCoordinator({ events: { heartbeatMs: 200 } });
});
afterAll(() => coordinator.close());

describe('GET /api/events', () => {
  it('streams grants, releases, pauses and force-releases as they happen', async () => {
    const mailbox = randomMailbox('sse');
    await coordinator.admin.ensureMailbox(mailbox, { limit: 2 });
    const stream = new SseReader(`${coordinator.url}/api/events`);
    try {
      expect(await stream.status).toBe(200);
      await waitFor(() => stream.messages.some((m) => m.comment === 'connected'), { message: 'the stream to open' });

      const client = coordinator.slotClient('agent-sse', 'sse-host');
      const first = await client.acquire(mailbox, { worker: 'w1' });
      const second = await client.acquire(mailbox, { worker: 'w2' });
      await first.release();
      await coordinator.call('POST', `${mailboxPath(mailbox)}/pause`, { token: true });
      await coordinator.call('DELETE', `${mailboxPath(mailbox)}/leases/${second.slot}`, { token: true });

      const ours = () => stream.events<SlotEvent>().filter((event) => event.mailbox === mailbox);
      await waitFor(() => ours().some((event) => event.type === 'force-release'), { message: 'the force-release event' });
      const events = ours();
      expect(events.filter((e) => e.type === 'grant').map((e) => [e.slot, e.holder?.worker])).toEqual([[first.slot, 'w1'], [second.slot, 'w2']]);
      expect(events.find((e) => e.type === 'release')).toMatchObject({ slot: first.slot, token: first.token });
      expect(events.some((e) => e.type === 'pause')).toBe(true);
      expect(events.find((e) => e.type === 'force-release')).toMatchObject({ slot: second.slot });
      // The order on the wire is the order things happened.
      const order = events.map((e) => e.type).filter((type) => ['grant', 'release', 'pause', 'force-release'].includes(type));
      expect(order).toEqual(['grant', 'grant', 'release', 'pause', 'force-release']);
      // Event ids increase.
      const ids = stream.messages.filter((m) => m.id !== undefined).map((m) => Number(m.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    } finally {
      stream.close();
    }
  });

  it('sends heartbeat comments and filters by mailbox', async () => {
    const watched = randomMailbox('watched');
    const other = randomMailbox('other');
    for (const mailbox of [watched, other]) await coordinator.admin.ensureMailbox(mailbox, { limit: 1 });
    const stream = new SseReader(`${coordinator.url}/api/events?mailbox=${encodeURIComponent(watched)}`);
    try {
      await waitFor(() => stream.messages.filter((m) => m.comment?.startsWith('heartbeat')).length >= 2, { message: 'two heartbeats' });
      const client = coordinator.slotClient('agent-filter', 'filter-host');
      await (await client.acquire(other, { worker: 'w1' })).release();
      await (await client.acquire(watched, { worker: 'w1' })).release();
      await waitFor(() => stream.events<SlotEvent>().some((e) => e.type === 'release'), { message: 'the watched release' });
      expect(new Set(stream.events<SlotEvent>().map((e) => e.mailbox))).toEqual(new Set([watched]));
    } finally {
      stream.close();
    }
  });

  it('uses one Redis subscriber however many browsers listen', async () => {
    const redis = await RedisProcess.start();
    const own = await startTestCoordinator({ redisUrl: redis.url });
    const streams = Array.from({ length: 5 }, () => new SseReader(`${own.url}/api/events`));
    try {
      await Promise.all(streams.map((s) => s.status));
      await waitFor(() => streams.every((s) => s.messages.length > 0), { message: 'all streams open' });
      const [, subscribers] = (await own.redis.pubsub('NUMSUB', EVENTS_CHANNEL)) as [string, number];
      expect(subscribers).toBe(1);
      expect((await own.call('GET', '/metrics')).body).toMatch(/^smtp_slots_coordinator_sse_clients 5$/m);
    } finally {
      for (const stream of streams) stream.close();
      await own.close();
      await redis.stop();
    }
  });
});
