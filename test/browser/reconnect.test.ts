import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { trackCleanups } from '../helpers/fixtures.ts';
import { startService, tempDir, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// A server restart under an open dashboard: the page notices, says so, reconnects by itself and
// resumes the feed from its last cursor, so mail sent while it was away shows up too.

const addCleanup = trackCleanups();
const dir = tempDir();
after(() => dir.remove());
const DATABASE_PATH = join(dir.path, 'restart.db');

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
  await waitFor(async () => {
    const result = await svc.gql(
      `{ messages(filter: { status: [SENT] }, first: 500) { edges { node { id } } } }`,
    );
    const sent = new Set(result.data.messages.edges.map((edge: any) => edge.node.id));
    return ids.every((id) => sent.has(id));
  });
}

const rows = (page: Page) =>
  page.$$eval('tbody tr', (elements) =>
    elements.map((row) => `${(row as any).dataset.id}:${(row as any).dataset.status}`),
  );

test('after a restart the feed resumes from its cursor with no missing row', async () => {
  const browser = await launchBrowser();
  addCleanup(() => browser.close());

  const first = await startService({ DATABASE_PATH });
  const port = new URL(first.url).port;
  const page = await browser.open(`${first.url}/`);
  await page.waitForSelector('[data-connection="live"]');
  await page.evaluate(() => ((globalThis as any).marker = 'same page'));
  const before = await sendAll(first, 'before', 2);
  await page.waitForSelector(`tbody tr[data-id="${before[1]}"][data-status="SENT"]`);
  await allSent(first, before);

  await first.close();
  await page.waitForSelector('[data-connection="reconnecting"]');
  await browser.screenshot(page, 'desktop-reconnecting');

  // While the dashboard's server is down, another instance on the same database takes mail:
  // the page can only learn of it by replaying the log from its cursor.
  const stand_in = await startService({ DATABASE_PATH });
  const whileDown = await sendAll(stand_in, 'down', 3);
  await allSent(stand_in, whileDown);
  await stand_in.close();

  const second = await startService({ DATABASE_PATH, PORT: port });
  addCleanup(() => second.close());
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
      (e) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to fetch|Failed to load resource/.test(e),
    ),
    [],
  );
});

test('when retention pruned what the page missed, the page reads the current state again', async () => {
  const browser = await launchBrowser();
  addCleanup(() => browser.close());
  const path = join(dir.path, 'pruned.db');
  // Keep the two newest messages; prune every second.
  const retention = { RETENTION_MAX_MESSAGES: '2', RETENTION_INTERVAL_MS: '1000' };

  const first = await startService({ DATABASE_PATH: path });
  const port = new URL(first.url).port;
  const page = await browser.open(`${first.url}/`);
  await page.waitForSelector('[data-connection="live"]');
  const early = await sendAll(first, 'early', 3);
  await allSent(first, early);
  await page.waitForSelector(`tbody tr[data-id="${early[2]}"][data-status="SENT"]`);
  await first.close();
  await page.waitForSelector('[data-connection="reconnecting"]');

  const stand_in = await startService({ DATABASE_PATH: path, ...retention });
  const late = await sendAll(stand_in, 'late', 3);
  await allSent(stand_in, late);
  await waitFor(
    async () => (await stand_in.gql(`{ messages { totalCount } }`)).data.messages.totalCount === 2,
    { description: 'retention to keep two messages' },
  );
  await stand_in.close();

  const second = await startService({ DATABASE_PATH: path, PORT: port, ...retention });
  addCleanup(() => second.close());
  const kept = (await second.gql(`{ messages { edges { node { id } } } }`)).data.messages.edges.map(
    (edge: any) => `${edge.node.id}:SENT`,
  );
  assert.deepEqual(
    kept,
    [late[2], late[1]].map((id) => `${id}:SENT`),
  );
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
