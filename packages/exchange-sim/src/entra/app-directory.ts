import { X509Certificate } from 'node:crypto';
import { ExchangeSimError } from '../errors.js';

/** Application permissions the simulator knows (granted with admin consent in Entra ID). */
export type AppPermission = 'Mail.Send' | 'SMTP.SendAsApp';
export const APP_PERMISSIONS: readonly AppPermission[] = ['Mail.Send', 'SMTP.SendAsApp'];

/** An app registration: who may ask the token endpoint for tokens, and with which credential. */
export interface SimApp {
  clientId: string;
  /** The tenant the app is registered in; when omitted any tenant in the token URL is accepted. */
  tenantId?: string;
  /** Accepted as `client_secret`. */
  clientSecret?: string;
  /** PEM certificates whose private keys may sign `client_assertion` JWTs. */
  certificates?: string[];
  /** Application permissions with admin consent. Default: both `Mail.Send` and `SMTP.SendAsApp`. */
  permissions?: AppPermission[];
}

/** A registered certificate with the thumbprints a client assertion names it by. */
export interface RegisteredCertificate {
  certificate: X509Certificate;
  /** base64url SHA-1 thumbprint (`x5t`). */
  x5t: string;
  /** base64url SHA-256 thumbprint (`x5t#S256`). */
  x5tS256: string;
}

export interface ResolvedApp {
  clientId: string;
  tenantId: string | undefined;
  clientSecret: string | undefined;
  certificates: readonly RegisteredCertificate[];
  permissions: ReadonlySet<AppPermission>;
}

const thumbprint = (fingerprint: string) => Buffer.from(fingerprint.replaceAll(':', ''), 'hex').toString('base64url');

/** Validates app registrations; throws INVALID_OPTION naming the app and field at fault. */
export function resolveApps(apps: readonly SimApp[]): ReadonlyMap<string, ResolvedApp> {
  const resolved = new Map<string, ResolvedApp>();
  for (const app of apps) {
    const where = `apps[${JSON.stringify(app.clientId)}]`;
    if (!app.clientId) throw new ExchangeSimError('INVALID_OPTION', 'apps: every app needs a clientId');
    if (resolved.has(app.clientId)) throw new ExchangeSimError('INVALID_OPTION', `${where} is listed twice`);
    if (!app.clientSecret && !app.certificates?.length) {
      throw new ExchangeSimError('INVALID_OPTION', `${where} needs a clientSecret or certificates`);
    }
    const certificates = (app.certificates ?? []).map((pem, index) => {
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(pem);
      } catch (cause) {
        throw new ExchangeSimError('INVALID_OPTION', `${where}.certificates[${index}] is not a PEM certificate`, { cause });
      }
      return { certificate, x5t: thumbprint(certificate.fingerprint), x5tS256: thumbprint(certificate.fingerprint256) };
    });
    for (const permission of app.permissions ?? []) {
      if (!APP_PERMISSIONS.includes(permission)) {
        throw new ExchangeSimError('INVALID_OPTION', `${where}.permissions: unknown permission ${JSON.stringify(permission)} (known: ${APP_PERMISSIONS.join(', ')})`);
      }
    }
    resolved.set(app.clientId, {
      clientId: app.clientId,
      tenantId: app.tenantId,
      clientSecret: app.clientSecret,
      certificates,
      permissions: new Set(app.permissions ?? APP_PERMISSIONS),
    });
  }
  return resolved;
}
