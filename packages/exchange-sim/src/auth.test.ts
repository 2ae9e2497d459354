import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { RawSmtpClient, testMessage } from './testing/raw-smtp-client.js';
import { useSimFixture } from './testing/sim-fixture.js';

const USER = 'sender@contoso.test';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const xoauth2 = (user: string, token: string) => b64(`user=${user}\x01auth=Bearer ${token}\x01\x01`);

const fixture = useSimFixture();
const start = fixture.start;

async function client(): Promise<RawSmtpClient> {
  const c = await RawSmtpClient.connect(fixture.sim.smtpPort);
  fixture.track(c);
  await c.command('EHLO client.test');
  return c;
}

describe('basic authentication', () => {
  it('accepts AUTH LOGIN and AUTH PLAIN with the right password', async () => {
    await start({ users: [{ address: USER, password: 's3cret' }] });
    const login = await client();
    expect((await login.command('AUTH LOGIN')).lines).toEqual(['334 VXNlcm5hbWU6']);
    expect((await login.command(b64(USER))).lines).toEqual(['334 UGFzc3dvcmQ6']);
    expect((await login.command(b64('s3cret'))).code).toBe(235);

    const plain = await client();
    // User names compare case-insensitively, like Exchange addresses.
    expect((await plain.command(`AUTH PLAIN ${b64(`\0${USER.toUpperCase()}\0s3cret`)}`)).code).toBe(235);
    expect(fixture.sim.userStats(USER)).toMatchObject({ sessionsTotal: 2, openSessions: 2 });
  });

  it('answers a wrong password or an unknown user with 535 5.7.3 verbatim', async () => {
    await start({ users: [{ address: USER, password: 's3cret' }] });
    const c = await client();
    expect((await c.command(`AUTH PLAIN ${b64(`\0${USER}\0wrong`)}`)).lines).toEqual(['535 5.7.3 Authentication unsuccessful']);
    expect((await c.command(`AUTH PLAIN ${b64('\0nobody@contoso.test\0s3cret')}`)).lines).toEqual([
      '535 5.7.3 Authentication unsuccessful',
    ]);
    const stats = fixture.sim.stats();
    expect(stats.users[USER]!.authFailures).toBe(1);
    expect(stats.totals.authFailures).toBe(2);
    expect(stats.users['nobody@contoso.test']).toBeUndefined();
  });

  it('answers MAIL before AUTH with 530 5.7.57', async () => {
    await start({ users: [{ address: USER, password: 's3cret' }] });
    const c = await client();
    expect((await c.command(`MAIL FROM:<${USER}>`)).lines).toEqual(['530 5.7.57 Client not authenticated to send mail']);
    expect(fixture.sim.stats().totals.notAuthenticated).toBe(1);
  });

  it('refuses a MAIL FROM other than the authenticated mailbox with 550 5.7.60 unless allowed', async () => {
    await start({ users: [{ address: USER, password: 's3cret' }] });
    const c = await client();
    await c.command(`AUTH PLAIN ${b64(`\0${USER}\0s3cret`)}`);
    expect((await c.command('MAIL FROM:<someone.else@contoso.test>')).lines).toEqual([
      '550 5.7.60 SMTP; Client does not have permissions to send as this sender',
    ]);
    expect(fixture.sim.userStats(USER)!.rejectedSender).toBe(1);
    await fixture.sim.stop();

    await start({ users: [{ address: USER, password: 's3cret' }], enforceSender: false });
    const relaxed = await client();
    await relaxed.command(`AUTH PLAIN ${b64(`\0${USER}\0s3cret`)}`);
    expect((await relaxed.command('MAIL FROM:<someone.else@contoso.test>')).code).toBe(250);
  });

  it('accepts anyone in permissive mode and tracks them as users', async () => {
    await start({ anyUser: true });
    const c = await client();
    expect((await c.command(`AUTH PLAIN ${b64('\0Whoever@Fabrikam.test\0anything')}`)).code).toBe(235);
    const message = testMessage('whoever@fabrikam.test', 'r@contoso.test');
    expect((await c.sendMessage('whoever@fabrikam.test', ['r@contoso.test'], message.raw)).code).toBe(250);
    expect(fixture.sim.userStats('whoever@fabrikam.test')).toMatchObject({ accepted: 1, messageIds: [message.messageId] });
  });
});

