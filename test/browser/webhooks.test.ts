import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { fileScope } from '../helpers/scope.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The Webhooks page in a real browser, against a real receiver on 127.0.0.1 that verifies every
// request with the `standardwebhooks` package: create an endpoint (the secret shown once), send a
// test event, watch a failure and its retry arrive in the log, send it again once the receiver
// recovers, and the controls around an endpoint. A READ token is told what it lacks.

const TOKEN = 'webhooks-page-admin-token-7c1e';

let svc: TestService;
let receiver: WebhookReceiver;
let browser: TestBrowser;

before(async () => {
  receiver = await startWebhookReceiver(fileScope);
  svc = await startService(fileScope, {
    API_TOKEN: TOKEN,
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    // The second attempt 1 s after the first, the third a minute later: a retry shows up in the
    // log while the test watches, and "Send again" comes long before the third.
    WEBHOOK_RETRY_BASE_MS: '1000',
  });
  browser = await launchBrowser(fileScope);
});
after(() => {
  // The token dialog's first request is answered 401 on purpose; nothing else may fail.
  const errors = browser.errors.filter((line) => !/status of 401/.test(line));
  assert.deepEqual(errors, [], 'the page logged errors');
});

async function openWithToken(token: string): Promise<Page> {
  const page = await browser.open(`${svc.url}/outgoing-webhooks`);
  await page.waitForSelector('dialog[open] #token-input');
  await page.fill('#token-input', token);
  await page.click('dialog[open] button[type="submit"]');
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  return page;
}

async function apiEndpoints(): Promise<
  { id: string; url: string; events: string[]; enabled: boolean; description: string | null }[]
> {
  const result = await svc.gql(`{ webhookEndpoints { id url events enabled description } }`);
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.webhookEndpoints;
}

const rowsOf = (page: Page) =>
  page.$$eval('.webhook-log tbody tr', (rows) =>
    rows.map((row) => {
      const data = (row as any).dataset as Record<string, string>;
      return {
        deliveryId: data['deliveryId']!,
        webhookId: data['webhookId']!,
        attempt: Number(data['attempt']),
        statusCode: data['statusCode']!,
        succeeded: data['succeeded'] === 'true',
        text: row.textContent ?? '',
      };
    }),
  );

