import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { startService, tempDir, type TestService } from '../helpers/service.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait-for.ts';

// A server restart under an open dashboard: the page notices, says so, reconnects by itself and
// resumes the feed from its last cursor, so mail sent while it was away shows up too. The page
// talks to the service through a TCP proxy that keeps one address across the restart (the
// restarted service listens wherever it is given; no port is given up and taken again).

const SEND = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`;

async function sendAll(svc: TestService, label: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const result = await svc.gql(SEND, {
      input: { to: `${label}${index}@example.com`, subject: `${label} ${index}`, text: 'Hi' },
    });
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    ids.push(result.data.sendEmail.id);
  }
  return ids;
}

async function allSent(svc: TestService, ids: string[]) {
  await waitFor(
    async () => {
      const result = await svc.gql(
        `{ messages(filter: { status: [SENT] }, first: 500) { edges { node { id } } } }`,
      );
      const sent = new Set(result.data.messages.edges.map((edge: any) => edge.node.id));
      return ids.every((id) => sent.has(id));
    },
    { description: `messages ${ids.join(', ')} to be SENT` },
  );
}

/**
 * Waits until `count` messages of this database have reached SENT. The statistics count them
 * whether or not retention has pruned them since: a message can be sent and pruned between two
 * looks at the message list, and would never be seen there.
 */
async function sentInAll(svc: TestService, count: number) {
  await waitFor(
    async () => (await svc.gql(`{ deliveryStats { sent } }`)).data.deliveryStats.sent === count,
    { description: `${count} messages sent in all` },
  );
}

const portOf = (svc: TestService) => Number(new URL(svc.url).port);

const rows = (page: Page) =>
  page.$$eval('tbody tr', (elements) =>
    elements.map((row) => `${(row as any).dataset.id}:${(row as any).dataset.status}`),
  );

test('after a restart the feed resumes from its cursor with no missing row', async (t) => {
  const DATABASE_PATH = join(tempDir(t).path, 'restart.db');
  const browser = await launchBrowser(t);
  const proxy = await startTcpProxy(t);

  const first = await startService(t, { DATABASE_PATH });
  proxy.setTarget({ port: portOf(first) });
  const page = await browser.open(`${proxy.url}/`);
  await page.waitForSelector('[data-connection="live"]');
  await page.evaluate(() => ((globalThis as any).marker = 'same page'));
  const before = await sendAll(first, 'before', 2);
  await page.waitForSelector(`tbody tr[data-id="${before[1]}"][data-status="SENT"]`);
  await allSent(first, before);

  proxy.setTarget(null);
  await first.close();
  await page.waitForSelector('[data-connection="reconnecting"]');
  await browser.screenshot(page, 'desktop-reconnecting');

  // While the dashboard's server is down, another instance on the same database takes mail:
  // the page can only learn of it by replaying the log from its cursor.
  const standIn = await startService(t, { DATABASE_PATH });
  const whileDown = await sendAll(standIn, 'down', 3);
  await allSent(standIn, whileDown);
  await standIn.close();

  const second = await startService(t, { DATABASE_PATH });
  proxy.setTarget({ port: portOf(second) });
  const afterRestart = await sendAll(second, 'after', 2);
  await allSent(second, afterRestart);

  // Newest first, each exactly once.
  const expected = [...before, ...whileDown, ...afterRestart]
    .sort((a, b) => Number(b) - Number(a))
    .map((id) => `${id}:SENT`);
  await waitFor(async () => JSON.stringify(await rows(page)) === JSON.stringify(expected), {
    timeoutMs: 20_000,
    description: `rows ${expected.join(' ')}`,
  });
  await page.waitForSelector('[data-connection="live"]');
  assert.equal(await page.evaluate(() => (globalThis as any).marker), 'same page');
  assert.deepEqual(
    browser.errors.filter(
      (e) => !/WebSocket|ERR_CONNECTION|Failed to fetch|Failed to load resource/.test(e),
    ),
    [],
  );
});

test('when retention pruned what the page missed, the page reads the current state again', async (t) => {
  const path = join(tempDir(t).path, 'pruned.db');
  const browser = await launchBrowser(t);
  const proxy = await startTcpProxy(t);
  // Keep the two newest messages; prune every second.
  const retention = { RETENTION_MAX_MESSAGES: '2', RETENTION_INTERVAL_MS: '1000' };

  const first = await startService(t, { DATABASE_PATH: path });
  proxy.setTarget({ port: portOf(first) });
  const page = await browser.open(`${proxy.url}/`);
  await page.waitForSelector('[data-connection="live"]');
  const early = await sendAll(first, 'early', 3);
  await allSent(first, early);
  await page.waitForSelector(`tbody tr[data-id="${early[2]}"][data-status="SENT"]`);
  proxy.setTarget(null);
  await first.close();
  await page.waitForSelector('[data-connection="reconnecting"]');

  const standIn = await startService(t, { DATABASE_PATH: path, ...retention });
  const late = await sendAll(standIn, 'late', 3);
  // Retention runs meanwhile: late[0] may be pruned as soon as it is SENT.
  await sentInAll(standIn, early.length + late.length);
  const keptNow = async () =>
    (await standIn.gql(`{ messages { edges { node { id status } } } }`)).data.messages.edges.map(
      (edge: any) => `${edge.node.id}:${edge.node.status}`,
    );
  const kept = [late[2], late[1]].map((id) => `${id}:SENT`);
  await waitFor(async () => JSON.stringify(await keptNow()) === JSON.stringify(kept), {
    description: `retention to keep ${kept.join(' ')}`,
  });
  await standIn.close();

  const second = await startService(t, { DATABASE_PATH: path, ...retention });
  proxy.setTarget({ port: portOf(second) });
  // The old cursor is refused (CURSOR_EXPIRED): the page shows what is there now, no error.
  await waitFor(async () => JSON.stringify(await rows(page)) === JSON.stringify(kept), {
    timeoutMs: 20_000,
    description: `rows ${kept.join(' ')}`,
  });
  await page.waitForSelector('[data-connection="live"]');
  assert.equal(await page.locator('.messages .banner').count(), 0);
  // And it is live again from its new cursor.
  const [fresh] = await sendAll(second, 'fresh', 1);
  await page.waitForSelector(`tbody tr[data-id="${fresh}"][data-status="SENT"]`);
});