describe('OAuth (XOAUTH2)', () => {
  it('accepts a listed token through nodemailer and refuses another token with 535 5.7.3', async () => {
    await start({ users: [{ address: USER, tokens: ['good-token'] }] });
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: fixture.sim.smtpPort,
      auth: { type: 'OAuth2', user: USER, accessToken: 'good-token' },
    });
    const info = await transport.sendMail({ from: USER, to: 'r@fabrikam.test', subject: 'oauth', text: 'hi' });
    expect(info.response).toMatch(/^250 2\.0\.0 OK /);
    expect(fixture.sim.userStats(USER)!.messageIds).toEqual([info.messageId]);

    const c = await client();
    expect((await c.command(`AUTH XOAUTH2 ${xoauth2(USER, 'stale-token')}`)).lines).toEqual([
      '535 5.7.3 Authentication unsuccessful',
    ]);
    // A user with tokens only has no password to log in with.
    expect((await c.command(`AUTH PLAIN ${b64(`\0${USER}\0good-token`)}`)).code).toBe(535);
  });

  it('asks a pluggable validator, which may be async', async () => {
    const seen: string[] = [];
    await start({
      users: [{ address: USER }],
      validateToken: async (user, token) => {
        seen.push(`${user} ${token}`);
        return token === `valid-for-${user}`;
      },
    });
    const c = await client();
    expect((await c.command(`AUTH XOAUTH2 ${xoauth2(USER, 'nope')}`)).code).toBe(535);
    expect((await c.command(`AUTH XOAUTH2 ${xoauth2(USER, `valid-for-${USER}`)}`)).code).toBe(235);
    expect(seen).toEqual([`${USER} nope`, `${USER} valid-for-${USER}`]);
  });

  it('in OAuth-only mode answers basic authentication with 550 5.7.30 and still accepts XOAUTH2', async () => {
    await start({ users: [{ address: USER, password: 's3cret', tokens: ['t'] }], oauthOnly: true });
    const c = await client();
    expect((await c.command(`AUTH PLAIN ${b64(`\0${USER}\0s3cret`)}`)).lines).toEqual([
      '550 5.7.30 Basic authentication is not supported for Client Submission.',
    ]);
    await c.command('AUTH LOGIN');
    await c.command(b64(USER));
    expect((await c.command(b64('s3cret'))).lines).toEqual([
      '550 5.7.30 Basic authentication is not supported for Client Submission.',
    ]);
    expect((await c.command(`AUTH XOAUTH2 ${xoauth2(USER, 't')}`)).code).toBe(235);
  });
});

describe('STARTTLS', () => {
  it('offers STARTTLS with its own certificate, requires it before AUTH, and delivers over it', async () => {
    await start({ users: [{ address: USER, password: 's3cret' }], starttls: true });
    const c = await RawSmtpClient.connect(fixture.sim.smtpPort);
    fixture.track(c);
    expect((await c.command('EHLO client.test')).lines).toContain('250-STARTTLS');
    expect((await c.command(`AUTH PLAIN ${b64(`\0${USER}\0s3cret`)}`)).code).toBe(538);

    expect(fixture.sim.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    // Verification succeeds only against the simulator's own certificate, not the library default.
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: fixture.sim.smtpPort,
      requireTLS: true,
      tls: { ca: [fixture.sim.certificate!] },
      auth: { user: USER, pass: 's3cret' },
    });
    const info = await transport.sendMail({ from: USER, to: 'r@fabrikam.test', subject: 'tls', text: 'hi' });
    expect(fixture.sim.userStats(USER)!.messageIds).toEqual([info.messageId]);
  });

  it('without STARTTLS allows AUTH in clear text and does not advertise STARTTLS', async () => {
    await start({ users: [{ address: USER, password: 's3cret' }] });
    const c = await RawSmtpClient.connect(fixture.sim.smtpPort);
    fixture.track(c);
    const ehlo = await c.command('EHLO client.test');
    expect(ehlo.lines.some((l) => l.includes('STARTTLS'))).toBe(false);
    expect(ehlo.lines.some((l) => /AUTH LOGIN PLAIN XOAUTH2/.test(l))).toBe(true);
  });
});
