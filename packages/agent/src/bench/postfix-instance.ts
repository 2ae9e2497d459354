import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { getFreePort, waitFor } from '@smtp-slots/testkit';
import { smtpSourceRate, type SmtpSourceRun } from './smtp-source.js';

/** Where Debian's package `postfix` puts the daemons (`postconf -d daemon_directory`). */
const MASTER = '/usr/lib/postfix/sbin/master';
const POSTFIX = '/usr/sbin/postfix';
const MAIL_OWNER = 'postfix';

/** A private Postfix on a free loopback port: its own config, queue and data directories. */
export interface PostfixInstance {
  port: number;
  stop(): Promise<void>;
}

/** Why Postfix cannot run here, or undefined when it can. */
export function postfixUnavailable(): string | undefined {
  for (const binary of [MASTER, POSTFIX]) if (!existsSync(binary)) return `Postfix is not installed (${binary} missing; apt-get install postfix)`;
  if (userInfo().uid !== 0) return 'Postfix\'s master daemon only starts as root';
  if (!userIds(MAIL_OWNER)) return `user ${MAIL_OWNER} does not exist (the postfix package creates it)`;
  return undefined;
}

function userIds(user: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
}

/**
 * Starts Postfix's master in the foreground with a config directory of its own (the system's
 * /etc/postfix is neither read nor changed). smtpd accepts for any recipient from loopback; the
 * queue manager hands every message to the discard transport. Queue files are fsynced as in any
 * Postfix (cleanup's default), so it does the same durable queueing as the agent's spool.
 */
export async function startPostfix(): Promise<PostfixInstance> {
  const port = await getFreePort();
  // Postfix's daemons run as the postfix user: the directories must be reachable for it.
  const root = mkdtempSync(join(tmpdir(), 'smtp-slots-bench-postfix-'));
  chmodSync(root, 0o755);
  const dirs = { etc: join(root, 'etc'), queue: join(root, 'queue'), data: join(root, 'data') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  writeFileSync(join(dirs.etc, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${dirs.queue}`,
    `data_directory = ${dirs.data}`,
    `mail_owner = ${MAIL_OWNER}`,
    'myhostname = bench.localdomain',
    'mydestination =',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    'default_transport = discard',
    'relay_transport = discard',
    'local_transport = discard',
    'alias_maps =',
    'alias_database =',
    // Like the agent's relay, which does no reverse lookup of its local clients.
    'smtpd_peername_lookup = no',
    `maillog_file = ${join(root, 'maillog')}`,
    `maillog_file_prefixes = ${root}`,
    '',
  ].join('\n'));
  // No chroot (a private instance has no chroot jail set up) and only the services this needs.
  const services = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup', 'cleanup unix n - n - 0 cleanup', 'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite', 'bounce unix - - n - 0 bounce', 'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce', 'verify unix - - n - 1 verify', 'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap', 'showq unix n - n - - showq', 'error unix - - n - - error',
    'retry unix - - n - - error', 'discard unix - - n - - discard', 'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache', 'postlog unix-dgram n - n - 1 postlogd',
  ];
  writeFileSync(join(dirs.etc, 'master.cf'), `${services.join('\n')}\n`);
  // master takes its lock in data_directory as the mail owner.
  const owner = userIds(MAIL_OWNER)!;
  chownSync(dirs.data, owner.uid, owner.gid);
  // The queue's subdirectories with the owners and modes Postfix insists on (what `postfix start` does first).
  execFileSync(POSTFIX, ['-c', dirs.etc, 'post-install', 'create-missing'], { stdio: 'ignore' });
  const master: ChildProcess = spawn(MASTER, ['-c', dirs.etc, '-d'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  master.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => master.once('exit', () => resolve()));
  try {
    const state = await waitFor(async () => {
      if (master.exitCode !== null) return 'exited';
      return smtpSourceRate(port, { sessions: 1, messages: 1, bodyBytes: 10, from: 'probe@localhost', to: 'probe@localhost' }).then(() => 'up', () => '');
    }, { timeoutMs: 20_000, intervalMs: 200, message: 'Postfix answers SMTP' });
    if (state === 'exited') throw new Error(`Postfix master exited: ${stderr.trim() || lastLines(join(root, 'maillog'))}`);
  } catch (error) {
    master.kill('SIGTERM');
    await exited;
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    stop: async () => {
      // master stops its children on SIGTERM.
      master.kill('SIGTERM');
      await exited;
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function lastLines(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ') : 'no log written';
}

/** Postfix's rate for the same smtp-source run, or why there is none. */
export async function postfixRate(run: SmtpSourceRun, warmUp: SmtpSourceRun): Promise<number | string> {
  const why = postfixUnavailable();
  if (why) return why;
  let postfix: PostfixInstance;
  try {
    postfix = await startPostfix();
  } catch (error) {
    return (error as Error).message;
  }
  try {
    await smtpSourceRate(postfix.port, warmUp);
    return await smtpSourceRate(postfix.port, run);
  } finally {
    await postfix.stop();
  }
}
