import {
  DeadLetterIndex, digest, protect, queueTrailSteps,
  type PublishedDeadLetter, type RedisClient, type TrailAttempt, type TrailPatch, type TrailSettings, type TrailStatus, type TrailStep,
} from '@smtp-slots/core';
import { toDeadLetter, type DeadLetter } from '../spool/dead-letters.js';
import type { Attempt, SpoolHeader } from '../spool/spool-file.js';
import type { SettledEvent, Spool } from '../spool/spool.js';
import type { RedisWriteBatch } from './write-batch.js';

/**
 * Turns the spool's events into the fleet-wide records in Redis: the message trail (per
 * mailbox) and the dead-letter index (per agent). Envelope data only; recipients and subject
 * as the privacy settings say. Everything goes through the write batch, so it shares a round
 * trip with the counters of the same outcome, and one mailbox's steps within a flush share one
 * script call.
 */
export class TrailRecorder {
  constructor(
    private readonly agentId: string,
    private readonly settings: TrailSettings,
    private readonly batch: RedisWriteBatch,
    private readonly redis: RedisClient,
  ) {}

  attach(spool: Spool): void {
    spool.on('accepted', (h: SpoolHeader) => this.step(h, 'queued', { at: new Date(h.receivedAt).toISOString(), outcome: 'accepted', reply: `accepted through the ${h.origin === 'relay' ? 'relay' : 'library API'} by ${this.agentId}` }));
    spool.on('claimed', (h: SpoolHeader) => this.step(h, 'sending'));
    spool.on('deferred', (h: SpoolHeader, attempt: Attempt) => this.step(h, 'deferred', this.fromAttempt(h, attempt, h.possibleDuplicate && attempt.kind === 'unknown-outcome' ? 'possible-duplicate' : undefined)));
    spool.on('dead', (h: SpoolHeader) => {
      this.step(h, 'dead', { at: new Date().toISOString(), reply: this.redact(h.envelope.to, h.deadReason ?? 'unknown'), outcome: 'dead' });
      this.batch.add(this.agentId, (p) => DeadLetterIndex.queuePublish(p, this.publication(toDeadLetter(h))));
    });
    spool.on('settled', (e: SettledEvent) => {
      if (e.status !== 'sent') return;
      const queueId = e.reply ? queueIdOf(e.reply) : undefined;
      this.step(e.header, 'sent', { at: new Date().toISOString(), reply: e.reply ?? '250', outcome: e.bounced?.length ? 'sent-some-refused' : 'sent' }, queueId ? { queueId } : {});
    });
    spool.on('requeued', (headers: SpoolHeader[]) => {
      for (const h of headers) this.step(h, 'queued', { at: new Date().toISOString(), reply: 'dead letter requeued by an operator with a fresh retry budget', outcome: 'retried' });
      this.batch.add(this.agentId, (p) => DeadLetterIndex.queueRemove(p, this.agentId, headers.map((h) => h.id)));
    });
    spool.on('purged', (gone: { id: string; mailbox: string }[]) => {
      const at = new Date().toISOString();
      for (const { id, mailbox } of gone) {
        if (!this.settings.enabled || !mailbox) continue;
        this.record(mailbox, { id, patch: { status: 'purged' }, attempt: { at, reply: 'dead letter deleted by an operator', outcome: 'purged' } });
      }
      this.batch.add(this.agentId, (p) => DeadLetterIndex.queueRemove(p, this.agentId, gone.map((g) => g.id)));
    });
  }

  /** Replaces this agent's part of the dead-letter index with what the spool holds now. */
  async publishDeadLetters(spool: Spool): Promise<number> {
    const letters = (await spool.listDead()).map((l) => this.publication(l));
    await new DeadLetterIndex(this.redis).replace(this.agentId, letters);
    return letters.length;
  }

  private fromAttempt(h: SpoolHeader, a: Attempt, outcome?: string): TrailAttempt {
    const plain = fromAttempt(a, outcome);
    return { ...plain, reply: this.redact(h.envelope.to, plain.reply) };
  }

  /**
   * Upstreams quote refused addresses in their replies (`<x@y>: 550 5.1.1 ...`): with recipients
   * hashed or off, the reply carries the stored form instead, so the privacy setting holds there too.
   */
  private redact(recipients: readonly string[], text: string): string {
    if (this.settings.recipients === 'plain') return text;
    let out = text;
    for (const to of recipients) {
      const escaped = to.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      out = out.replace(new RegExp(escaped, 'gi'), this.settings.recipients === 'hashed' ? digest(to) : 'recipient');
    }
    return out;
  }

  private step(h: SpoolHeader, status: TrailStatus, attempt?: TrailAttempt, extra: TrailPatch = {}): void {
    if (!this.settings.enabled) return;
    const patch: TrailPatch = { ...this.envelope(h), status, ...extra };
    this.record(h.mailbox, { id: h.id, patch, ...(attempt ? { attempt } : {}) });
  }

  /** The steps of one mailbox within a flush leave in one trail script call. */
  private record(mailbox: string, step: TrailStep): void {
    this.batch.collect(mailbox, 'trail', step, (p, steps) => queueTrailSteps(this.redis, p, this.settings, mailbox, steps));
  }

  /** Sent with every step, so a record trimmed away or written while Redis was down reappears whole. */
  private envelope(h: SpoolHeader): TrailPatch {
    const subject = h.subject !== undefined ? protect(h.subject, this.settings.subject) : undefined;
    return {
      messageId: h.messageId, mailbox: h.mailbox, agentId: this.agentId, sender: h.envelope.from, size: h.size,
      ...(this.settings.recipients !== 'off' ? { recipients: h.envelope.to.map((to) => protect(to, this.settings.recipients)!) } : {}),
      ...(subject !== undefined ? { subject } : {}),
      ...(h.possibleDuplicate ? { possibleDuplicate: true } : {}),
      ...(h.splitFrom ? { splitFrom: h.splitFrom } : {}),
    };
  }

  private publication(l: DeadLetter): PublishedDeadLetter {
    const subject = l.subject !== undefined ? protect(l.subject, this.settings.subject) : undefined;
    return {
      id: l.id, agentId: this.agentId, mailbox: l.mailbox, messageId: l.messageId,
      recipients: this.settings.recipients === 'off' ? [] : l.to.map((to) => protect(to, this.settings.recipients)!),
      ...(subject !== undefined ? { subject } : {}),
      failedAt: l.failedAt, reason: this.redact(l.to, l.reason),
      attempts: l.attempts.map((a) => ({ ...fromAttempt(a), reply: this.redact(l.to, fromAttempt(a).reply) })),
    };
  }
}

/** The reply with its code in front, unless the text already names it (recipient refusals quote it after the address). */
const fromAttempt = (a: Attempt, outcome?: string): TrailAttempt => ({ at: a.at, reply: a.code !== undefined && !a.response.includes(String(a.code)) ? `${a.code} ${a.response}` : a.response, outcome: outcome ?? a.kind });

/** The queue id an upstream names in its 250: Exchange's `OK <id>`, Postfix's `queued as ID`. */
export function queueIdOf(reply: string): string | undefined {
  return /queued as ([\w.-]+)/i.exec(reply)?.[1] ?? /\bOK\s+(<[^>\s]+>)/.exec(reply)?.[1];
}

