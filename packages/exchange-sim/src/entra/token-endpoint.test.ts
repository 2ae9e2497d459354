import { createHash, createPrivateKey, sign, X509Certificate, constants } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim, type ExchangeSimOptions } from '../index.js';
import { selfSignedCertificate } from '../tls-cert.js';
import { RawSmtpClient } from '../testing/raw-smtp-client.js';

const TENANT = 'contoso.onmicrosoft.com';
const USER = 'app-mail@contoso.test';
let sim: ExchangeSim | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function start(options: ExchangeSimOptions): Promise<ExchangeSim> {
  sim = await startExchangeSim({ users: [{ address: USER }], ...options });
  return sim;
}

const tokenUrl = (s: ExchangeSim, tenant = TENANT) => `${s.httpUrl}/${tenant}/oauth2/v2.0/token`;

async function requestToken(s: ExchangeSim, form: Record<string, string>) {
  const response = await fetch(tokenUrl(s), { method: 'POST', body: new URLSearchParams(form) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** An RFC 7523 client assertion as MSAL builds it (PS256 with x5t#S256, or RS256 with x5t). */
function assertion(key: string, cert: string, claims: Record<string, unknown>, alg: 'PS256' | 'RS256' = 'PS256'): string {
  const der = new X509Certificate(cert).raw;
  const thumb = createHash(alg === 'PS256' ? 'sha256' : 'sha1').update(der).digest('base64url');
  const header = { alg, typ: 'JWT', [alg === 'PS256' ? 'x5t#S256' : 'x5t']: thumb };
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${encode(header)}.${encode(claims)}`;
  const privateKey = createPrivateKey(key);
  const signature =
    alg === 'PS256'
      ? sign('sha256', Buffer.from(signed), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
      : sign('sha256', Buffer.from(signed), privateKey);
  return `${signed}.${signature.toString('base64url')}`;
}

const claimsFor = (s: ExchangeSim, clientId: string) => {
  const now = Math.floor(Date.now() / 1000);
  return { aud: tokenUrl(s), iss: clientId, sub: clientId, nbf: now, exp: now + 600, jti: 'a' };
};

describe('token endpoint', () => {
  it('issues a token for the right client secret and refuses a wrong one with 401 invalid_client', async () => {
    const s = await start({ apps: [{ clientId: 'app-1', clientSecret: 'right-secret' }] });
    const good = await requestToken(s, { grant_type: 'client_credentials', client_id: 'app-1', client_secret: 'right-secret', scope: 'https://graph.microsoft.com/.default' });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(typeof good.body['access_token']).toBe('string');

    const bad = await requestToken(s, { grant_type: 'client_credentials', client_id: 'app-1', client_secret: 'wrong', scope: 'https://graph.microsoft.com/.default' });
    expect(bad.status).toBe(401);
    expect(bad.body['error']).toBe('invalid_client');
    expect(String(bad.body['error_description'])).toMatch(/^AADSTS7000215/);
    expect(JSON.stringify(bad.body)).not.toContain('right-secret');

    const unknown = await requestToken(s, { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x', scope: 'https://graph.microsoft.com/.default' });
    expect(unknown).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
    const badScope = await requestToken(s, { grant_type: 'client_credentials', client_id: 'app-1', client_secret: 'right-secret', scope: 'Mail.Send' });
    expect(badScope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    expect(s.stats().totals).toMatchObject({ tokenRequests: 4, tokensIssued: 1, tokensRefused: 2 });
  });

  it('verifies a certificate assertion (PS256 and RS256) with the registered certificate and refuses another certificate', async () => {
    const registered = await selfSignedCertificate('registered.app.test');
    const other = await selfSignedCertificate('other.app.test');
    const s = await start({ apps: [{ clientId: 'cert-app', certificates: [registered.cert] }] });
    const form = (jwt: string) => ({
      grant_type: 'client_credentials', client_id: 'cert-app', scope: 'https://outlook.office365.com/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: jwt,
    });
    for (const alg of ['PS256', 'RS256'] as const) {
      const ok = await requestToken(s, form(assertion(registered.key, registered.cert, claimsFor(s, 'cert-app'), alg)));
      expect(ok.status, alg).toBe(200);
    }
    // Signed by a key whose certificate is not registered.
    const wrongCert = await requestToken(s, form(assertion(other.key, other.cert, claimsFor(s, 'cert-app'))));
    expect(wrongCert).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(String(wrongCert.body['error_description'])).toMatch(/^AADSTS700027/);
    // Names the registered certificate but is signed with another key.
    const forged = await requestToken(s, form(assertion(other.key, registered.cert, claimsFor(s, 'cert-app'))));
    expect(forged).toMatchObject({ status: 401, body: { error: 'invalid_client', error_description: 'AADSTS700027: Client assertion failed signature validation.' } });
    const expired = await requestToken(s, form(assertion(registered.key, registered.cert, { ...claimsFor(s, 'cert-app'), exp: 1000 })));
    expect(expired).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const wrongAudience = await requestToken(s, form(assertion(registered.key, registered.cert, { ...claimsFor(s, 'cert-app'), aud: 'https://login.test/other/oauth2/v2.0/token' })));
    expect(wrongAudience).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('a token for Exchange works for XOAUTH2 only with SMTP.SendAsApp; a Graph token does not', async () => {
    const s = await start({
      apps: [
        { clientId: 'smtp-app', clientSecret: 's1' },
        { clientId: 'graph-only', clientSecret: 's2', permissions: ['Mail.Send'] },
      ],
    });
    const token = async (clientId: string, secret: string, scope: string) =>
      String((await requestToken(s, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope })).body['access_token']);
    const xoauth2 = (t: string) => Buffer.from(`user=${USER}\x01auth=Bearer ${t}\x01\x01`).toString('base64');
    const c = await RawSmtpClient.connect(s.smtpPort);
    await c.command('EHLO client.test');
    expect((await c.command(`AUTH XOAUTH2 ${xoauth2(await token('graph-only', 's2', 'https://outlook.office365.com/.default'))}`)).code).toBe(535);
    expect((await c.command(`AUTH XOAUTH2 ${xoauth2(await token('smtp-app', 's1', 'https://graph.microsoft.com/.default'))}`)).code).toBe(535);
    expect((await c.command(`AUTH XOAUTH2 ${xoauth2(await token('smtp-app', 's1', 'https://outlook.office365.com/.default'))}`)).code).toBe(235);
    await c.destroy();
  });
});

describe('Basic auth switched off for a user', () => {
  it('answers LOGIN/PLAIN with 550 5.7.30 once switched, while XOAUTH2 with an issued token still works', async () => {
    const s = await start({ users: [{ address: USER, password: 'pw' }], apps: [{ clientId: 'smtp-app', clientSecret: 's1' }] });
    const plain = `AUTH PLAIN ${Buffer.from(`\0${USER}\0pw`).toString('base64')}`;
    const before = await RawSmtpClient.connect(s.smtpPort);
    await before.command('EHLO client.test');
    expect((await before.command(plain)).code).toBe(235);
    await before.destroy();

    const switched = await fetch(`${s.httpUrl}/admin/faults`, { method: 'POST', body: JSON.stringify({ user: USER, basicAuthDisabled: true }) });
    expect(switched.status).toBe(200);
    const after = await RawSmtpClient.connect(s.smtpPort);
    await after.command('EHLO client.test');
    expect((await after.command(plain)).lines).toEqual(['550 5.7.30 Basic authentication is not supported for Client Submission.']);
    const token = String((await requestToken(s, { grant_type: 'client_credentials', client_id: 'smtp-app', client_secret: 's1', scope: 'https://outlook.office365.com/.default' })).body['access_token']);
    expect((await after.command(`AUTH XOAUTH2 ${Buffer.from(`user=${USER}\x01auth=Bearer ${token}\x01\x01`).toString('base64')}`)).code).toBe(235);
    await after.destroy();
  });

  it('answers every AUTH with 535 5.7.139 when SMTP AUTH is disabled for the mailbox', async () => {
    const s = await start({ users: [{ address: USER, password: 'pw' }] });
    s.setFaults({ smtpAuthDisabled: true }, USER);
    const c = await RawSmtpClient.connect(s.smtpPort);
    await c.command('EHLO client.test');
    const reply = await c.command(`AUTH PLAIN ${Buffer.from(`\0${USER}\0pw`).toString('base64')}`);
    expect(reply.code).toBe(535);
    expect(reply.text).toMatch(/^5\.7\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant/);
    await c.destroy();
  });
});
