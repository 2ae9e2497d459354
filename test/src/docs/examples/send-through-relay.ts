import { createTransport } from 'nodemailer';

const relay = createTransport({ host: '127.0.0.1', port: 2525, secure: false, ignoreTLS: true });
await relay.sendMail({
  from: 'reports@contoso.com', // the envelope sender picks the mailbox
  to: 'customer@example.net',
  subject: 'Your monthly report',
  text: 'Attached.',
});
// Resolved = fsynced in the agent's spool. Delivery to Exchange Online happens in the background.
