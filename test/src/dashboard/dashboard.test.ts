import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentRegistry, DeadLetterIndex, MailboxAdmin, SlotClient, type PublishedDeadLetter } from '@smtp-slots/core';
import { parseConfig, startCoordinator, type MailboxDetail, type RunningCoordinator } from '@smtp-slots/coordinator';
import { RedisProcess, waitFor } from '@smtp-slots/testkit';
import { launchChromium, pageErrors as collectPageErrors, saveScreenshot } from './chromium.js';
import { LoadWorker } from './load-worker.js';

const ADMIN_TOKEN = 'dashboard-admin-token-7f3a9c';
const MAILBOX = 'sales@contoso.test';
const BACKGROUND = 'alerts@contoso.test';

let redisServer: RedisProcess;
let redis: Redis;
let coordinator: RunningCoordinator;
let browser: Browser;
const clients: SlotClient[] = [];

beforeAll(async () => {
  redisServer = await RedisProcess.start();
  redis = new Redis(redisServer.url);
  const config = parseConfig({ redis: { url: redisServer.url }, http: { port: 0 }, adminToken: ADMIN_TOKEN, logLevel: 'silent' });
  if (!config.ok || config.help) throw new Error('bad coordinator config');
  coordinator = await startCoordinator(config.config);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.allSettled(clients.map((client) => client.close()));
  await coordinator?.close();
  await redis?.quit();
  await redisServer?.stop();
});

function agent(agentId: string, host: string): SlotClient {
  // epochGraceMs 0: this Redis just started and holds no earlier leases to drain.
  const client = new SlotClient({ redis, holder: { agentId, host, pid: process.pid }, epochGraceMs: 0 });
  clients.push(client);
  return client;
}

/** slot → `host·worker` as the page shows it for one mailbox (held or expiring tiles only). */
async function shownHolders(page: Page, mailbox: string): Promise<Record<string, string>> {
  return page.$$eval(`article[data-mailbox="${mailbox}"] li.slot`, (tiles) =>
    Object.fromEntries(tiles.filter((t) => t.getAttribute('data-holder')).map((t) => [t.getAttribute('data-slot'), t.getAttribute('data-holder')])),
  );
}

/**
 * Holds back the page's requests matching `matches` from `hold()` until `letGo()`, then lets the
 * held ones through to the server (so they answer with fresh state).
 */
function heldBack(page: Page, matches: (url: URL) => boolean): { hold(): Promise<void>; letGo(): Promise<void> } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const passing = new Set<Promise<void>>();
  return {
    hold: async () => {
      await page.route(matches, (route) => {
        const passed = gate.then(() => route.continue());
        passing.add(passed);
        return passed;
      });
    },
    letGo: async () => {
      open();
      // Held requests are continued before interception ends.
      await Promise.all(passing);
      await page.unroute(matches);
    },
  };
}

function expectedHolders(workers: LoadWorker[]): Record<string, string> {
  return Object.fromEntries(workers.filter((w) => w.current).map((w) => [String(w.current!.slot), w.label]));
}

