import { execFile } from 'node:child_process';

/**
 * Runs one command through `redis-cli` (shipped with redis-server) and returns its raw output.
 * The cluster and sentinel launchers use it so that testkit needs no Redis client library.
 */
export function redisCli(port: number, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`redis-cli ${args.join(' ')} on ${port} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
  });
}

/** Parses `INFO`-style `key:value` lines into a map. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}
