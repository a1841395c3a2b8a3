import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { fileScope } from '../helpers/scope.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// A service with API_TOKEN: the page asks for the token once, keeps it for the tab, and sends it
// on HTTP (Authorization) and graphql-ws (connection params) alike.

const TOKEN = 'dashboard-test-token-5f3a';
const SEND = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`;

let svc: TestService;
let browser: TestBrowser;

before(async () => {
  svc = await startService(fileScope, { API_TOKEN: TOKEN });
  browser = await launchBrowser(fileScope);
});

async function enterToken(page: import('playwright-core').Page, token: string) {
  await page.waitForSelector('dialog[open] #token-input');
  await page.fill('#token-input', token);
  await page.click('dialog[open] button[type="submit"]');
}

test('the page asks for the token, refuses a wrong one, and then runs live with it', async () => {
  // A shared link to a message: the panel must load once the token is given.
  const earlier = await svc.gql(SEND, {
    input: { to: 'link@example.com', subject: 'Shared link', text: 'x' },
  });
  const linked = earlier.data.sendEmail.id;
  const page = await browser.open(`${svc.url}/?message=${linked}`);
  await enterToken(page, 'not-the-token');
  await page.waitForSelector('dialog[open] [role="alert"]');
  assert.match((await page.textContent('dialog[open] [role="alert"]')) ?? '', /refused/);
  await browser.screenshot(page, 'desktop-token-refused');

  await enterToken(page, TOKEN);
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  await page.waitForSelector(`.detail[data-message-id="${linked}"] .timeline`);
  // Which token queued it: the bootstrap token is named after its variable.
  assert.equal(await page.textContent('.detail [data-field="submitted-by"]'), 'API_TOKEN');
  await page.waitForSelector('[data-connection="live"]');
  const sent = await svc.gql(SEND, {
    input: { to: 'tok@example.com', subject: 'With a token', text: 'x' },
  });
  const id = sent.data.sendEmail.id;
  // The row arrives over graphql-ws, which only a good token opens.
  await page.waitForSelector(`tbody tr[data-id="${id}"][data-status="SENT"]`);
  assert.equal(
    await page.evaluate(() => (globalThis as any).sessionStorage.getItem('mailscope.apiToken')),
    TOKEN,
  );

  // Asked once: a reload in the same tab goes straight to the data.
  await page.reload();
  await page.waitForSelector(`tbody tr[data-id="${id}"]`);
  await page.waitForSelector('[data-connection="live"]');
  assert.equal(await page.locator('dialog[open]').count(), 0);
  // The bootstrap token is an admin: the controls that change things are there, once the
  // page's own viewer query (separate from the rows and the socket) has answered.
  const controls = async () => [
    await page.locator('text=Change…').count(),
    await page.locator('text=Verify connection').count(),
  ];
  await waitFor(async () => (await controls()).some((count) => count > 0), {
    description: 'the admin controls to be shown',
  });
  assert.deepEqual(await controls(), [1, 1]);
  await page.close();
});

test('a read token hides every control that changes something', async () => {
  const created = await svc.gql(
    `mutation { createApiToken(name: "wall screen", scope: READ) { token } }`,
  );
  const readToken: string = created.data.createApiToken.token;
  const failing = await svc.gql(SEND, {
    input: { to: 'read@example.com', subject: 'Seen by a read token', text: 'x' },
  });
  const id = failing.data.sendEmail.id;

  const page = await browser.open(`${svc.url}/?message=${id}`);
  await enterToken(page, readToken);
  await page.waitForSelector('[data-connection="live"]');
  await page.waitForSelector('text=Read-only token');
  await page.waitForSelector(`.detail[data-message-id="${id}"] .timeline`);
  assert.equal(await page.locator('text=Change…').count(), 0);
  assert.equal(await page.locator('text=Verify connection').count(), 0);
  assert.equal(await page.locator('.detail-actions').count(), 0);
  await browser.screenshot(page, 'desktop-read-token');
  await page.close();
});

test('a read token sees the suppression list but not the controls that change it', async () => {
  const added = await svc.gql(
    `mutation { addSuppression(address: "quiet@example.com", detail: "asked to stop") { address } }`,
  );
  assert.equal(added.errors, undefined, JSON.stringify(added.errors));
  const created = await svc.gql(
    `mutation { createApiToken(name: "support desk", scope: READ) { token } }`,
  );
  const readToken: string = created.data.createApiToken.token;

  const page = await browser.open(`${svc.url}/suppressions`);
  await enterToken(page, readToken);
  await page.waitForSelector('text=Read-only token');
  const row = page.locator('.suppression-table tr[data-address="quiet@example.com"]');
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /asked to stop/);
  assert.equal(await page.locator('.suppression-table button').count(), 0);
  assert.equal(await page.locator('.add-suppression').count(), 0);
  assert.match((await page.textContent('[data-read-only]')) ?? '', /needs an ADMIN token/);
  await page.close();
});

test('a send token is told it cannot read the dashboard, is not retried, and can be changed', async () => {
  const created = await svc.gql(
    `mutation { createApiToken(name: "mailer", scope: SEND) { token } }`,
  );
  const sendToken: string = created.data.createApiToken.token;
  const queued = await svc.gql(SEND, {
    input: { to: 'later@example.com', subject: 'Seen once the token is changed', text: 'x' },
  });
  const id = queued.data.sendEmail.id;

  const page = await browser.context.newPage();
  // Every subscription the page sends with each token, and every state the header shows.
  const subscribed = new Map<string, string[]>();
  page.on('websocket', (socket) => {
    let sentWith = '';
    socket.on('framesent', ({ payload }) => {
      const frame = JSON.parse(String(payload));
      if (frame.type === 'connection_init') sentWith = frame.payload?.authorization ?? '';
      if (frame.type === 'subscribe') {
        const list = subscribed.get(sentWith) ?? [];
        list.push(/^subscription (\w+)/.exec(frame.payload.query)?.[1] ?? '?');
        subscribed.set(sentWith, list);
      }
    });
  });
  await page.addInitScript((value) => {
    const page = globalThis as any; // the test's tsconfig has no DOM types
    page.sessionStorage.setItem('mailscope.apiToken', value);
    const states: string[] = (page.connectionStates = []);
    new page.MutationObserver(() => {
      const shown = page.document.querySelector('[data-connection]');
      const state = shown?.getAttribute('data-connection');
      if (state && state !== states.at(-1)) states.push(state);
    }).observe(page.document, { subtree: true, childList: true, attributes: true });
  }, sendToken);
  await page.goto(`${svc.url}/`);

  const problem = page.locator('dialog[open] [data-token-problem="forbidden"]');
  await problem.waitFor();
  assert.match((await problem.textContent()) ?? '', /READ or ADMIN/);
  assert.match((await page.textContent('dialog[open] h2')) ?? '', /cannot read the dashboard/);
  await page.waitForSelector('[data-connection="refused"]');
  await browser.screenshot(page, 'desktop-send-token');

  await page.fill('#token-input', TOKEN);
  await page.click('dialog[open] button[type="submit"]');
  await page.waitForSelector(`tbody tr[data-id="${id}"]`);
  await page.waitForSelector('[data-connection="live"]');
  // With the send token each subscription was sent once, refused, and left alone; the header
  // never claimed a lost connection.
  const withSendToken = subscribed.get(`Bearer ${sendToken}`) ?? [];
  assert.deepEqual(withSendToken, [...new Set(withSendToken)], `resent: ${withSendToken}`);
  const states: string[] = await page.evaluate(() => (globalThis as any).connectionStates);
  assert.ok(!states.includes('reconnecting'), `header states: ${states.join(' → ')}`);

  // The header offers another token whenever one is in use; cancelling keeps the current one.
  await page.getByRole('button', { name: 'Change token' }).click();
  await page.waitForSelector('dialog[open] h2:text("Change API token")');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.waitForSelector('dialog[open]', { state: 'detached' });
  await page.waitForSelector('[data-connection="live"]');
  await page.close();
});

test('a token changed through "Change token" carries the live feed too, not only the queries', async () => {
  const created = await svc.gql(
    `mutation { createApiToken(name: "watcher", scope: READ) { token } }`,
  );
  const readToken: string = created.data.createApiToken.token;
  const page = await browser.context.newPage();
  // The authorization each socket was opened with, in order.
  const sockets: string[] = [];
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => {
      const frame = JSON.parse(String(payload));
      if (frame.type === 'connection_init') sockets.push(frame.payload?.authorization ?? '');
    });
  });
  await page.addInitScript((value) => {
    (globalThis as any).sessionStorage.setItem('mailscope.apiToken', value);
  }, readToken);
  await page.goto(`${svc.url}/`);
  await page.waitForSelector('text=Read-only token');
  await page.waitForSelector('[data-connection="live"]');
  assert.deepEqual(sockets, [`Bearer ${readToken}`]);

  // The READ feed is live on an open socket: the ADMIN token must replace it there too (else the
  // feed stays on the old token, and ends when that one is revoked).
  await page.getByRole('button', { name: 'Change token' }).click();
  await page.fill('#token-input', TOKEN);
  await page.click('dialog[open] button[type="submit"]');
  await page.waitForSelector('text=Read-only token', { state: 'detached' });
  await waitFor(() => sockets.length === 2, { description: 'a socket opened with the new token' });
  assert.equal(sockets[1], `Bearer ${TOKEN}`);
  await page.waitForSelector('[data-connection="live"]');
  const queued = await svc.gql(SEND, {
    input: { to: 'changed@example.com', subject: 'Live after the change', text: 'x' },
  });
  await page.waitForSelector(`tbody tr[data-id="${queued.data.sendEmail.id}"]`);
  await page.close();
});
