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

/**
 * Runs several commands through one `redis-cli` connection (fed on stdin) and returns one output
 * line per reply. Needed where a command depends on the connection: `WAIT` only waits for writes
 * made by the same client (on a fresh connection it answers at once with every connected replica).
 */
export function redisCliSession(port: number, commands: string[][], timeoutMs = 10_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port)], { timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`redis-cli session on ${port} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout.trimEnd().split('\n'));
      });
    // redis-cli splits stdin lines like a shell: JSON string quoting is a quoting it understands.
    child.stdin?.end(commands.map((args) => args.map((arg) => JSON.stringify(arg)).join(' ')).join('\n') + '\n');
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
