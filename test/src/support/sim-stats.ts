import type { UserStats } from '@smtp-slots/exchange-sim';

/** One mailbox's stats from the simulator's HTTP API (`GET /stats/users/:address`), as an operator would read them. */
export async function fetchUserStats(httpUrl: string, address: string, messageIds = true): Promise<UserStats> {
  const response = await fetch(`${httpUrl}/stats/users/${encodeURIComponent(address)}?messageIds=${messageIds}`);
  if (!response.ok) throw new Error(`GET /stats/users/${address}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as UserStats;
}

/** Submitted Message-IDs the simulator never received. */
export function missingIds(stats: UserStats, submitted: string[]): string[] {
  const received = new Set(stats.messageIds ?? []);
  return submitted.filter((id) => !received.has(id));
}
