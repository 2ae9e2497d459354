import { createAgent } from '@smtp-slots/agent';

// The same relay, spool and senders as the CLI, inside your Node.js process.
const agent = await createAgent({
  redis: { url: 'redis://redis.internal:6379' },
  spool: { dir: '/var/lib/billing/smtp-spool' },
  mailboxes: [
    {
      address: 'invoices@contoso.com',
      upstream: {
        host: 'smtp.office365.com',
        port: 587,
        requireTLS: true,
        auth: { type: 'password', user: 'invoices@contoso.com', pass: process.env['INVOICES_SMTP_PASSWORD'] ?? '' },
      },
    },
  ],
});

const receipt = await agent.send({
  from: 'invoices@contoso.com',
  to: 'customer@example.net',
  subject: 'Invoice 2024-0042',
  text: 'Please find your invoice attached.',
});
// Safe from here on: the message is fsynced and survives a crash of this process.
const report = await receipt.delivered(); // optional: wait until it left the spool
if (report.status === 'dead') console.error(`not delivered: ${report.reason}`, report.attempts);
else if (report.bounced.length > 0) console.warn('refused recipients:', report.bounced);

await agent.stop(); // finish or requeue in-flight mail, release slots
