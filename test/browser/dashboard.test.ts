import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, PHONE, type TestBrowser } from '../helpers/browser.ts';
import { fileScope } from '../helpers/scope.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The dashboard in a real browser against the real service: what a person sees and does.

const REJECTED = 'nobody@example.com';
const SEND = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`;

let smtp: TestSmtpServer;
let svc: TestService;
let browser: TestBrowser;

before(async () => {
  smtp = await startTestSmtpServer(fileScope, {
    rejectRecipients: (address) =>
      address === REJECTED
        ? { code: 550, message: `5.1.1 <${address}>: Recipient address rejected: User unknown` }
        : null,
  });
  svc = await startService(fileScope, {
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
  });
  browser = await launchBrowser(fileScope);
});
after(() => {
  assert.deepEqual(browser.errors, [], 'the page logged errors');
});

async function send(to: string, subject: string): Promise<string> {
  const result = await svc.gql(SEND, { input: { to, subject, text: 'Hello' } });
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.sendEmail.id;
}

async function statusOf(id: string): Promise<string> {
  return (await svc.gql(`{ message(id: "${id}") { status } }`)).data.message.status;
}

async function openDashboard(path = '/', viewport?: { width: number; height: number }) {
  const page = await browser.open(`${svc.url}${path}`, viewport);
  await page.waitForSelector('[data-connection="live"]');
  await page.waitForSelector('.table-foot');
  // Neither says the first page of messages is in: the socket opens for the stats panel, and the
  // table's foot shows while its query is still out. Rows (or the empty note) mean it is.
  await page.waitForSelector('tbody tr, .messages .empty');
  return page;
}

const rowIds = (page: Page) =>
  page.$$eval('tbody tr', (rows) => rows.map((row) => (row as any).dataset.id as string));
const rowStatuses = (page: Page) =>
  page.$$eval('tbody tr', (rows) => rows.map((row) => (row as any).dataset.status as string));

describe('the dashboard', () => {
  test('a message sent through GraphQL appears on top and turns SENT without a reload', async () => {
    const page = await openDashboard();
    await page.evaluate(() => ((globalThis as any).marker = 42));
    const first = await send('alice@example.com', 'Welcome aboard');
    await page.waitForSelector(`tbody tr[data-id="${first}"][data-status="SENT"]`);
    const second = await send('bob@example.com', 'Your receipt');
    await page.waitForSelector(`tbody tr[data-id="${second}"][data-status="SENT"]`);
    assert.deepEqual((await rowIds(page)).slice(0, 2), [second, first]);
    const row = page.locator(`tbody tr[data-id="${second}"]`);
    assert.equal(await row.locator('.col-recipient').textContent(), 'bob@example.com');
    assert.equal(await row.locator('.col-subject').textContent(), 'Your receipt');
    assert.match((await row.locator('.col-attempts').textContent()) ?? '', /^1\//);
    // The same document all along: the row came over the subscription, not a reload.
    assert.equal(await page.evaluate(() => (globalThis as any).marker), 42);
    await waitFor(async () => (await page.textContent('[data-counter="sent"]'))?.trim() === '2', {
      description: 'the live Sent counter',
    });
    await page.close();
  });

  test('a message without a subject says so, in its row and its detail', async () => {
    const page = await openDashboard();
    const id = await send('nosubject@example.com', '');
    const row = page.locator(`tbody tr[data-id="${id}"]`);
    await row.waitFor();
    assert.equal(await row.locator('.col-subject').textContent(), '(no subject)');
    await row.click();
    await page.waitForSelector(`[data-message-id="${id}"] #detail-title .muted`);
    assert.equal(await page.textContent('#detail-title'), '(no subject)');
    await page.close();
  });

  test('a link to a message that does not exist says so, title included', async () => {
    const page = await openDashboard('/?message=999999');
    await page.waitForSelector('[data-message-id="999999"] [role="alert"]');
    assert.match((await page.textContent('.detail [role="alert"]')) ?? '', /no message 999999/);
    // Not still loading: the title says what the panel found.
    assert.equal(await page.textContent('#detail-title'), 'No such message');
    await page.close();
  });

  test('a rejected recipient shows the server reply and the hint in the detail panel', async () => {
    const page = await openDashboard();
    const id = await send(REJECTED, 'Password reset');
    await page.waitForSelector(`tbody tr[data-id="${id}"][data-status="ABANDONED"]`);
    const errorCell = page.locator(`tbody tr[data-id="${id}"] .col-error`);
    assert.match((await errorCell.textContent()) ?? '', /recipient rejected\s+550 5\.1\.1/);

    await page.click(`tbody tr[data-id="${id}"]`);
    await page.waitForSelector('.detail [data-hint]');
    const api = await svc.gql(
      `{ message(id: "${id}") { lastError { hint response enhancedStatus } } }`,
    );
    const lastError = api.data.message.lastError;
    assert.ok(lastError.hint, 'the API gives a hint for 5.1.1');
    const hint = await page.textContent('.detail [data-hint]');
    assert.ok(hint?.includes(lastError.hint), `hint shown: ${hint}`);
    const detail = (await page.textContent('.detail')) ?? '';
    assert.ok(detail.includes(lastError.response), 'the verbatim SMTP reply is shown');
    assert.match(detail, /Attempt 1\s*failed/);
    assert.match(detail, /SMTP transcript/);
    assert.match(detail, /Sent through\s*the API/, 'queued through GraphQL, not SMTP submission');
    assert.ok(
      new URL(page.url()).searchParams.get('message') === id,
      'the open message is in the URL',
    );
    await browser.screenshot(page, 'desktop-detail-rejected');

    // Retry from the panel: the panel's timeline and the row follow the new attempt live.
    await page.click('.detail-actions button:text("Retry")');
    await page.waitForSelector('.detail .timeline :text("Attempt 2")');
    await page.waitForSelector(`tbody tr[data-id="${id}"][data-status="ABANDONED"]`);
    await waitFor(async () =>
      /^2\//.test((await page.textContent(`tbody tr[data-id="${id}"] .col-attempts`)) ?? ''),
    );
    await page.close();
  });

  test('filters narrow the rows, live ones included, and live in the URL', async () => {
    const page = await openDashboard();
    await page.check('input[name="status"][value="ABANDONED"]');
    await page.waitForURL((url) => url.searchParams.get('status') === 'ABANDONED');
    await waitFor(async () => {
      const statuses = await rowStatuses(page);
      return statuses.length > 0 && statuses.every((status) => status === 'ABANDONED');
    });
    const abandoned = await svc.gql(`{ messages(filter: { status: [ABANDONED] }) { totalCount } }`);
    assert.equal((await rowIds(page)).length, abandoned.data.messages.totalCount);

    await page.fill('#filter-recipient', REJECTED);
    await page.selectOption('#filter-error', 'RECIPIENT_REJECTED');
    await page.waitForURL(
      (url) =>
        url.searchParams.get('to') === REJECTED &&
        url.searchParams.get('error') === 'RECIPIENT_REJECTED',
    );

    // Live rows follow the filter: a delivered message stays out, a rejected one comes in.
    const delivered = await send('carol@example.com', 'Not for this view');
    await waitFor(async () => (await statusOf(delivered)) === 'SENT');
    const rejected = await send(REJECTED, 'For this view');
    await page.waitForSelector(`tbody tr[data-id="${rejected}"][data-status="ABANDONED"]`);
    assert.ok(!(await rowIds(page)).includes(delivered), 'a SENT message entered a filtered view');

    // A shared link shows the same view.
    const shared = page.url();
    const other = await browser.open(shared);
    await other.waitForSelector(`tbody tr[data-id="${rejected}"]`);
    assert.equal(await other.isChecked('input[name="status"][value="ABANDONED"]'), true);
    assert.equal(await other.inputValue('#filter-recipient'), REJECTED);
    assert.equal(await other.inputValue('#filter-error'), 'RECIPIENT_REJECTED');
    assert.deepEqual(await rowIds(other), await rowIds(page));
    await other.close();

    await page.fill('#filter-text', 'receipt');
    await page.waitForURL((url) => url.searchParams.get('q') === 'receipt');
    await page.waitForSelector('.empty');
    await page.click('text=Clear filters');
    await page.waitForURL((url) => url.search === '');
    await waitFor(async () => (await rowIds(page)).includes(delivered));
    await page.close();
  });

  test('rows work from the keyboard: arrows move, Enter opens, Escape closes', async () => {
    const page = await openDashboard();
    const ids = await rowIds(page);
    assert.ok(ids.length >= 2);
    await page.focus(`tbody tr[data-id="${ids[0]}"]`);
    await page.keyboard.press('ArrowDown');
    const focused = () =>
      page.evaluate(() => (globalThis as any).document.activeElement.dataset.id as string);
    assert.equal(await focused(), ids[1]);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`.detail[data-message-id="${ids[1]}"] .timeline`);
    await page.keyboard.press('Escape');
    await page.waitForSelector('.detail', { state: 'detached' });
    await waitFor(async () => (await focused()) === ids[1], {
      description: 'focus back on the row',
    });

    // Every control has a name a screen reader can say.
    const unnamed = await page.$$eval('input, select, button', (elements) =>
      elements
        .filter((element) => {
          const input = element as any;
          const named =
            input.labels?.length ||
            input.getAttribute('aria-label') ||
            (input.tagName === 'BUTTON' && input.textContent?.trim());
          return !named && input.offsetParent !== null;
        })
        .map((element) => element.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);
    await page.close();
  });

  test('on a phone the table fits the screen and the detail panel covers it', async () => {
    const page = await openDashboard('/', PHONE);
    const overflow = await page.evaluate(
      () =>
        (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth,
    );
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await browser.screenshot(page, 'phone-overview');
    const [id] = await rowIds(page);
    await page.click(`tbody tr[data-id="${id}"]`);
    await page.waitForSelector('.detail .timeline');
    const width = await page.$eval('.detail', (element) => element.getBoundingClientRect().width);
    assert.equal(Math.round(width), PHONE.width);
    await browser.screenshot(page, 'phone-detail');
    await page.close();
  });

  test('a test email from the SMTP panel opens its own detail and arrives', async () => {
    const page = await openDashboard();
    await page.fill('#test-email-to', 'check@example.com');
    await page.click('.test-email button[type="submit"]');
    const id = await page
      .waitForSelector('.detail[data-message-id]')
      .then((panel) => panel.getAttribute('data-message-id'));
    await page.waitForSelector(`tbody tr[data-id="${id}"][data-status="SENT"]`);
    assert.equal(
      await page.textContent(`tbody tr[data-id="${id}"] .col-recipient`),
      'check@example.com',
    );
    await page.waitForSelector('.detail .timeline :text("delivered")');
    await page.close();
  });

  test('the SMTP panel edits the configuration, masks the password and verifies each step', async () => {
    const page = await openDashboard();
    await page.click('text=Change…');
    await page.fill(
      '#smtp-uri',
      `smtp://mailer:Sup3rS3cret@${smtp.host}:${smtp.port}/?disable_starttls=true`,
    );
    await page.fill('#smtp-from', 'ops@example.com');
    await page.click('.smtp-form button[type="submit"]');
    await page.waitForSelector('.smtp-form', { state: 'detached' });
    const shown = await page.textContent('[data-smtp-uri]');
    assert.equal(shown, `smtp://mailer:***@${smtp.host}:${smtp.port}/?disable_starttls=true`);
    assert.ok(!(await page.content()).includes('Sup3rS3cret'), 'the password reached the page');

    await page.click('text=Verify connection');
    await page.waitForSelector('.verification [data-step="CONNECT"]');
    const steps = await page.$$eval('.verification [data-step]', (items) =>
      items.map((item) => `${(item as any).dataset.step}:${item.className}`),
    );
    assert.ok(steps.includes('CONNECT:ok'), steps.join(', '));
    assert.ok(steps.includes('GREETING:ok'), steps.join(', '));
    await browser.screenshot(page, 'desktop-smtp-verify');

    // A provider preset builds the URI itself (only stored here: no mail is queued to send).
    await page.click('text=Change…');
    await page.selectOption('#smtp-provider', 'GENERIC');
    await page.fill('#smtp-host', smtp.host);
    await page.fill('#smtp-port', String(smtp.port));
    await page.fill('#smtp-username', 'relay@example.com');
    await page.fill('#smtp-password', 'An0ther/S3cret');
    await page.fill('#smtp-from', 'relay@example.com');
    await page.click('.smtp-form button[type="submit"]');
    await page.waitForSelector('.smtp-form', { state: 'detached' });
    assert.equal(
      await page.textContent('[data-smtp-uri]'),
      `smtp://relay%40example.com:***@${smtp.host}:${smtp.port}/`,
    );
    // The card says which preset the version was made with.
    assert.equal(await page.textContent('[data-smtp-preset]'), 'Other SMTP server');
    assert.ok(!(await page.content()).includes('S3cret'), 'the password reached the page');
    await page.close();
  });

  test('older messages come page by page, each row once', async () => {
    for (let index = 0; index < 50; index++)
      await send(`bulk${index}@example.com`, `Bulk ${index}`);
    const total = (await svc.gql(`{ messages { totalCount } }`)).data.messages.totalCount;
    assert.ok(total > 50);
    const page = await openDashboard();
    assert.equal((await rowIds(page)).length, 50);
    await page.click('text=Load older messages');
    await waitFor(async () => (await rowIds(page)).length === total, {
      description: `${total} rows`,
    });
    const ids = await rowIds(page);
    assert.equal(new Set(ids).size, ids.length, 'a row appears twice');
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => Number(b) - Number(a)),
    );
    assert.equal(await page.locator('text=Load older messages').count(), 0);
    // The total is the first page's, kept: later pages do not count the history again.
    assert.equal(await page.getAttribute('[data-total]', 'data-total'), String(total));
    await page.close();
  });

  test('the overview as a person sees it: counters and chart say what the API says', async () => {
    // Everything sent so far has settled, so the figures cannot move while they are read.
    await waitFor(
      async () =>
        (await svc.gql(`{ messages(filter: { status: [QUEUED, PROCESSING] }) { totalCount } }`))
          .data.messages.totalCount === 0,
      { description: 'every message to be SENT or ABANDONED' },
    );
    const stats = (await svc.gql(`{ deliveryStats { sent abandoned failedAttempts } }`)).data
      .deliveryStats;
    assert.ok(stats.sent > 0 && stats.failedAttempts > 0, JSON.stringify(stats));
    const page = await openDashboard();
    await page.waitForSelector('.chart svg');
    const counter = (name: string) => page.textContent(`[data-counter="${name}"]`);
    await waitFor(async () => (await counter('sent'))?.trim() === String(stats.sent), {
      description: `the Sent counter to show ${stats.sent}`,
    });
    const chart = (await page.getAttribute('.chart svg', 'aria-label')) ?? '';
    assert.match(
      chart,
      new RegExp(`: ${stats.sent} sent, ${stats.failedAttempts} failed attempts;`),
    );
    // Twelve five-minute bars; the ones with mail in them are drawn.
    const heights = await page.$$eval('.chart svg rect.bar-sent', (bars) =>
      bars.map((bar) => Number(bar.getAttribute('height'))),
    );
    assert.equal(heights.length, 12);
    assert.ok(
      heights.some((height) => height > 0),
      'no bar drawn',
    );
    const overflow = await page.evaluate(
      () =>
        (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth,
    );
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the window`);
    await browser.screenshot(page, 'desktop-overview');
    await page.close();
  });
});
