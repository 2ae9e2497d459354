import { execFile } from 'node:child_process';
import { getFreePort } from './free-port.js';
import { parseInfo, redisCli } from './redis-cli.js';
import { guardPort } from './port-guard.js';
import { RedisProcess } from './redis-process.js';
import { waitFor } from './wait-for.js';

export interface RedisClusterOptions {
  /** Number of masters; Redis Cluster needs at least 3. Default 3. */
  masters?: number;
  /** Replicas per master (0 = no failover possible). Default 0. */
  replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a node may be unreachable before it is considered failing. Default 1000. */
  nodeTimeoutMs?: number;
  /** Extra redis-server arguments for every node. */
  args?: string[];
}

/** An address in the shape ioredis' Cluster takes as startup nodes. */
export interface NodeAddress {
  host: string;
  port: number;
}

/**
 * A real Redis Cluster: `masters` (+ replicas) redis-server processes with `--cluster-enabled yes`
 * on free ports, joined by `redis-cli --cluster create`. `start()` resolves once every node
 * reports `cluster_state:ok` with all 16384 hash slots covered.
 */
export class RedisCluster {
  private readonly guards: Array<() => Promise<void>> = [];

  private constructor(readonly nodes: RedisProcess[], private readonly options: Required<Omit<RedisClusterOptions, 'args'>>) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const masters = options.masters ?? 3;
    const replicasPerMaster = options.replicasPerMaster ?? 0;
    const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
    if (masters < 3) throw new Error('Redis Cluster needs at least 3 masters');
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(nodeTimeoutMs), ...(options.args ?? [])];
    const count = masters * (1 + replicasPerMaster);
    // The cluster bus defaults to port + 10000, which nobody checked was free: pick it too.
    const started = await Promise.allSettled(Array.from({ length: count }, async () =>
      RedisProcess.start({ args: [...args, '--cluster-port', String(await getFreePort())] })));
    const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const cluster = new RedisCluster(nodes, { masters, replicasPerMaster, nodeTimeoutMs });
    try {
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      await createCluster(nodes.map((n) => `127.0.0.1:${n.port}`), replicasPerMaster);
      await cluster.waitForState('ok');
      if (replicasPerMaster > 0) await cluster.waitForReplicasInSync();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Startup nodes for `new Cluster(...)`: every node of the cluster. */
  get startupNodes(): NodeAddress[] {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  /** `CLUSTER INFO` of one node as a map (`cluster_state`, `cluster_slots_ok`, ...). */
  async info(node: RedisProcess = this.nodes[0]!): Promise<Map<string, string>> {
    return parseInfo(await redisCli(node.port, ['cluster', 'info']));
  }

  /** The master currently serving `key`'s hash slot, as seen by a live node's `CLUSTER NODES`. */
  async masterFor(key: string): Promise<RedisProcess> {
    for (const node of this.nodes) {
      if (!(await isAlive(node))) continue;
      const slot = Number((await redisCli(node.port, ['cluster', 'keyslot', key])).trim());
      const port = masterPortForSlot(await redisCli(node.port, ['cluster', 'nodes']), slot);
      const master = this.nodes.find((n) => n.port === port);
      if (master) return master;
    }
    throw new Error(`no live master serves the hash slot of ${key}`);
  }

  /**
   * Waits until every live node reports `cluster_state:<state>`; for `ok` also that all hash
   * slots are served and the live nodes agree on the membership.
   */
  async waitForState(state: 'ok' | 'fail', timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => {
      for (const node of this.nodes) {
        if (!(await isAlive(node))) continue;
        const info = await this.info(node);
        if (info.get('cluster_state') !== state) return false;
        if (state === 'ok' && info.get('cluster_slots_ok') !== '16384') return false;
        if (state === 'ok' && Number(info.get('cluster_known_nodes')) < this.nodes.length) return false;
      }
      return true;
    }, { timeoutMs, intervalMs: 100, message: `cluster_state:${state}` });
  }

  /**
   * After `killed` (a master with a replica) died: waits until every live node has marked it
   * failed, a replica has taken over its hash slots and the cluster is `ok` again.
   */
  async waitForFailover(killed: RedisProcess, timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => {
      for (const node of this.nodes) {
        if (node === killed || !(await isAlive(node))) continue;
        if ((await this.info(node)).get('cluster_state') !== 'ok') return false;
        const line = (await redisCli(node.port, ['cluster', 'nodes'])).split('\n')
          .find((l) => l.split(' ')[1]?.startsWith(`127.0.0.1:${killed.port}@`));
        const [, , flags, , , , , , ...ranges] = (line ?? '').trim().split(' ');
        if (!flags?.split(',').includes('fail') || ranges.length > 0) return false;
      }
      return true;
    }, { timeoutMs, intervalMs: 100, message: `a replica to replace the master on port ${killed.port}` });
  }

  /** A replica that never synced refuses to fail over (its data age is unknown): wait for the links. */
  private async waitForReplicasInSync(): Promise<void> {
    await waitFor(async () => {
      let replicas = 0;
      for (const node of this.nodes) {
        const info = parseInfo(await redisCli(node.port, ['info', 'replication']));
        if (info.get('role') !== 'slave') continue;
        if (info.get('master_link_status') !== 'up') return false;
        replicas += 1;
      }
      return replicas === this.options.masters * this.options.replicasPerMaster;
    }, { timeoutMs: 20_000, intervalMs: 100, message: 'cluster replicas to sync with their masters' });
  }

  /**
   * SIGKILLs a node. Its port stays reserved until stop(): peers and clients keep reconnecting
   * to it, and must not reach some other test's Redis there.
   */
  async killNode(node: RedisProcess): Promise<void> {
    await node.kill();
    this.guards.push(await guardPort(node.port));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    await Promise.all(this.guards.splice(0).map((free) => free()));
  }
}

async function isAlive(node: RedisProcess): Promise<boolean> {
  try {
    return (await redisCli(node.port, ['ping'], 1_000)).trim() === 'PONG';
  } catch {
    return false;
  }
}

/** Parses `CLUSTER NODES` lines: `<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slots...>`. */
function masterPortForSlot(nodesText: string, slot: number): number | undefined {
  for (const line of nodesText.split('\n')) {
    const [, address, flags, , , , , , ...ranges] = line.trim().split(' ');
    if (!address || !flags || !flags.split(',').includes('master') || flags.includes('fail')) continue;
    for (const range of ranges) {
      if (range.startsWith('[')) continue; // a slot being migrated
      const [from, to = from] = range.split('-').map(Number);
      if (from !== undefined && to !== undefined && slot >= from && slot <= to) return Number(address.split(/[:@]/)[1]);
    }
  }
  return undefined;
}

function createCluster(addresses: string[], replicasPerMaster: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
      { timeout: 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error || !stdout.includes('[OK] All 16384 slots covered')) {
          reject(new Error(`redis-cli --cluster create failed: ${stderr.trim() || stdout.trim() || error?.message}`));
        } else resolve();
      });
  });
}
