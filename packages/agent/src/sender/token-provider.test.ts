import { createHash, X509Certificate } from 'node:crypto';
import { selfSignedCertificate, startExchangeSim, type ExchangeSim } from '@smtp-slots/exchange-sim';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../config.js';
import { ClientCredentialsTokenProvider, entraTokenUrl, TokenRequestError } from './token-provider.js';

const TENANT = 'contoso.onmicrosoft.com';
let sim: ExchangeSim | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const sha256Thumbprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
const sha1Thumbprint = (pem: string) => createHash('sha1').update(new X509Certificate(pem).raw).digest('hex').toUpperCase();

describe('ClientCredentialsTokenProvider with a certificate (MSAL, offline)', () => {
  it('gets a token with a SHA-256 or SHA-1 thumbprint from a token endpoint that verifies the assertion', async () => {
    const cert = await selfSignedCertificate('cert-app.contoso.test');
    sim = await startExchangeSim({ apps: [{ clientId: 'cert-app', certificates: [cert.cert] }] });
    const tokenUrl = entraTokenUrl(TENANT, sim.httpUrl);
    for (const thumbprint of [{ thumbprintSha256: sha256Thumbprint(cert.cert) }, { thumbprint: sha1Thumbprint(cert.cert) }]) {
      const provider = new ClientCredentialsTokenProvider({
        // A national-cloud style authority host that does not exist: MSAL must not try to reach it.
        authorityHost: 'https://login.sovereign-cloud.invalid', tenantId: TENANT, tokenUrl,
        clientId: 'cert-app', certificate: { privateKey: cert.key, ...thumbprint }, scope: 'https://outlook.office365.com/.default', refreshAheadMs: 300_000,
      });
      const token = await provider.getToken();
      expect(token).toMatch(/^sim\./);
      expect(await provider.getToken()).toBe(token); // cached
      expect(await provider.getToken({ forceRenew: true })).not.toBe(token);
    }
    expect(sim.stats().totals).toMatchObject({ tokensIssued: 4, tokensRefused: 0 });
  });

  it('a certificate the app does not have is refused (refused=true) with the AADSTS reason and no key material', async () => {
    const registered = await selfSignedCertificate('registered.contoso.test');
    const other = await selfSignedCertificate('other.contoso.test');
    sim = await startExchangeSim({ apps: [{ clientId: 'cert-app', certificates: [registered.cert] }] });
    const provider = new ClientCredentialsTokenProvider({
      tenantId: TENANT, tokenUrl: entraTokenUrl(TENANT, sim.httpUrl), clientId: 'cert-app',
      certificate: { privateKey: other.key, thumbprintSha256: sha256Thumbprint(other.cert) }, scope: 'https://outlook.office365.com/.default', refreshAheadMs: 0,
    });
    const error = await provider.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect((error as TokenRequestError).refused).toBe(true);
    expect((error as Error).message).toMatch(/^token request for client cert-app refused \(invalid_client: AADSTS700027/);
    expect((error as Error).message).not.toContain('PRIVATE KEY');
  });

  it('an unreachable token endpoint is a temporary failure (refused=false)', async () => {
    sim = await startExchangeSim();
    const url = `${sim.httpUrl}/${TENANT}/oauth2/v2.0/token`;
    await sim.stop();
    const provider = new ClientCredentialsTokenProvider({ tenantId: TENANT, tokenUrl: url, clientId: 'app', clientSecret: 'shh', scope: 's/.default', refreshAheadMs: 0 });
    const error = await provider.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect((error as TokenRequestError).refused).toBe(false);
    expect((error as Error).message).not.toContain('shh');
  });
});

describe('oauth2 auth config', () => {
  const mailbox = (auth: Record<string, unknown>) => ({ mailboxes: [{ address: 'a@contoso.example', upstream: { host: 'smtp.office365.com', auth: { type: 'oauth2', user: 'a@contoso.example', tenantId: TENANT, clientId: 'c', ...auth } } }] });
  const problems = (auth: Record<string, unknown>) => {
    const parsed = agentConfigSchema.safeParse(mailbox(auth));
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes a certificate beside clientSecret, exactly one of them, and an https authority host', async () => {
    const { key } = await selfSignedCertificate('config.contoso.test');
    expect(problems({ certificate: { privateKey: key, thumbprintSha256: 'ab'.repeat(32) } })).toEqual([]);
    expect(problems({ clientSecret: 's' })).toEqual([]);
    expect(problems({})).toEqual(['mailboxes.0.upstream.auth.clientSecret: give exactly one credential: clientSecret or certificate']);
    expect(problems({ clientSecret: 's', certificate: { privateKey: key, thumbprint: 'ab'.repeat(20) } })[0]).toMatch(/exactly one credential/);
    expect(problems({ certificate: { privateKey: key } })).toEqual(['mailboxes.0.upstream.auth.certificate.thumbprintSha256: give exactly one of thumbprintSha256 or thumbprint']);
    expect(problems({ certificate: { privateKey: key, thumbprintSha256: 'xyz' } })[0]).toBe("mailboxes.0.upstream.auth.certificate.thumbprintSha256: must be the certificate's SHA-256 thumbprint: 64 hex digits");
    expect(problems({ certificate: { privateKey: '/etc/key.pem', thumbprint: 'ab'.repeat(20) } })[0]).toBe('mailboxes.0.upstream.auth.certificate.privateKey: must be a PEM private key (use file:/path/to/key.pem)');
    expect(problems({ clientSecret: 's', authorityHost: 'http://login.example' })[0]).toBe('mailboxes.0.upstream.auth.authorityHost: must be an https:// URL');
  });
});