describe('dashboard', () => {
  it('shows live slot holders while a load runs, and pauses a mailbox through the UI', async () => {
    const admin = new MailboxAdmin(redis);
    await admin.ensureMailbox(MAILBOX, { limit: 3 });
    await admin.ensureMailbox(BACKGROUND, { limit: 2 });
    // Six workers on two hosts contend for three slots; the test ends each hold itself.
    const web1 = agent('agent-web-1', 'web-1');
    const web2 = agent('agent-web-2', 'web-2');
    const workers = [
      ...['t1', 't2', 't3'].map((w) => new LoadWorker(web1, MAILBOX, 'web-1', w, { kind: 'manual' })),
      ...['t1', 't2', 't3'].map((w) => new LoadWorker(web2, MAILBOX, 'web-2', w, { kind: 'manual' })),
    ];
    // Background traffic that cycles on its own keeps events flowing on another mailbox.
    const background = ['b1', 'b2', 'b3'].map((w) => new LoadWorker(web2, BACKGROUND, 'web-2', w, { kind: 'random', minMs: 150, maxMs: 600 }));
    for (const worker of [...workers, ...background]) worker.start();
    // The heartbeats an agent process would send, for the agents overview.
    const registry = new AgentRegistry(redis);
    for (const [agentId, host, spoolDepth] of [['agent-web-1', 'web-1', 3], ['agent-web-2', 'web-2', 12]] as const) {
      await registry.heartbeat({ agentId, host, pid: process.pid, version: '0.1.0', spoolDepth, mailboxes: [MAILBOX, BACKGROUND], startedAt: Date.now() }, 60_000);
    }
    await waitFor(() => workers.filter((w) => w.current).length === 3, { message: 'three held slots' });

    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const pageErrors = collectPageErrors(page);
    const detailRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes(`/api/mailboxes/${encodeURIComponent(MAILBOX)}`)) detailRequests.push(request.url());
    });
    try {
      await page.goto(coordinator.url);
      await page.waitForSelector('#live[data-state="live"]');
      await page.waitForSelector('table.agents tr[data-agent="agent-web-2"]');
      expect(await page.textContent('table.agents tr[data-agent="agent-web-2"]')).toContain('12');

      // 1. Three held slots with their holders, exactly as the leases in Redis.
      await waitFor(async () => {
        const shown = await shownHolders(page, MAILBOX);
        return Object.keys(shown).length === 3 && JSON.stringify(shown) === JSON.stringify(expectedHolders(workers));
      }, { message: 'the page to show the three holders' });
      const card = page.locator(`article[data-mailbox="${MAILBOX}"]`);
      expect(await card.locator('[data-field="in-use"]').textContent()).toBe('3 in use');
      expect(await card.locator('[data-field="waiting"]').textContent()).toBe('3 waiting');
      for (const label of Object.values(expectedHolders(workers))) expect(await card.textContent()).toContain(label);
      // Each held tile names the agent holding it, in its text (not only in the tooltip).
      const agentOfHost: Record<string, string> = { 'web-1': 'agent-web-1', 'web-2': 'agent-web-2' };
      for (const worker of workers.filter((w) => w.current)) {
        expect(await card.locator(`li.slot[data-slot="${worker.current!.slot}"] .agent`).textContent()).toBe(agentOfHost[worker.host]);
      }

      // 2. A release hands slot 2 to the head waiter; the page follows through the event, without
      // reloading. The page's periodic full refresh (the list endpoint) is held back meanwhile:
      // it would otherwise also show the new holder, and may do so before the event's refresh.
      await page.evaluate(() => {
        (globalThis as unknown as { stillThisPage: boolean }).stillThisPage = true;
      });
      const fullRefreshes = heldBack(page, (url) => url.pathname === '/api/mailboxes');
      await fullRefreshes.hold();
      const leaving = workers.find((w) => w.current?.slot === 2)!;
      const oldToken = leaving.current!.token;
      const requestsBefore = detailRequests.length;
      leaving.releaseNow();
      const successor = await waitFor(() => workers.find((w) => w.current?.slot === 2 && w.current.token !== oldToken), { message: 'a new holder of slot 2' });
      await waitFor(async () => (await shownHolders(page, MAILBOX))['2'] === successor.label, { message: 'the page to show the new holder of slot 2' });
      expect(await page.evaluate(() => (globalThis as unknown as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
      // The change arrived as an event: the page asked for this mailbox's detail after it.
      await expect.poll(() => detailRequests.length).toBeGreaterThan(requestsBefore);
      expect(await card.locator('li.slot[data-slot="2"]').getAttribute('data-token')).toBe(String(successor.current!.token));
      await fullRefreshes.letGo();

      await saveScreenshot(page, 'dashboard');

      // 3. Admin actions: a wrong token is refused, the right one pauses the mailbox.
      expect(await card.locator('button.pause').count()).toBe(0);
      await page.fill('#admin-token', 'not-the-right-token-at-all');
      await page.click('#admin-form button[type="submit"]');
      await card.locator('button.pause').click();
      await page.waitForSelector('#notice[data-kind="error"]');
      expect(await page.textContent('#notice')).toContain('not valid');
      expect((await admin.getConfig(MAILBOX))?.paused).toBe(false);

      await page.fill('#admin-token', ADMIN_TOKEN);
      await page.click('#admin-form button[type="submit"]');
      expect(await page.inputValue('#admin-token')).toBe('');
      await card.locator('button.pause').click();
      const paused = await waitFor(async () => {
        const response = await fetch(`${coordinator.url}/api/mailboxes/${encodeURIComponent(MAILBOX)}`);
        const detail = (await response.json()) as MailboxDetail;
        return detail.paused ? detail : null;
      }, { message: 'the API to report the mailbox paused' });
      expect(paused.pauseReason).toBe('paused from the dashboard');
      await page.waitForSelector(`article[data-mailbox="${MAILBOX}"] .badge.paused`);
      await saveScreenshot(page, 'dashboard-paused');

      // The token is never rendered into the page.
      expect(await page.content()).not.toContain(ADMIN_TOKEN);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await Promise.all([...workers, ...background].map((worker) => worker.stop()));
    }
  });

  it('says it is loading, not that no mailbox matches, until the list arrives', async () => {
    const admin = new MailboxAdmin(redis);
    await admin.ensureMailbox('loading@contoso.test', { limit: 1 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const lists = heldBack(page, (url) => url.pathname === '/api/mailboxes');
    try {
      await lists.hold();
      await page.goto(coordinator.url, { waitUntil: 'domcontentloaded' });
      // The page's script runs (its event stream is open) while the list is held back.
      await page.waitForSelector('#live[data-state="live"]');
      expect(await page.isVisible('#empty')).toBe(false);
      expect(await page.isVisible('#loading')).toBe(true);
      expect(await page.textContent('#summary-mailboxes')).toBe('loading mailboxes…');
      await lists.letGo();
      await page.waitForSelector('article[data-mailbox="loading@contoso.test"]');
      expect(await page.isVisible('#loading')).toBe(false);
      expect(await page.isVisible('#empty')).toBe(false);
      await page.fill('#search', 'no-such-mailbox-anywhere');
      await page.waitForSelector('#empty', { state: 'visible' });
      expect(await page.textContent('#empty')).toBe('No mailbox matches.');
    } finally {
      await page.close();
    }
  });

  it('fits a 400 px wide screen: no sideways scrolling, agents stacked', async () => {
    const admin = new MailboxAdmin(redis);
    await admin.ensureMailbox('narrow@contoso.test', { limit: 3 });
    const registry = new AgentRegistry(redis);
    const agentId = 'agent-frontend-westeurope-0042';
    await registry.heartbeat({ agentId, host: 'web-frontend-westeurope-0042.contoso.internal', pid: 48213, version: '0.1.0', spoolDepth: 7, mailboxes: ['narrow@contoso.test'], startedAt: Date.now() }, 60_000);
    const page = await browser.newPage({ viewport: { width: 400, height: 800 } });
    try {
      await page.goto(coordinator.url);
      await page.waitForSelector(`table.agents tr[data-agent="${agentId}"]`);
      await page.waitForSelector('article[data-mailbox="narrow@contoso.test"]');
      expect(await page.$eval('html', (root) => root.scrollWidth)).toBeLessThanOrEqual(400);
      const agents = (await page.locator('table.agents').boundingBox())!;
      expect(agents.x + agents.width).toBeLessThanOrEqual(400);
      // Stacked, each value keeps its column's name.
      expect(await page.textContent(`table.agents tr[data-agent="${agentId}"] td[data-label="spool"]`)).toBe('7');
    } finally {
      await page.close();
    }
  });

  it('draws the newest 200 dead letters of a mailbox with hundreds, and counts them all', async () => {
    const admin = new MailboxAdmin(redis);
    const bulk = 'bulk@contoso.test';
    await admin.ensureMailbox(bulk, { limit: 2 });
    // The index as an agent publishes it from its spool.
    const letters: PublishedDeadLetter[] = Array.from({ length: 250 }, (_, i) => ({
      id: `dl-${String(i).padStart(3, '0')}`, agentId: 'agent-bulk', mailbox: bulk, messageId: `<bulk-${i}@contoso.test>`,
      recipients: [`user${i}@fabrikam.test`], subject: `invoice ${i}`, failedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      reason: '550 5.1.1 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', attempts: [],
    }));
    await new DeadLetterIndex(redis).replace('agent-bulk', letters);
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    try {
      await page.goto(`${coordinator.url}/#failures?mailbox=${encodeURIComponent(bulk)}`);
      const group = page.locator(`#view-failures section.dl-group[data-mailbox="${bulk}"]`);
      await group.waitFor();
      expect(await group.locator('tbody tr').count()).toBe(200);
      // Newest first: the last failure (minute 249) leads, minute 50 is the last one drawn.
      expect(await group.locator('tbody tr').first().getAttribute('data-dead-letter')).toBe('dl-249');
      expect(await group.locator('tbody tr').last().getAttribute('data-dead-letter')).toBe('dl-050');
      expect(await group.textContent()).toContain('The newest 200 of 250 are shown');
      expect(await page.textContent('#nav-dead-count')).toBe('250');
      expect(await page.textContent('#failures-summary')).toContain('250 dead letters');
      await page.click('nav.views a[data-view="overview"]');
      expect(await page.textContent(`article[data-mailbox="${bulk}"] [data-field="dead-letters"]`)).toBe('250 dead');
    } finally {
      await page.close();
      await new DeadLetterIndex(redis).replace('agent-bulk', []);
    }
  });

  it('lists 500 mailboxes and narrows them with the filter', async () => {
    const admin = new MailboxAdmin(redis);
    const names = Array.from({ length: 500 }, (_, i) => `team${String(i).padStart(3, '0')}@fabrikam.test`);
    await Promise.all(names.map((name) => admin.ensureMailbox(name, { limit: 3 })));
    const lease = await agent('agent-many', 'many-1').acquire('team042@fabrikam.test', { worker: 'w9' });

    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    try {
      await page.goto(coordinator.url);
      await waitFor(async () => (await page.locator('article[data-mailbox$="@fabrikam.test"]').count()) === 500, { message: '500 cards' });
      await page.fill('#search', 'TEAM04');
      await waitFor(async () => (await page.locator('article.mailbox').count()) === 10, { message: 'the filter to leave team040..team049' });
      const shown = await page.$$eval('article.mailbox', (cards) => cards.map((c) => c.getAttribute('data-mailbox')));
      expect(shown).toEqual(names.slice(40, 50));
      expect(await shownHolders(page, 'team042@fabrikam.test')).toEqual({ [String(lease.slot)]: 'many-1·w9' });
      await page.selectOption('#state-filter', 'busy');
      await waitFor(async () => (await page.locator('article.mailbox').count()) === 1, { message: 'only the busy mailbox' });
    } finally {
      await page.close();
      await lease.release();
    }
  });
});
