/**
 * A child process for the write-fence test: takes a real lease, opens a session under it as the
 * agent does, sends two pipelined messages, and prints what became of them and of the lease as
 * one JSON line. On SIGUSR1 it starves itself: a timer callback that keeps the event loop busy
 * past the lease deadline (prints `blocking` first), while the replies arrive.
 *
 * Why a busy timer callback and not SIGSTOP: a process stopped inside epoll_wait gets EINTR on
 * SIGCONT, and libuv then runs the (overdue) timers before it polls again, so the deadline timer
 * wins. A process stopped or descheduled while it runs a timer callback polls I/O next, before
 * the timers: the replies are read and acted on first. That is the case the fence closes.
 *
 *   node fenced-sender-child.js <redis url> <mailbox> <upstream port> <lease ttl ms>
 */
import { performance } from 'node:perf_hooks';
import { SlotClient } from '@smtp-slots/core';
import { Redis } from 'ioredis';
import type { MailboxUpstream } from '../config.js';
import { openUnderLease } from '../sender/session-opener.js';

const [redisUrl, mailbox, port, ttl] = process.argv.slice(2) as [string, string, string, string];
const USER = 'sender@contoso.example';
const message = (n: number) => Buffer.from(`From: ${USER}\r\nTo: rcpt@fabrikam.example\r\nMessage-ID: <m${n}@contoso.example>\r\n\r\nmessage ${n}\r\n`);
const envelope = { from: USER, to: ['rcpt@fabrikam.example'] };

process.on('SIGUSR1', () => setTimeout(() => {
  process.stdout.write('blocking\n');
  const until = performance.now() + Number(ttl) + 500;
  while (performance.now() < until) { /* starved */ }
}, 50));

const redis = new Redis(redisUrl);
const slots = new SlotClient({ redis, holder: { agentId: 'fence-child', host: 'test-host', pid: process.pid }, leaseTtlMs: Number(ttl), safetyMarginMs: 200, epochGraceMs: 0 });
const lease = await slots.acquire(mailbox, { worker: 'w1', timeoutMs: 10_000 });
const upstream = {
  type: 'smtp', host: '127.0.0.1', port: Number(port), secure: false, requireTLS: false, rejectUnauthorized: true,
  connectTimeoutMs: 10_000, socketTimeoutMs: 10_000, auth: { type: 'password', user: USER, pass: 'secret' },
} as MailboxUpstream;
const opened = await openUnderLease(upstream, lease, lease.signal, { ehloName: 'fence.test' });
if (!('session' in opened)) throw new Error(`no session: ${JSON.stringify(opened)}`);
const { session } = opened;
// Message 2 follows message 1's final dot on the wire (MAIL, RCPT, DATA); its bytes go out once
// the replies to those are read.
const [one, two] = await Promise.all([session.send(envelope, message(1)), session.send(envelope, message(2))]);
await session.destroy();
const lost = lease.signal.aborted ? (lease.signal.reason as { reason?: string }).reason : undefined;
process.stdout.write(`${JSON.stringify({ one: one.kind, two: { kind: two.kind, dataSent: 'dataSent' in two ? two.dataSent : undefined }, lost })}\n`);
await lease.release();
await slots.close();
redis.disconnect();
