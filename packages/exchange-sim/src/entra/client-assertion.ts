import { constants, verify } from 'node:crypto';
import type { RegisteredCertificate, ResolvedApp } from './app-directory.js';

/** Why an assertion was refused, worded like Entra ID's AADSTS errors. */
export type AssertionCheck = { ok: true } | { ok: false; description: string };

interface JwtHeader {
  alg?: string;
  x5t?: string;
  'x5t#S256'?: string;
}

interface JwtClaims {
  aud?: string;
  iss?: string;
  sub?: string;
  exp?: number;
  nbf?: number;
}

const SKEW_SECONDS = 300;

const decode = <T>(part: string | undefined): T | undefined => {
  try {
    return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
};

/**
 * Verifies an RFC 7523 client assertion as Entra ID does: the certificate is found by its
 * thumbprint among the app's registered ones, the RS256/PS256 signature must verify with that
 * certificate's public key, `iss` = `sub` = client id, `aud` is this token endpoint, and the
 * assertion is within its lifetime.
 */
export function checkClientAssertion(app: ResolvedApp, assertion: string, tokenPath: string, nowMs: number): AssertionCheck {
  const [encodedHeader, encodedClaims, encodedSignature, ...rest] = assertion.split('.');
  const header = decode<JwtHeader>(encodedHeader);
  const claims = decode<JwtClaims>(encodedClaims);
  if (!header || !claims || encodedSignature === undefined || rest.length > 0) {
    return refuse('AADSTS50027: JWT token is invalid or malformed.');
  }
  const registered = findCertificate(app.certificates, header);
  if (!registered) {
    return refuse(`AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application ${app.clientId}.`);
  }
  const signed = Buffer.from(`${encodedHeader}.${encodedClaims}`);
  const signature = Buffer.from(encodedSignature, 'base64url');
  const key = registered.certificate.publicKey;
  let valid: boolean;
  if (header.alg === 'RS256') valid = verify('sha256', signed, key, signature);
  else if (header.alg === 'PS256') {
    valid = verify('sha256', signed, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
  } else return refuse(`AADSTS5002730: Invalid JWT token. Unsupported algorithm ${JSON.stringify(header.alg)}.`);
  if (!valid) return refuse('AADSTS700027: Client assertion failed signature validation.');
  if (claims.iss !== app.clientId || claims.sub !== app.clientId) {
    return refuse('AADSTS700023: Client assertion issuer and subject must be the client id.');
  }
  if (!audienceMatches(claims.aud, tokenPath)) {
    return refuse(`AADSTS700016: Client assertion audience ${JSON.stringify(claims.aud)} is not this token endpoint.`);
  }
  const now = nowMs / 1000;
  if (typeof claims.exp !== 'number' || claims.exp + SKEW_SECONDS < now) return refuse('AADSTS700024: Client assertion is not within its valid time range.');
  if (typeof claims.nbf === 'number' && claims.nbf - SKEW_SECONDS > now) return refuse('AADSTS700024: Client assertion is not within its valid time range.');
  return { ok: true };
}

function findCertificate(certificates: readonly RegisteredCertificate[], header: JwtHeader): RegisteredCertificate | undefined {
  const s256 = header['x5t#S256'];
  if (s256) return certificates.find((c) => c.x5tS256 === s256);
  if (header.x5t) return certificates.find((c) => c.x5t === header.x5t);
  return undefined;
}

/** The simulator does not know the host it is reached by, so the audience's path must match. */
function audienceMatches(aud: string | undefined, tokenPath: string): boolean {
  if (!aud) return false;
  try {
    return new URL(aud).pathname.toLowerCase() === tokenPath.toLowerCase();
  } catch {
    return false;
  }
}

function refuse(description: string): AssertionCheck {
  return { ok: false, description };
}
