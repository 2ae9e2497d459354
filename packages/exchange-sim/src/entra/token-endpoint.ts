import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from '../http-io.js';
import type { SimState } from '../sim-state.js';
import { checkClientAssertion } from './client-assertion.js';
import { audienceOf } from './issued-tokens.js';

/** `/{tenant}/oauth2/v2.0/token`: the Entra ID v2 token endpoint path. */
export const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_FORM_BYTES = 64 * 1024;

/** An OAuth2 error reply (RFC 6749 §5.2), worded like Entra ID. */
const oauthError = (response: ServerResponse, status: number, error: string, description: string) =>
  sendJson(response, status, { error, error_description: description, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)] });

/**
 * The client-credentials grant with a client secret or a certificate-signed client assertion.
 * Hands out opaque tokens that the Graph double and XOAUTH2 accept while they are valid.
 */
export async function handleTokenRequest(sim: SimState, request: IncomingMessage, response: ServerResponse, tenant: string, path: string): Promise<void> {
  sim.countTokenRequest();
  const body = request.method === 'POST' ? await readBody(request, MAX_FORM_BYTES) : undefined;
  if (!body) return oauthError(response, 400, 'invalid_request', 'AADSTS900561: The endpoint only accepts POST requests with a form body.');
  const form = new URLSearchParams(body.toString('utf8'));
  const grantType = form.get('grant_type');
  const clientId = form.get('client_id') ?? '';
  const scope = form.get('scope') ?? '';
  if (grantType !== 'client_credentials') {
    return oauthError(response, 400, 'unsupported_grant_type', `AADSTS70003: The app requested an unsupported grant type ${JSON.stringify(grantType ?? '')}.`);
  }
  const app = sim.apps.get(clientId);
  if (!app || (app.tenantId !== undefined && app.tenantId !== tenant)) {
    return refuseClient(sim, response, 400, 'unauthorized_client', `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
  }
  const audience = audienceOf(scope);
  if (!audience) {
    return oauthError(response, 400, 'invalid_scope', `AADSTS1002012: The provided value for scope ${JSON.stringify(scope)} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`);
  }
  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (assertion !== null) {
    if (form.get('client_assertion_type') !== JWT_BEARER) {
      return oauthError(response, 400, 'invalid_request', `AADSTS50027: client_assertion_type must be ${JWT_BEARER}.`);
    }
    const check = checkClientAssertion(app, assertion, path, sim.options.now());
    if (!check.ok) return refuseClient(sim, response, 401, 'invalid_client', check.description);
  } else if (secret !== null) {
    if (app.clientSecret === undefined || secret !== app.clientSecret) {
      return refuseClient(sim, response, 401, 'invalid_client', `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
    }
  } else {
    return refuseClient(sim, response, 401, 'invalid_client', "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  const lifetime = sim.options.tokenLifetimeSeconds;
  const accessToken = sim.tokens.issue({ clientId, audience, permissions: app.permissions }, lifetime);
  sim.countTokenIssued();
  sendJson(response, 200, { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken });
}

function refuseClient(sim: SimState, response: ServerResponse, status: number, error: string, description: string): void {
  sim.countTokenRefused();
  oauthError(response, status, error, description);
}
