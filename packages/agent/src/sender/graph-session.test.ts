import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { GraphUpstreamSettings } from '../config.js';
import { GraphSession } from './graph-session.js';

const envelope = { from: 'sender@contoso.example', to: ['rcpt@fabrikam.example'] };
const raw = Buffer.from('From: sender@contoso.example\r\nTo: rcpt@fabrikam.example\r\nSubject: t\r\n\r\nbody\r\n');

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

describe('GraphSession write fence (real HTTP server)', () => {
  it('sends no request once the lease fence is shut: the send fails before anything reaches Graph', async () => {
    let requests = 0;
    server = createServer((request, response) => {
      requests += 1;
      request.resume().on('end', () => response.writeHead(202).end());
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const settings = { type: 'graph', graphUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, maxRequestBytes: 4 * 1024 * 1024, requestTimeoutMs: 5_000 } as GraphUpstreamSettings;
    let live = true;
    const session = await GraphSession.open(settings, { signal: new AbortController().signal, tokenProvider: { getToken: async () => 'token' }, writeFence: () => live });

    expect((await session.send(envelope, raw)).kind).toBe('accepted');
    live = false; // the lease's deadline passed while this worker was busy
    const late = await session.send(envelope, raw);
    expect(late).toMatchObject({ kind: 'failed', dataSent: false, reusable: false });
    expect(late.kind === 'failed' && late.error.fault).toBe('aborted');
    expect(requests).toBe(1);
  });
});
