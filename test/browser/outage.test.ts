import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait-for.ts';

// What the page says and does while the service cannot be reached, and after it can again. The
// page talks to the service through a TCP proxy: a null target is a service that is down.

const SEND = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`;

async function send(svc: TestService, to: string): Promise<string> {
  const result = await svc.gql(SEND, { input: { to, subject: to, text: 'Hi' } });
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.sendEmail.id;
}

async function sent(svc: TestService, id: string) {
  await waitFor(
    async () =>
      (await svc.gql(`{ message(id: "${id}") { status } }`)).data.message.status === 'SENT',
    { description: `message ${id} to be SENT` },
  );
}

/**
 * Passes the page's graphql-ws traffic to the service, except its queueStats subscription while
 * `failure` is set: a subscribe then gets that error frame instead (what the server sends when,
 * say, its database does not answer), and `failNow()` ends the running one with it.
 */
async function interceptStats(context: BrowserContext) {
  const control = {
    failure: null as object | null,
    failNow: () => {},
  };
  await context.routeWebSocket(/\/graphql$/, (page) => {
    const server = page.connectToServer();
    let running: string | null = null;
    const fail = (id: string) =>
      page.send(JSON.stringify({ id, type: 'error', payload: [control.failure] }));
    control.failNow = () => {
      if (running === null) return;
      server.send(JSON.stringify({ id: running, type: 'complete' }));
      fail(running);
      running = null;
    };
    page.onMessage((message) => {
      const frame = JSON.parse(String(message));
      if (frame.type === 'subscribe' && /queueStats\(/.test(frame.payload.query)) {
        if (control.failure) return fail(frame.id);
        running = frame.id;
      }
      server.send(message);
    });
  });
  return control;
}

const INTERNAL = { message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };

/** Waits until the Sent counter shows a figure (it shows '–' until queueStats answers). */
async function countersShown(page: Page) {
  await waitFor(async () => /^\d/.test((await page.textContent('[data-counter="sent"]')) ?? ''), {
    description: 'the Sent counter to show a figure',
  });
}

const portOf = (svc: TestService) => Number(new URL(svc.url).port);
const footText = (page: Page) => page.textContent('.table-foot');

test('a message table that failed to load loads once the service is back, and never claims to be empty', async (t) => {
  const browser = await launchBrowser(t);
  const proxy = await startTcpProxy(t);
  const svc = await startService(t);
  proxy.setTarget({ port: portOf(svc) });
  const early = await send(svc, 'early@example.com');
  await sent(svc, early);
  const page = await browser.open(`${proxy.url}/`);
  await page.waitForSelector(`tbody tr[data-id="${early}"][data-status="SENT"]`);
  await page.waitForSelector('[data-connection="live"]');

  // The service goes away; a filter changed meanwhile asks for a page that cannot come.
  proxy.setTarget(null);
  await page.waitForSelector('[data-connection="reconnecting"]');
  await page.getByRole('checkbox', { name: 'Sent', exact: true }).check();
  await page.waitForSelector('.messages .banner[role="alert"]');
  assert.match((await page.textContent('.messages .banner')) ?? '', /could not be loaded.*again/i);
  await browser.screenshot(page, 'desktop-table-not-loaded');
  // Nothing was read: the page must not say there is nothing, nor count it.
  assert.equal(await page.locator('.messages .empty').count(), 0);
  assert.doesNotMatch((await footText(page)) ?? '', /Showing 0 of 0/);
  assert.equal(await page.locator('[data-total]').count(), 0);

  proxy.setTarget({ port: portOf(svc) });
  await page.waitForSelector(`tbody tr[data-id="${early}"]`, { timeout: 20_000 });
  await page.waitForSelector('.messages .banner', { state: 'detached' });
  await page.waitForSelector('[data-connection="live"]');
  // And it is live again: new mail shows up without a reload.
  const late = await send(svc, 'late@example.com');
  await page.waitForSelector(`tbody tr[data-id="${late}"][data-status="SENT"]`);
  assert.match((await footText(page)) ?? '', /Showing 2 of 2/);
  await page.close();
});

test('the header is Live again once a subscription the server failed has been resubscribed', async (t) => {
  // The service first, so that the browser (and its WebSocket route) is closed before it.
  const svc = await startService(t);
  const browser = await launchBrowser(t);
  const stats = await interceptStats(browser.context);
  stats.failure = {
    message: 'the database did not answer',
    extensions: { code: 'SERVICE_UNAVAILABLE' },
  };
  const page = await browser.open(`${svc.url}/`);
  // The socket stays open throughout: only the subscription fails.
  await page.waitForSelector('[data-connection="reconnecting"]');
  stats.failure = null;
  await countersShown(page);
  await page.waitForSelector('[data-connection="live"]');
  // And stays so while the counters tick.
  const id = await send(svc, 'after@example.com');
  await page.waitForSelector(`tbody tr[data-id="${id}"][data-status="SENT"]`);
  assert.equal(await page.getAttribute('[data-connection]', 'data-connection'), 'live');
  await page.close();
});

test('counters the server failed to send say they are not current, and come back', async (t) => {
  // The service first, so that the browser (and its WebSocket route) is closed before it.
  const svc = await startService(t);
  const browser = await launchBrowser(t);
  const stats = await interceptStats(browser.context);
  const page = await browser.open(`${svc.url}/`);
  await countersShown(page);
  const before = await page.textContent('[data-counter="sent"]');

  // INTERNAL_SERVER_ERROR on the running subscription and on every resubscribe for now.
  stats.failure = INTERNAL;
  stats.failNow();
  const note = page.locator('.stats [data-stale]');
  await note.waitFor();
  assert.match((await note.textContent()) ?? '', /Not current.*Trying again/);
  await browser.screenshot(page, 'desktop-stats-not-current');
  const id = await send(svc, 'while-stale@example.com');
  await sent(svc, id);

  stats.failure = null;
  await note.waitFor({ state: 'detached', timeout: 20_000 });
  await waitFor(async () => (await page.textContent('[data-counter="sent"]')) !== before, {
    description: `the Sent counter to move on from ${before}`,
  });
  await page.waitForSelector('[data-connection="live"]');
  await page.close();
});
