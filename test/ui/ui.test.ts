import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT, client, input, job, result, start, startWorker, uid, workdir } from '../support/harness.js';

/**
 * The burst as an operator sees it in the Temporal Web UI: one real burst on the local plugin, then
 * Debian's Chromium (never a downloaded browser) opens its page and we assert on what is rendered.
 * The history page is saved under test/.artifacts/; with UPDATE_SCREENSHOT=1 it replaces
 * docs/ui-burst-history.png, the picture the README shows.
 */

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? join(ROOT, 'docs', 'ui-burst-history.png') : join(ROOT, 'test', '.artifacts', 'ui-burst-history.png');
const VIEWPORT = { width: 1400, height: 1100 };
const STEP_MS = 60_000;

const TQ = uid('tq-ui');
const workflowId = uid('ui-burst');
let handle: WorkflowHandle;
let history: { events: number; activities: string[] };
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let page: Page;

/** Resolves once `loc` is visible and its text matches `text`, or throws naming what never showed. */
async function showsText(loc: Locator, text: string | RegExp, what: string): Promise<string> {
  const deadline = Date.now() + STEP_MS;
  let last = '';
  for (;;) {
    if (await loc.first().isVisible().catch(() => false)) {
      last = (await loc.first().textContent().catch(() => '')) ?? '';
      if (typeof text === 'string' ? last.includes(text) : text.test(last)) return last;
    }
    if (Date.now() > deadline) throw new Error(`the UI never showed ${what} (last text: ${JSON.stringify(last.slice(0, 200))})`);
    await page.waitForTimeout(200);
  }
}

/** The activity types named by the rows of the compact history view, top to bottom. */
async function compactActivities(): Promise<string[]> {
  const rows = await page.getByTestId('event-summary-row').allTextContents();
  return rows.map((r) => /Activity Type\s*(\w+)/.exec(r)?.[1]).filter((t): t is string => t !== undefined);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh --test, or apt-get install chromium)`);
  }
  // One real burst: two jobs on local nodes, run to completion before the browser looks at it.
  const c = await client();
  const w = await startWorker(TQ);
  try {
    const jobs = [job('hello', { command: ['hostname'] }), job('sleepy', { command: ['sh', '-c', 'sleep 1; echo done'] })];
    handle = await start(c, TQ, workflowId, input(jobs, { workdir: workdir('ui') }));
    const r = await result(handle);
    expect(r.outcome).toBe('completed');
    expect(r.status.jobs.map((j) => j.state)).toEqual(['completed', 'completed']);
  } finally {
    await w.stop();
  }
  // What the server recorded, to hold the page against.
  const h = await handle.fetchHistory();
  history = {
    events: h.events?.length ?? 0,
    activities: (h.events ?? []).flatMap((e) => {
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
      return name ? [name] : [];
    }),
  };
  expect(history.activities).toEqual(expect.arrayContaining(['provisionStep', 'runJobBatch', 'teardownStep']));

  // launch() runs Chromium on a fresh temporary profile of its own and deletes it on close.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: STEP_MS,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context = await browser.newContext({ viewport: VIEWPORT, timezoneId: 'UTC', locale: 'en-US' });
  context.setDefaultTimeout(STEP_MS);
  context.setDefaultNavigationTimeout(STEP_MS);
  page = await context.newPage();
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
});

describe('the Temporal Web UI shows a burst', () => {
  it('renders the workflow, its Completed status and the saga activities in its event history', async () => {
    const uiUrl = inject('temporalUiUrl');
    await page.goto(`${uiUrl}/namespaces/default/workflows/${workflowId}`, { waitUntil: 'domcontentloaded' });

    // Header: the workflow id, its status badge and its type.
    await showsText(page.getByTestId('workflow-id-heading'), workflowId, 'the workflow id heading');
    await showsText(page.getByTestId('execution-status'), /^\s*completed\s*$/i, 'the Completed status badge');
    await showsText(page.getByRole('link', { name: 'burstWorkflow' }), 'burstWorkflow', 'the burstWorkflow type');

    // The Event History tab: its badge counts every event the server recorded.
    const tab = page.getByTestId('history-tab');
    await showsText(tab, new RegExp(`Event History\\s*${history.events}\\b`), `an Event History tab counting ${history.events} events`);
    await tab.click();
    await page.waitForURL(/\/history(\?|$)/);

    // Full view: one row per event, from "Workflow Execution Started" to "Workflow Execution Completed".
    const rows = page.getByTestId('event-summary-row');
    await showsText(rows.filter({ hasText: 'Workflow Execution Completed' }), 'Workflow Execution Completed', 'the completion event');
    await showsText(rows.filter({ hasText: 'Workflow Execution Started' }), 'burstWorkflow', 'the start event naming burstWorkflow');
    await expect.poll(() => rows.count(), { timeout: STEP_MS }).toBe(history.events);
    for (const activity of ['provisionStep', 'runJobBatch', 'teardownStep']) {
      await showsText(rows.filter({ hasText: 'Activity Task Scheduled' }).filter({ hasText: activity }), activity, `a scheduled ${activity}`);
    }

    // Compact view, oldest first: one row per activity, in the order the saga ran them.
    await page.getByRole('button', { name: 'Compact' }).click();
    await expect.poll(() => compactActivities(), { timeout: STEP_MS }).toEqual([...history.activities].reverse());
    await page.getByRole('button', { name: 'Descending' }).click();
    await showsText(page.getByRole('button', { name: 'Ascending' }), 'Ascending', 'the Ascending order toggle');
    await expect.poll(() => compactActivities(), { timeout: STEP_MS }).toEqual(history.activities);
    const activities = await compactActivities();
    expect(activities[0]).toBe('selectBurstJobs');
    expect(activities.at(-1)).toBe('teardownStep');
    // Both one-node jobs run on the burst's one node, one after the other, in one batch.
    expect(activities.filter((a) => a === 'runJobBatch')).toHaveLength(1);

    // The picture for the README: header, tabs and the whole compact history.
    await page.mouse.move(0, 0);
    await page.getByText('teardownStep').last().waitFor({ state: 'visible' });
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});
