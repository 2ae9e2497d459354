import type { AcceptedMessage } from '@smtp-slots/exchange-sim';
import { waitFor } from '@smtp-slots/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useAgentScenarios } from '../support/agent-scenario.js';
import { E2E_ADMIN_TOKEN, startE2eCoordinator } from '../support/coordinator-client.js';
import { launchChromium, pageErrors as collectPageErrors, saveScreenshot } from './chromium.js';

const scenarios = useAgentScenarios();
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

const MARKUP_SUBJECT = '<img src="x" data-injected="yes"> Q3 <b>report</b>';

interface DeadLetterJson { id: string; agentId: string; messageId: string; reason: string }

/** Whether the page scrolls sideways at its current width. */
async function overflowsSideways(page: Page): Promise<boolean> {
  return page.$eval('html', (root) => root.scrollWidth > root.clientWidth);
}

/** Full-page screenshots `<name>-1400.png` and `<name>-400.png`; the page must fit 400 px. */
async function screenshotsAtBothWidths(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 1400, height: 900 });
  await saveScreenshot(page, `${name}-1400`);
  await page.setViewportSize({ width: 400, height: 860 });
  expect(await overflowsSideways(page), `${name} at 400 px`).toBe(false);
  await saveScreenshot(page, `${name}-400`);
  await page.setViewportSize({ width: 1400, height: 900 });
}

