import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import type { Page } from 'playwright-core';
import { postfixBounce, postfixDelay } from '../helpers/bounce-fixtures.ts';
import { launchBrowser, PHONE, type TestBrowser } from '../helpers/browser.ts';
import { fileScope } from '../helpers/scope.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Outcomes after SENT and the suppression list in a real browser: mail goes out through a real
// SMTP server with a VERP envelope sender, bounces come back over SMTP into the service's own
// bounce listener, and the page shows them without a reload.

const BOUNCE_DOMAIN = 'bounces.mailscope.test';
const SEND = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id messageId } }`;

let smtp: TestSmtpServer;
let svc: TestService;
let browser: TestBrowser;
let bounce: { host: string; port: number };

before(async () => {
  smtp = await startTestSmtpServer(fileScope, { dsn: true });
  svc = await startService(fileScope, {
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    BOUNCE_DOMAIN,
    BOUNCE_SMTP_PORT: '0',
  });
  assert.ok(svc.app.bounceSmtp, 'the bounce listener runs');
  bounce = svc.app.bounceSmtp;
  browser = await launchBrowser(fileScope);
});
after(() => {
  assert.deepEqual(browser.errors, [], 'the page logged errors');
});

/** Sends a report as an MTA does: null sender, to an address at the bounce domain. */
async function sendReport(to: string, raw: string): Promise<void> {
  const transport = nodemailer.createTransport({
    host: bounce.host,
    port: bounce.port,
    secure: false,
    ignoreTLS: true,
  });
  try {
    const info = await transport.sendMail({ envelope: { from: '', to: [to] }, raw });
    assert.match(info.response, /^250/);
  } finally {
    transport.close();
  }
}

interface Sent {
  id: string;
  messageId: string;
  /** The VERP envelope sender the message went out with: where its reports go. */
  returnPath: string;
}

async function sendAndWaitSent(to: string, subject: string): Promise<Sent> {
  const result = await svc.gql(SEND, { input: { to, subject, text: 'Hello' } });
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  const { id, messageId } = result.data.sendEmail;
  const mail = await waitFor(
    () =>
      smtp.received.find(
        (received) => received.to.includes(to) && received.raw.includes(`Subject: ${subject}`),
      ),
    { description: `${subject} at the SMTP server` },
  );
  return { id, messageId, returnPath: mail.from };
}

const bounceFor = (sent: Sent, recipient: string) =>
  postfixBounce({ recipient, messageId: sent.messageId, to: sent.returnPath });

async function openDashboard(path = '/') {
  const page = await browser.open(`${svc.url}${path}`);
  await page.waitForSelector('[data-connection="live"]');
  await page.waitForSelector('tbody tr, .messages .empty');
  return page;
}

const rowOutcomes = (page: Page) =>
  page.$$eval('.messages tbody tr', (rows) =>
    rows.map((row) => (row as any).dataset.outcome as string | undefined),
  );

describe('outcomes after SENT in the dashboard', () => {
  test('a bounce arriving shows live in the row, the timeline and the counters', async () => {
    const page = await openDashboard();
    await page.evaluate(() => ((globalThis as any).marker = 7));
    const sent = await sendAndWaitSent('gone@example.com', 'Welcome');
    await page.waitForSelector(`tbody tr[data-id="${sent.id}"][data-status="SENT"]`);
    assert.equal(await page.getAttribute(`tbody tr[data-id="${sent.id}"]`, 'data-outcome'), null);
    await page.click(`tbody tr[data-id="${sent.id}"]`);
    await page.waitForSelector('.detail .timeline');
    assert.match((await page.textContent('[data-detail-outcome]')) ?? '', /no delivery report yet/);

    // A delay warning first: DEFERRED, in the row and in the open panel.
    await sendReport(
      sent.returnPath,
      postfixDelay({
        recipient: 'gone@example.com',
        messageId: sent.messageId,
        to: sent.returnPath,
      }),
    );
    await page.waitForSelector(`tbody tr[data-id="${sent.id}"][data-outcome="DEFERRED"]`);
    await page.waitForSelector('.detail .tl-report [data-report-outcome="DEFERRED"]');

    // Then the bounce: BOUNCED wins, and its report tells the whole story.
    await sendReport(sent.returnPath, bounceFor(sent, 'gone@example.com'));
    await page.waitForSelector(`tbody tr[data-id="${sent.id}"][data-outcome="BOUNCED"]`);
    assert.equal(
      await page.getAttribute(`tbody tr[data-id="${sent.id}"]`, 'data-status'),
      'SENT',
      'a report leaves the status SENT',
    );
    assert.equal(
      (await page.textContent(`tbody tr[data-id="${sent.id}"] .col-outcome`))?.trim(),
      'Bounced',
    );
    const report = page.locator('.detail .tl-report [data-report-outcome="BOUNCED"]');
    await report.waitFor();
    const api = await svc.gql(
      `query ($id: ID!) { message(id: $id) { outcome reports { outcome source bounceType enhancedStatus diagnostic remoteMta hint } } }`,
      { id: sent.id },
    );
    const bounced = api.data.message.reports.find((r: any) => r.outcome === 'BOUNCED');
    assert.equal(bounced.bounceType, 'HARD');
    assert.ok(bounced.hint, 'the API gives a hint for 5.1.1');
    const text = (await report.textContent()) ?? '';
    assert.match(text, /Bounced · hard/);
    assert.match(text, /bounce message \(DSN\)/);
    assert.ok(text.includes(bounced.enhancedStatus), `enhanced status in: ${text}`);
    assert.ok(text.includes(bounced.remoteMta), `remote MTA in: ${text}`);
    assert.equal(await report.locator('[data-diagnostic]').textContent(), bounced.diagnostic);
    assert.ok(
      ((await report.locator('[data-report-hint]').textContent()) ?? '').includes(bounced.hint),
    );
    // Reports in the order received, after the attempt that sent the message.
    const timeline = await page.$$eval('.detail .timeline > li', (items) =>
      items.map((item) => item.className),
    );
    assert.deepEqual(timeline.slice(-2), ['tl-report', 'tl-report']);
    assert.match((await page.textContent('[data-detail-outcome]')) ?? '', /Bounced \(2 reports\)/);

    // The counters over the last hour follow from the queueStats subscription.
    const counter = (name: string) => page.textContent(`[data-counter="${name}"]`);
    await waitFor(async () => (await counter('bounced-hard'))?.trim() === '1', {
      description: 'the Bounced hard counter',
    });
    await waitFor(async () => (await counter('deferred'))?.trim() === '1');
    const stats = (
      await svc.gql(
        `{ deliveryStats(since: "${new Date(Date.now() - 3_600_000).toISOString()}") { bounceRate } }`,
      )
    ).data.deliveryStats;
    assert.equal(stats.bounceRate, 1);
    assert.equal(await page.textContent('[data-rate="bounce"]'), '100%');
    // The chart counts the bounce in its bar.
    await waitFor(
      async () =>
        /; 1 bounced or complained;/.test(
          (await page.getAttribute('.chart svg', 'aria-label')) ?? '',
        ),
      { description: 'the chart to count the bounce' },
    );
    assert.equal(await page.evaluate(() => (globalThis as any).marker), 7, 'the page reloaded');
    await browser.screenshot(page, 'desktop-detail-bounced');
    await page.close();
  });

  test('the outcome filter narrows the rows, live ones included, and lives in the URL', async () => {
    const delivered = await sendAndWaitSent('fine@example.com', 'Receipt');
    const page = await openDashboard();
    await page.check('input[name="outcome"][value="BOUNCED"]');
    await page.waitForURL((url) => url.searchParams.get('outcome') === 'BOUNCED');
    const expected = await svc.gql(`{ messages(filter: { outcome: [BOUNCED] }) { totalCount } }`);
    await waitFor(async () => {
      const outcomes = await rowOutcomes(page);
      return (
        outcomes.length === expected.data.messages.totalCount &&
        outcomes.every((outcome) => outcome === 'BOUNCED')
      );
    });

    // A message that bounces now enters the filtered view live; a delivered one stays out.
    const later = await sendAndWaitSent('later@example.com', 'Later');
    await sendReport(later.returnPath, bounceFor(later, 'later@example.com'));
    await page.waitForSelector(`tbody tr[data-id="${later.id}"][data-outcome="BOUNCED"]`);
    const ids = await page.$$eval('.messages tbody tr', (rows) =>
      rows.map((row) => (row as any).dataset.id as string),
    );
    assert.ok(!ids.includes(delivered.id), 'a message without a bounce entered the view');

    // A shared link shows the same view.
    const other = await browser.open(page.url());
    await other.waitForSelector(`tbody tr[data-id="${later.id}"]`);
    assert.equal(await other.isChecked('input[name="outcome"][value="BOUNCED"]'), true);
    assert.deepEqual(await rowOutcomes(other), await rowOutcomes(page));
    await other.close();
    await page.close();
  });

  test('a hard bounce suppresses the address; the page adds, shows and removes suppressions', async () => {
    const page = await openDashboard();
    await page.click('.tabs a[data-view="suppressions"]');
    await page.waitForURL((url) => url.pathname === '/suppressions');
    await page.waitForSelector('.suppression-table tbody tr');
    // The hard bounces of the tests above put their addresses on the list.
    const bounced = page.locator('.suppression-table tr[data-address="gone@example.com"]');
    assert.equal(await bounced.getAttribute('data-reason'), 'HARD_BOUNCE');
    assert.match((await bounced.textContent()) ?? '', /Hard bounce/);
    assert.match(
      (await bounced.locator('[data-suppression-detail]').textContent()) ?? '',
      /User unknown/,
    );

    // Live: another hard bounce adds its address while the page is open.
    const live = await sendAndWaitSent('moved@example.com', 'Moved');
    await sendReport(live.returnPath, bounceFor(live, 'moved@example.com'));
    await page.waitForSelector('.suppression-table tr[data-address="moved@example.com"]');
    // Its message opens from the list.
    await page.click(`.suppression-table [data-message-link="${live.id}"]`);
    await page.waitForURL(
      (url) => url.pathname === '/' && url.searchParams.get('message') === live.id,
    );
    await page.waitForSelector(`.detail[data-message-id="${live.id}"] .tl-report`);
    await page.goBack();
    await page.waitForSelector('.suppression-table tr[data-address="moved@example.com"]');

    // Added by hand, then a message to it is stored SUPPRESSED and sends nothing.
    await page.fill('#suppression-address', 'Stop@Example.com');
    await page.fill('#suppression-detail', 'asked us to stop');
    await page.click('.add-suppression button[type="submit"]');
    const manual = page.locator('.suppression-table tr[data-address="Stop@Example.com"]');
    await manual.waitFor();
    assert.equal(await manual.getAttribute('data-reason'), 'MANUAL');
    assert.match((await manual.textContent()) ?? '', /asked us to stop/);
    const listed = await svc.gql(`{ suppressions(address: "stop@example.com") { totalCount } }`);
    assert.equal(listed.data.suppressions.totalCount, 1);

    // A bad address gets the service's own clear error, and nothing is added.
    await page.fill('#suppression-address', 'not an address');
    await page.click('.add-suppression button[type="submit"]');
    await page.waitForSelector('.add-suppression [role="alert"]');
    assert.match((await page.textContent('.add-suppression [role="alert"]')) ?? '', /address/i);

    const received = smtp.receivedCount;
    const suppressed = await svc.gql(SEND, {
      input: { to: 'stop@example.com', subject: 'Not sent', text: 'x' },
    });
    const suppressedId = suppressed.data.sendEmail.id as string;
    const messages = await browser.open(`${svc.url}/?message=${suppressedId}`);
    await messages.waitForSelector(`tbody tr[data-id="${suppressedId}"][data-status="SUPPRESSED"]`);
    assert.equal(
      (await messages.textContent(`tbody tr[data-id="${suppressedId}"] .col-status`))?.trim(),
      'Suppressed',
    );
    await messages.waitForSelector('.detail [data-suppressed-note]');
    // Retry while it is listed: the service's CONFLICT, said in the panel.
    await messages.click('.detail-actions button:text("Retry")');
    await messages.waitForSelector('.detail [role="alert"]');
    assert.match((await messages.textContent('.detail [role="alert"]')) ?? '', /suppression list/);
    // The panel links to the entry on the list, and Back returns to the panel.
    await messages.click('.detail [data-suppressed-note] a');
    await messages.waitForURL(
      (url) =>
        url.pathname === '/suppressions' && url.searchParams.get('address') === 'stop@example.com',
    );
    await messages.waitForSelector('.suppression-table tr[data-address="Stop@Example.com"]');
    assert.equal(await messages.locator('.suppression-table tbody tr').count(), 1);
    await messages.goBack();
    await messages.waitForSelector(
      `.detail[data-message-id="${suppressedId}"] [data-suppressed-note]`,
    );

    // Removed from the list page: gone from the list and from the API.
    await page.click(
      '.suppression-table tr[data-address="Stop@Example.com"] button:text("Remove")',
    );
    await manual.waitFor({ state: 'detached' });
    const after = await svc.gql(`{ suppressions(address: "stop@example.com") { totalCount } }`);
    assert.equal(after.data.suppressions.totalCount, 0);
    await browser.screenshot(page, 'desktop-suppressions');
    // On a phone the list fits the screen.
    const phone = await browser.open(`${svc.url}/suppressions`, PHONE);
    await phone.waitForSelector('.suppression-table tr[data-address="gone@example.com"]');
    const overflow = await phone.evaluate(
      () =>
        (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth,
    );
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await browser.screenshot(phone, 'phone-suppressions');
    await phone.close();

    // Now Retry sends it.
    await messages.click('.detail-actions button:text("Retry")');
    await messages.waitForSelector(`tbody tr[data-id="${suppressedId}"][data-status="SENT"]`);
    assert.equal(smtp.receivedCount, received + 1);
    await messages.close();
    await page.close();
  });

  test('a report that matches no message is listed, not dropped', async () => {
    const page = await openDashboard('/suppressions');
    await page.waitForSelector('.unmatched .empty, .unmatched-table');
    await sendReport(
      `bounces@${BOUNCE_DOMAIN}`,
      postfixBounce({
        recipient: 'stranger@example.com',
        messageId: '<never-sent@elsewhere.test>',
        to: `bounces@${BOUNCE_DOMAIN}`,
      }),
    );
    const api = await waitFor(async () => {
      const list = (await svc.gql(`{ unmatchedReports { source outcome recipient } }`)).data
        .unmatchedReports;
      return list.length > 0 ? list : null;
    });
    assert.equal(api[0].recipient, 'stranger@example.com');
    // The page hears of it by the stats heartbeat at the latest; Refresh reads it at once.
    await page.click('.unmatched button:text("Refresh")');
    const row = page.locator('.unmatched-table tbody tr').first();
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /stranger@example\.com/);
    assert.equal(await row.getAttribute('data-unmatched-source'), 'DSN');
    await page.close();
  });

  test('the suppression list comes page by page, each address once', async () => {
    for (let index = 0; index < 55; index++) {
      const added = await svc.gql(
        `mutation ($a: String!) { addSuppression(address: $a) { address } }`,
        {
          a: `bulk${index}@example.com`,
        },
      );
      assert.equal(added.errors, undefined, JSON.stringify(added.errors));
    }
    const total = (await svc.gql(`{ suppressions { totalCount } }`)).data.suppressions.totalCount;
    assert.ok(total > 50);
    const page = await openDashboard('/suppressions');
    const addresses = () =>
      page.$$eval('.suppression-table tbody tr', (rows) =>
        rows.map((row) => (row as any).dataset.address as string),
      );
    await waitFor(async () => (await addresses()).length === 50, { description: '50 rows' });
    assert.equal(
      await page.getAttribute('[data-suppression-total]', 'data-suppression-total'),
      String(total),
    );
    await page.click('text=Load more');
    await waitFor(async () => (await addresses()).length === total, {
      description: `${total} rows`,
    });
    const shown = await addresses();
    assert.equal(new Set(shown).size, shown.length, 'an address appears twice');
    assert.equal(shown[0], 'bulk54@example.com', 'newest first');
    assert.equal(await page.locator('text=Load more').count(), 0);
    await page.close();
  });
});
