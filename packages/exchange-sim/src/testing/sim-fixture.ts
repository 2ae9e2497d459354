import { afterEach } from 'vitest';
import { startExchangeSim, type ExchangeSim, type ExchangeSimOptions } from '../index.js';
import type { RawSmtpClient } from './raw-smtp-client.js';

/**
 * One simulator per test with the file's default options; after each test every raw client it
 * tracked is destroyed and the simulator stopped.
 */
export function useSimFixture(defaults: ExchangeSimOptions = {}) {
  let current: ExchangeSim | undefined;
  const clients: RawSmtpClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.destroy()));
    await current?.stop();
    current = undefined;
  });
  return {
    async start(options: ExchangeSimOptions = {}): Promise<ExchangeSim> {
      current = await startExchangeSim({ ...defaults, ...options });
      return current;
    },
    /** The running simulator (start() first). */
    get sim(): ExchangeSim {
      if (!current) throw new Error('start() the simulator first');
      return current;
    },
    /** Destroys the client after the test. */
    track(client: RawSmtpClient): void {
      clients.push(client);
    },
  };
}
