import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from '../http-io.js';
import type { MailboxState } from '../mailbox-state.js';
import { readMessageId } from '../message-id.js';
import type { SimState } from '../sim-state.js';
import { GraphError } from './graph-errors.js';
import type { GraphCounter } from './graph-mailbox.js';
import { mimeRecipients } from './mime-recipients.js';

/** `POST /v1.0/users/{id | userPrincipalName}/sendMail`. */
export const SEND_MAIL_PATH = /^\/v1\.0\/users\/([^/]+)\/sendMail$/i;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Refusal = { status: number; counter: GraphCounter; error: { code: string; message: string }; retryAfter?: number };

/**
 * Microsoft Graph sendMail with a MIME body, under Exchange's limits for app access: at most
 * `graphConcurrency` requests in flight per mailbox (429 MailboxConcurrency), `graphRequestsPerTenMinutes`
 * per app and mailbox (429 with Retry-After), `graphMaxRequestBytes` per request (413), Mail.Send
 * required (403). Accepted messages join the same message log as SMTP submissions.
 */
export async function handleSendMail(sim: SimState, request: IncomingMessage, response: ServerResponse, user: string): Promise<void> {
  const refuse = (mailbox: MailboxState | undefined, refusal: Refusal) => {
    mailbox?.graph.count(refusal.counter);
    const headers: Record<string, string> = refusal.retryAfter === undefined ? {} : { 'retry-after': String(refusal.retryAfter) };
    sendJson(response, refusal.status, { error: refusal.error }, headers);
  };
  const drain = () => request.resume();
  const mailbox = sim.mailbox(user);
  mailbox?.graph.count('requests');
  const token = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
  const grant = sim.tokens.find(token);
  if (!grant || grant.audience !== 'graph') {
    drain();
    return refuse(mailbox, { status: 401, counter: 'unauthorized', error: GraphError.unauthorized });
  }
  if (!mailbox) {
    drain();
    return refuse(undefined, { status: 404, counter: 'otherErrors', error: GraphError.invalidUser(user) });
  }
  if (!grant.permissions.has('Mail.Send')) {
    drain();
    return refuse(mailbox, { status: 403, counter: 'accessDenied', error: GraphError.accessDenied });
  }
  const address = mailbox.user.address;
  const faults = sim.faults.get(address);
  const { graphConcurrency, graphRequestsPerTenMinutes, graphMaxRequestBytes, now } = sim.options;
  if (!mailbox.graph.tryEnter(graphConcurrency, faults.graphOutsideInFlight)) {
    drain();
    // Exchange sends a Retry-After here too, but it is no timer: the request succeeds once fewer are in flight.
    return refuse(mailbox, { status: 429, counter: 'throttledConcurrency', error: GraphError.mailboxConcurrency, retryAfter: 1 });
  }
  const app = sim.appRequestStarted(grant.clientId);
  try {
    const body = await readBody(request, graphMaxRequestBytes);
    const latency = sim.faults.latencyFor(address);
    if (latency > 0) await sleep(latency);
    if (response.destroyed) return;
    const retryAfter = mailbox.graph.takeWindow(grant.clientId, graphRequestsPerTenMinutes, now());
    if (retryAfter !== undefined) return refuse(mailbox, { status: 429, counter: 'throttledRate', error: GraphError.requestRate, retryAfter });
    if (!body) return refuse(mailbox, { status: 413, counter: 'tooLarge', error: GraphError.tooLarge(graphMaxRequestBytes) });
    if (!/^text\/plain\b/i.test(request.headers['content-type'] ?? '')) {
      return refuse(mailbox, { status: 400, counter: 'otherErrors', error: GraphError.notMime });
    }
    const text = body.toString('latin1').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length === 0) {
      return refuse(mailbox, { status: 400, counter: 'otherErrors', error: GraphError.notBase64 });
    }
    const raw = Buffer.from(text, 'base64');
    const refusal = accept(sim, mailbox, raw, grant.clientId);
    if (refusal) return refuse(mailbox, refusal);
    mailbox.graph.count('accepted');
    sendJson(response, 202, undefined);
  } finally {
    mailbox.graph.leave();
    app.leave();
  }
}

/** Applies the store's quotas and records the message; a refusal when a quota says no. */
function accept(sim: SimState, mailbox: MailboxState, raw: Buffer, clientId: string): Refusal | undefined {
  const user = mailbox.user;
  const quota = user.mailboxQuotaBytes;
  if (sim.faults.get(user.address).mailboxFull || (quota !== undefined && mailbox.log.bytes + raw.length > quota)) {
    mailbox.count('rejectedMailboxFull');
    return { status: 403, counter: 'otherErrors', error: GraphError.mailboxFull };
  }
  const at = sim.options.now();
  const to = mimeRecipients(raw);
  if (!mailbox.recipients.allows(to.length, at)) {
    mailbox.count('rejectedQuota');
    return { status: 403, counter: 'otherErrors', error: GraphError.quotaExceeded };
  }
  const messageId = readMessageId(raw);
  const previousCopies = mailbox.log.record(messageId, raw.length);
  mailbox.recipients.record(to.length, at);
  const { releaseAt } = mailbox.schedule.schedule(at);
  sim.emitMessage({ user: user.address, messageId, from: user.address, to, size: raw.length, raw, acceptedAt: at, releaseAt, previousCopies, via: 'graph', clientId });
  return undefined;
}