describe('dashboard: failures, message trail and history against real agents', () => {
  it('shows a dead letter with its reason, an admin retries it from the page, the trail and the charts follow', async () => {
    const redisUrl = inject('redisUrl');
    const s = await scenarios.start({ agents: 1, workers: 1, redisUrl });
    const api = await startE2eCoordinator(redisUrl);
    scenarios.after(() => api.coordinator.close());
    const from = s.mailbox.address;
    const delivered: AcceptedMessage[] = [];
    s.sim.onMessage((m) => delivered.push(m));
    const deliveriesOf = (messageId: string) => delivered.filter((m) => m.messageId === messageId);

    // Traffic for the history: three messages delivered.
    const good = await s.submit({ count: 3, threads: 1 });
    await s.waitForDelivery(good.accepted);
    // Then one the upstream refuses at the end of DATA: a dead letter on the agent.
    s.sim.setFaults({ contentRejected: true }, from);
    // Its subject is markup: the page must show it as text, not build elements from it.
    const bad = await s.submit({ count: 1, threads: 1, runId: `${s.run}-bad`, subject: () => MARKUP_SUBJECT });
    const messageId = bad.accepted[0]!;
    const dead = await waitFor(async () => {
      const { body } = await api.call('GET', `/api/dead-letters?mailbox=${encodeURIComponent(from)}`);
      return (body.deadLetters as DeadLetterJson[]).find((d) => d.messageId === messageId);
    }, { timeoutMs: 30_000, message: `${messageId} in GET /api/dead-letters\n${s.fleet.logs()}` });

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const pageErrors = collectPageErrors(page);
    try {
      await page.goto(api.coordinator.url);

      // 1. The mailbox card carries the dead-letter count; it leads to the failures view.
      const card = page.locator(`article[data-mailbox="${from}"]`);
      await card.locator('[data-field="dead-letters"]').waitFor();
      expect(await card.locator('[data-field="dead-letters"]').textContent()).toBe('1 dead');
      await waitFor(async () => (await card.locator('[data-field="failed"]').textContent()) === '1', { message: 'the failed counter on the card' });
      await screenshotsAtBothWidths(page, 'dashboard-overview');
      await card.locator('[data-field="dead-letters"]').click();
      const row = page.locator(`#view-failures tr[data-dead-letter="${dead.id}"]`);
      await row.waitFor();
      expect(await row.locator('[data-field="reason"]').textContent()).toBe(dead.reason);
      expect(dead.reason).toMatch(/^554 5\.6\.0 /);
      expect(await row.locator('td[data-label="agent"]').textContent()).toContain(dead.agentId);
      expect(await row.locator('td[data-label="Message-ID"]').textContent()).toBe(messageId);
      expect(await row.locator('td[data-label="subject"]').textContent()).toBe(MARKUP_SUBJECT);
      expect(await page.locator('[data-injected]').count()).toBe(0);
      // Without the admin token there is nothing to click.
      expect(await page.locator('#view-failures button.retry').count()).toBe(0);
      await screenshotsAtBothWidths(page, 'dashboard-failures');

      // 2. The upstream is fixed; the admin retries from the page, after confirming.
      s.sim.setFaults({ contentRejected: null }, from);
      await page.fill('#admin-token', E2E_ADMIN_TOKEN);
      await page.click('#admin-form button[type="submit"]');
      // Purge asks first; cancelled, nothing is sent and the dead letter stays.
      await row.locator('button.purge').click();
      await page.locator('dialog#confirm').waitFor();
      await page.locator('dialog#confirm button[value="cancel"]').click();
      await page.locator('dialog#confirm').waitFor({ state: 'detached' });
      expect((await api.call('GET', '/api/dead-letters/commands')).body.commands).toEqual([]);
      expect(await row.count()).toBe(1);
      await row.locator('button.retry').click();
      const dialog = page.locator('dialog#confirm');
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain(messageId);
      await dialog.locator('button[value="confirm"]').click();
      await page.waitForSelector('#notice[data-kind="info"]:has-text("retry requested")');
      await waitFor(() => deliveriesOf(messageId).length === 1, { timeoutMs: 10_000, message: `the retried message at the simulator\n${s.fleet.logs()}` });
      await page.locator('#failures-empty').waitFor({ timeout: 15_000 });
      expect(await card.locator('[data-field="dead-letters"]').count()).toBe(0);
      expect(await page.locator('#nav-dead-count').isHidden()).toBe(true);

      // 3. A retry for a stopped agent shows as pending, and is carried out when it is back.
      s.sim.setFaults({ contentRejected: true }, from);
      const late = await s.submit({ count: 1, threads: 1, runId: `${s.run}-late` });
      const lateId = late.accepted[0]!;
      const lateRow = page.locator(`#view-failures tr[data-agent="${dead.agentId}"]:has-text("${lateId}")`);
      await lateRow.waitFor({ timeout: 30_000 });
      const agent = s.fleet.agents[0]!;
      expect((await agent.stop(20_000))?.code).toBe(0);
      s.sim.setFaults({ contentRejected: null }, from);
      await lateRow.locator('button.retry').click();
      await page.locator('dialog#confirm button[value="confirm"]').click();
      await page.waitForSelector(`#notice:has-text("waiting for ${dead.agentId} (offline)")`);
      await lateRow.locator('.badge.pending').waitFor();
      expect(await lateRow.locator('.badge.pending').textContent()).toBe('retry pending');
      expect(await lateRow.locator('.badge.offline').textContent()).toBe('offline');
      await screenshotsAtBothWidths(page, 'dashboard-failures-pending');
      expect(deliveriesOf(lateId)).toEqual([]);
      await agent.restart();
      await waitFor(() => deliveriesOf(lateId).length === 1, { timeoutMs: 20_000, message: `the pending retry carried out after the restart\n${s.fleet.logs()}` });
      await page.locator('#failures-empty').waitFor({ timeout: 15_000 });

      // 4. The message search shows its whole trail, the refusal and the delivery.
      await page.click('nav.views a[data-view="messages"]');
      await page.fill('#message-query', messageId);
      await page.click('#message-search button[type="submit"]');
      const trail = page.locator(`#view-messages article.trail[data-message-id="${messageId}"]`);
      await trail.waitFor();
      expect(await trail.getAttribute('data-status')).toBe('sent');
      expect(await trail.locator('.attempts li .outcome').allTextContents()).toEqual(['accepted', 'dead', 'retried', 'sent']);
      expect(await trail.locator('.attempts li[data-outcome="dead"] .reply').textContent()).toBe(dead.reason);
      await screenshotsAtBothWidths(page, 'dashboard-messages');

      // 5. History: the agent's per-minute counts of the last minutes, drawn by the chart.
      await page.click('nav.views a[data-view="overview"]');
      await card.locator('a.history-link').click();
      const sentChart = page.locator('#view-history figure[data-chart="sent"]');
      // Three, then the two retried ones; two failures before them.
      await waitFor(async () => (await sentChart.getAttribute('data-total-sent')) === '5', { timeoutMs: 40_000, message: 'five sent messages on the chart' });
      expect(await sentChart.getAttribute('data-total-failed')).toBe('2');
      expect(await sentChart.getAttribute('data-points')).toBe('60');
      const lastActive = Date.parse((await sentChart.getAttribute('data-last-non-zero'))!);
      expect(Date.now() - lastActive).toBeLessThan(5 * 60_000);
      expect(await page.locator('#view-history figure[data-chart="slot-wait"] canvas').count()).toBe(1);
      expect((await sentChart.locator('canvas').boundingBox())!.width).toBeGreaterThan(300);
      await screenshotsAtBothWidths(page, 'dashboard-history');
      await page.click('#view-history button[data-range="24h"]');
      await waitFor(async () => (await sentChart.getAttribute('data-points')) === '1440', { message: 'the 24 h range' });
      expect(await sentChart.getAttribute('data-total-sent')).toBe('5');

      // No secret reaches the page: neither the admin token nor the upstream password.
      const html = await page.content();
      expect(html).not.toContain(E2E_ADMIN_TOKEN);
      expect(html).not.toContain(s.mailbox.password);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