test('an admin creates an endpoint, sees its secret once, and follows its deliveries', async () => {
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: svc.url,
  });
  const page = await openWithToken(TOKEN);
  assert.equal(await page.getAttribute('.tabs [data-view="webhooks"]', 'aria-current'), 'page');
  await page.waitForSelector('[data-no-endpoints]');

  // Create: URL, description, and the events chosen with the checkboxes.
  await page.fill('#webhook-url', receiver.url);
  await page.fill('#webhook-description', 'billing app');
  await page.uncheck('input[name="webhook-event"][value="MESSAGE_ABANDONED"]');
  await page.check('input[name="webhook-event"][value="MESSAGE_QUEUED"]');
  await page.click('button:text("Add endpoint")');

  // The secret, once, with a way to copy it and a warning.
  await page.waitForSelector('[data-secret-once]');
  const secret = (await page.textContent('[data-secret-once] [data-record]')) ?? '';
  assert.match(secret, /^whsec_\S+$/);
  assert.match((await page.textContent('[data-secret-warning]')) ?? '', /will not be shown again/);
  await page.click('[data-secret-once] button[aria-label="Copy the signing secret"]');
  await page.waitForSelector('[data-secret-once] button:text("Copied")');
  assert.equal(
    await page.evaluate(() => (globalThis as any).navigator.clipboard.readText()),
    secret,
  );
  receiver.secret = secret;
  const [created] = await apiEndpoints();
  assert.ok(created);
  assert.equal(created.url, receiver.url);
  assert.equal(created.description, 'billing app');
  assert.deepEqual(created.events, [
    'MESSAGE_QUEUED',
    'MESSAGE_SENT',
    'MESSAGE_DELIVERED',
    'MESSAGE_BOUNCED',
    'MESSAGE_COMPLAINED',
  ]);
  const card = page.locator(`.webhook-endpoint[data-endpoint-id="${created.id}"]`);
  await card.waitFor();
  assert.equal(await card.locator('[data-endpoint-state]').textContent(), 'Enabled');
  assert.equal(await card.locator('[data-endpoint-description]').textContent(), 'billing app');
  assert.match(
    (await card.locator('[data-endpoint-events]').textContent()) ?? '',
    /message\.queued/,
  );
  await browser.screenshot(page, 'desktop-webhooks-secret');

  // Shown once: dismissed, and not there after a reload either.
  await page.click('[data-secret-once] button:text("I have copied it")');
  await page.waitForSelector('[data-secret-once]', { state: 'detached' });
  await page.reload();
  await card.waitFor();
  assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');

  // A test event: the receiver verifies it, the log shows its 200.
  await card.locator('button:text("Send test event")').click();
  await card.locator('.webhook-log tr[data-status-code="200"][data-succeeded="true"]').waitFor();
  const [ok] = await rowsOf(page);
  assert.ok(ok);
  const got = receiver.received.find((request) => request.id === ok.webhookId);
  assert.ok(got, 'the receiver got the event the log shows');
  assert.equal(got.verified, true, 'signed with the secret shown');
  assert.equal(got.payload.type, 'webhook.test');
  assert.match(ok.text, /webhook\.test/, 'the log names it as the receiver sees it');
  assert.equal(ok.attempt, 1);

  // The receiver fails: the log shows the 500, what it answered, and the retry the service makes
  // by itself (read by the page's periodic refresh, no click).
  receiver.answer = () => ({ status: 500, body: 'database unavailable' });
  await card.locator('button:text("Send test event")').click();
  const failed = card.locator('.webhook-log tr[data-status-code="500"][data-attempt="1"]');
  await failed.waitFor();
  const webhookId = (await failed.getAttribute('data-webhook-id'))!;
  assert.notEqual(webhookId, ok.webhookId);
  assert.equal(await failed.getAttribute('data-succeeded'), 'false');
  assert.match((await failed.textContent()) ?? '', /500 Failed/);
  await failed.locator('.response-body summary').click();
  assert.equal(await failed.locator('[data-response-body]').textContent(), 'database unavailable');
  const retried = card.locator(
    `.webhook-log tr[data-webhook-id="${webhookId}"][data-attempt="2"][data-status-code="500"]`,
  );
  await retried.waitFor();
  await retried.locator('[data-next-attempt]').waitFor();
  await browser.screenshot(page, 'desktop-webhooks-log');

  // Recovered: "Send again" sends the same event (same webhook-id) and the log shows the 200.
  receiver.answer = () => ({ status: 200 });
  await retried.locator('button:text("Send again")').click();
  await card
    .locator(`.webhook-log tr[data-webhook-id="${webhookId}"][data-succeeded="true"]`)
    .waitFor();
  const again = (await rowsOf(page)).find((row) => row.webhookId === webhookId && row.succeeded)!;
  assert.equal(again.statusCode, '200');
  assert.equal(again.attempt, 3);
  const sameEvent = receiver.received.filter((request) => request.id === webhookId);
  assert.equal(sameEvent.length, 3, 'two failures, then the one sent again');
  assert.ok(sameEvent.every((request) => request.verified));
  assert.equal(new Set(sameEvent.map((request) => request.body)).size, 1, 'the same body');

  // Disable and enable.
  await card.locator('button:text("Disable")').click();
  await page.waitForSelector(
    `.webhook-endpoint[data-endpoint-id="${created.id}"][data-enabled="false"]`,
  );
  assert.equal((await apiEndpoints())[0]!.enabled, false);
  await card.locator('button:text("Enable")').click();
  await page.waitForSelector(
    `.webhook-endpoint[data-endpoint-id="${created.id}"][data-enabled="true"]`,
  );
  assert.equal((await apiEndpoints())[0]!.enabled, true);

  // Rotate: a new secret, shown once; requests verify with it.
  await card.locator('button:text("Rotate secret")').click();
  await page.waitForSelector('[data-secret-once]');
  const rotated = (await page.textContent('[data-secret-once] [data-record]')) ?? '';
  assert.match(rotated, /^whsec_/);
  assert.notEqual(rotated, secret);
  assert.match((await page.textContent('[data-secret-once]')) ?? '', /New signing secret/);
  receiver.secret = rotated;
  const before = receiver.received.length;
  await card.locator('button:text("Send test event")').click();
  await waitFor(() => receiver.received.length > before, {
    description: 'a test event after the rotation',
  });
  assert.equal(receiver.received.at(-1)!.verified, true, 'verified with the new secret');

  // Mail moving: the event of a message sent through the API shows up in the log by itself.
  await page.waitForSelector('[data-connection="live"]');
  const sent = await svc.gql(
    `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`,
    { input: { to: 'hooked@example.com', subject: 'Pushed to the app', text: 'x' } },
  );
  assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
  const queued = card.locator('.webhook-log tr:has(code:text-is("message.queued"))');
  await queued.waitFor();
  const queuedId = (await queued.getAttribute('data-webhook-id'))!;
  const pushed = receiver.received.find((request) => request.id === queuedId);
  assert.equal(pushed?.payload.type, 'message.queued');
  assert.equal(pushed?.payload.data.message.id, sent.data.sendEmail.id);
  assert.equal(pushed?.verified, true);

  // Delete, after a confirmation.
  await card.locator('button:text-is("Delete")').click();
  await card.locator('button:text("Keep it")').click();
  assert.equal(await card.count(), 1);
  await card.locator('button:text-is("Delete")').click();
  await card.locator('button:text("Yes, delete")').click();
  await card.waitFor({ state: 'detached' });
  await page.waitForSelector('[data-no-endpoints]');
  assert.deepEqual(await apiEndpoints(), []);
  await page.close();
});

test('a read token sees the endpoints without their paths and is told that managing them needs an ADMIN token', async () => {
  const created = await svc.gql(
    `mutation { createApiToken(name: "webhooks reader", scope: READ) { token } }`,
  );
  assert.equal(created.errors, undefined, JSON.stringify(created.errors));
  const made = await svc.gql(
    `mutation ($url: String!) { createWebhookEndpoint(input: { url: $url, events: [MESSAGE_SENT] }) { secret } }`,
    { url: receiver.url },
  );
  assert.equal(made.errors, undefined, JSON.stringify(made.errors));
  const endpoints = await apiEndpoints();
  const page = await openWithToken(created.data.createApiToken.token);
  await page.waitForSelector('[data-read-only]');
  assert.match((await page.textContent('[data-read-only]')) ?? '', /needs an ADMIN token/);
  await page.waitForSelector('.webhook-endpoint');
  assert.equal(await page.locator('[role="alert"]').count(), 0, 'no error shown');
  assert.equal(await page.locator('.create-webhook').count(), 0);
  assert.equal(await page.locator('.endpoint-actions').count(), 0);
  const shown = await page
    .locator('[data-endpoint-url]')
    .evaluateAll((cards) => cards.map((card) => card.getAttribute('data-endpoint-url')));
  assert.deepEqual(
    shown.sort(),
    endpoints.map((endpoint) => `${new URL(endpoint.url).origin}/***`).sort(),
  );
  await page.close();
});
