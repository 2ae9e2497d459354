import { createRequire } from 'node:module';
import type { TlsMaterial } from './smtp-front.js';

interface SelfSigned {
  generate(
    attrs: { name: string; value: string }[],
    options: { days: number; keySize: number; algorithm: string; extensions?: unknown[] },
    done: (error: Error | undefined, pems: { private: string; cert: string }) => void,
  ): void;
}

// selfsigned ships typings without exports, so it is loaded through require and typed here.
const selfsigned = createRequire(import.meta.url)('selfsigned') as SelfSigned;

const cache = new Map<string, Promise<TlsMaterial>>();

/** A self-signed certificate for `hostname` (and localhost/127.0.0.1), generated once per process. */
export function selfSignedCertificate(hostname: string): Promise<TlsMaterial> {
  let pending = cache.get(hostname);
  if (!pending) {
    pending = new Promise<TlsMaterial>((resolve, reject) => {
      selfsigned.generate(
        [{ name: 'commonName', value: hostname }],
        {
          days: 30,
          keySize: 2048,
          algorithm: 'sha256',
          extensions: [
            {
              name: 'subjectAltName',
              altNames: [
                { type: 2, value: hostname },
                { type: 2, value: 'localhost' },
                { type: 7, ip: '127.0.0.1' },
              ],
            },
          ],
        },
        (error, pems) => (error ? reject(error) : resolve({ key: pems.private, cert: pems.cert })),
      );
    });
    pending.catch(() => cache.delete(hostname));
    cache.set(hostname, pending);
  }
  return pending;
}
