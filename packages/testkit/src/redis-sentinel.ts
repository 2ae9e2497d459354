import { parseInfo, redisCli } from './redis-cli.js';
import type { NodeAddress } from './redis-cluster.js';
import { RedisProcess } from './redis-process.js';
import { guardPort } from './port-guard.js';
import { waitFor } from './wait-for.js';

export interface RedisSentinelSetOptions {
  /** Master name the sentinels monitor. Default `mymaster`. */
  name?: string;
  /** Replicas of the primary. Default 1. */
  replicas?: number;
  /** Sentinel processes. Default 3. */
  sentinels?: number;
  /** Sentinels that must agree the primary is down. Default majority of `sentinels`. */
  quorum?: number;
  /** `sentinel down-after-milliseconds`. Default 1000. */
  downAfterMs?: number;
  /** `sentinel failover-timeout`. Default 3000. */
  failoverTimeoutMs?: number;
}

/**
 * A real Sentinel deployment: one primary, its replicas and N sentinels (`redis-server <conf>
 * --sentinel`), all on free ports with short failure-detection timeouts. `start()` resolves when
 * the replicas are in sync and every sentinel knows every replica and every other sentinel, so
 * that a failover can actually happen.
 */
export class RedisSentinelSet {
  private readonly guards: Array<() => Promise<void>> = [];

  private constructor(
    readonly name: string,
    /** Data nodes, the initial primary first. */
    readonly nodes: RedisProcess[],
    readonly sentinels: RedisProcess[],
  ) {}

  static async start(options: RedisSentinelSetOptions = {}): Promise<RedisSentinelSet> {
    const name = options.name ?? 'mymaster';
    const sentinelCount = options.sentinels ?? 3;
    const quorum = options.quorum ?? Math.floor(sentinelCount / 2) + 1;
    const nodes: RedisProcess[] = [];
    const sentinels: RedisProcess[] = [];
    const set = new RedisSentinelSet(name, nodes, sentinels);
    try {
      const primary = await RedisProcess.start();
      nodes.push(primary);
      const replicas = await Promise.all(Array.from({ length: options.replicas ?? 1 }, () =>
        RedisProcess.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] })));
      nodes.push(...replicas);
      const configText = [
        `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
        `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 3000}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n');
      sentinels.push(...await Promise.all(Array.from({ length: sentinelCount }, () =>
        RedisProcess.start({ configText, args: ['--sentinel'] }))));
      await set.waitForTopology(primary, replicas.length);
      return set;
    } catch (error) {
      await set.stop();
      throw error;
    }
  }

  /** Sentinel addresses in the shape ioredis takes (`sentinels: [...]`). */
  get sentinelAddresses(): NodeAddress[] {
    return this.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  /** The data node the sentinels currently name as primary. */
  async primary(): Promise<RedisProcess> {
    const port = await this.masterPort(this.sentinels[0]!);
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`sentinels name unknown primary port ${port}`);
    return node;
  }

  /**
   * SIGKILLs the current primary (its in-memory data is gone) and returns it. Its port stays
   * reserved until stop(): sentinels would turn any Redis appearing there into a replica.
   */
  async killPrimary(): Promise<RedisProcess> {
    const primary = await this.primary();
    await primary.kill();
    this.guards.push(await guardPort(primary.port));
    return primary;
  }

  /**
   * Waits until every live sentinel names a primary other than `from` and that node answers as
   * a writable master. Returns the new primary.
   */
  async waitForFailover(from: RedisProcess, timeoutMs = 20_000): Promise<RedisProcess> {
    return waitFor(async () => {
      const ports = new Set<number>();
      for (const sentinel of this.sentinels) ports.add(await this.masterPort(sentinel));
      if (ports.size !== 1 || ports.has(from.port)) return undefined;
      const node = this.nodes.find((n) => ports.has(n.port));
      if (!node) return undefined;
      const role = parseInfo(await redisCli(node.port, ['info', 'replication'])).get('role');
      return role === 'master' ? node : undefined;
    }, { timeoutMs, intervalMs: 100, message: `sentinels to fail over from port ${from.port}` });
  }

  /**
   * Asynchronous replication losing writes, made deterministic: the replicas are cut off from the
   * primary (a wrong `masterauth` keeps them from resyncing) while sentinels still consider them
   * promotable. Writes the primary accepts from now on are lost if it dies.
   */
  async cutReplication(): Promise<void> {
    const primary = await this.primary();
    for (const node of this.nodes) {
      if (node !== primary) await redisCli(node.port, ['config', 'set', 'masterauth', 'replication-cut-by-test']);
    }
    await redisCli(primary.port, ['client', 'kill', 'type', 'replica']);
    await waitFor(async () => parseInfo(await redisCli(primary.port, ['info', 'replication'])).get('connected_slaves') === '0',
      { message: 'replicas to be disconnected' });
  }

  async stop(): Promise<void> {
    await Promise.all(this.sentinels.map((p) => p.stop()));
    await Promise.all(this.nodes.map((p) => p.stop()));
    await Promise.all(this.guards.splice(0).map((free) => free()));
  }

  private async masterPort(sentinel: RedisProcess): Promise<number> {
    const out = await redisCli(sentinel.port, ['sentinel', 'get-master-addr-by-name', this.name]);
    return Number(out.trim().split('\n')[1]);
  }

  private async waitForTopology(primary: RedisProcess, replicas: number): Promise<void> {
    await waitFor(async () => {
      const info = parseInfo(await redisCli(primary.port, ['info', 'replication']));
      const online = [...info.entries()].filter(([k, v]) => /^slave\d+$/.test(k) && v.includes('state=online'));
      if (online.length !== replicas) return false;
      for (const sentinel of this.sentinels) {
        const master = parseFlatPairs(await redisCli(sentinel.port, ['sentinel', 'master', this.name]));
        if (Number(master.get('num-slaves')) !== replicas) return false;
        if (Number(master.get('num-other-sentinels')) !== this.sentinels.length - 1) return false;
      }
      return true;
    }, { timeoutMs: 20_000, intervalMs: 100, message: 'replicas in sync and sentinels to discover each other' });
  }
}

/** redis-cli prints a flat key/value array one item per line. */
function parseFlatPairs(text: string): Map<string, string> {
  const lines = text.trim().split('\n');
  const pairs = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i += 2) pairs.set(lines[i]!, lines[i + 1]!);
  return pairs;
}
