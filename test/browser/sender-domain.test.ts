import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { startTestDnsServer, type TestDnsServer, type Zones } from '../helpers/dns-server.ts';
import { fileScope } from '../helpers/scope.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The sender-domain check and the DKIM record beside the SMTP settings, in a real browser, against
// an authoritative DNS server of the test's own on 127.0.0.1 (DNS_SERVERS): nothing here reaches
// the internet.

const DOMAIN = 'shop.test';

let smtp: TestSmtpServer;
let dns: TestDnsServer;
let svc: TestService;
let browser: TestBrowser;
let dkim: { dnsRecordName: string; dnsRecordValue: string };

/** Our own server, authorised by SPF; no DMARC record yet; DKIM as mailscope signs. */
function zones(extra: Zones = {}): Zones {
  return {
    [DOMAIN]: [{ type: 'TXT', value: 'v=spf1 ip4:127.0.0.1 -all' }],
    [dkim.dnsRecordName]: [{ type: 'TXT', value: dkim.dnsRecordValue }],
    ...extra,
  };
}

before(async () => {
  smtp = await startTestSmtpServer(fileScope);
  dns = await startTestDnsServer(fileScope, {});
  svc = await startService(fileScope, { DNS_SERVERS: dns.address, DNS_TIMEOUT_MS: '400' });
  const configured = await svc.gql(
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { dkim { dnsRecordName dnsRecordValue } } }`,
    {
      input: {
        connectionUri: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
        fromAddress: `news@${DOMAIN}`,
        dkim: { domain: DOMAIN, selector: 'mail' },
      },
    },
  );
  assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
  dkim = configured.data.configureSmtp.dkim;
  dns.setZones(zones());
  browser = await launchBrowser(fileScope);
});
after(() => {
  assert.deepEqual(browser.errors, [], 'the page logged errors');
});

interface Item {
  name: string;
  status: string;
  found: string[];
  expected: string | null;
  detail: string;
  hint: string | null;
}

async function apiCheck(): Promise<{ ready: boolean; checks: Item[] }> {
  const result = await svc.gql(
    `{ checkSenderDomain { ready checks { name status found expected detail hint } } }`,
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data.checkSenderDomain;
}

/** Each item as the page shows it. */
const shownItems = (page: Page) =>
  page.$$eval('.domain-result [data-check]', (items) =>
    items.map((item) => ({
      name: (item as any).dataset.check as string,
      status: (item.querySelector('[data-check-status]') as any).dataset.checkStatus as string,
      text: item.textContent ?? '',
      found: [...item.querySelectorAll('[data-found] li')].map((li) => li.textContent),
      expected: [...item.querySelectorAll('[data-expected] [data-record]')]
        .map((pre) => pre.textContent)
        .join('\n'),
      hint: item.querySelector('[data-check-hint]')?.textContent ?? null,
    })),
  );

test('the SMTP card shows the DKIM record and checks the sender domain on demand', async () => {
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: svc.url,
  });
  const page = await browser.open(svc.url);
  await page.waitForSelector('[data-connection="live"]');

  // DKIM: mailscope signs, and the record to publish is there to copy.
  assert.equal(await page.textContent('[data-dkim-state]'), 'signed by mailscope');
  await page.click('[data-dkim] summary');
  const records = await page.$$eval('[data-dkim] [data-record]', (pres) =>
    pres.map((pre) => pre.textContent),
  );
  assert.deepEqual(records, [dkim.dnsRecordName, dkim.dnsRecordValue]);
  await page.click('[data-dkim] button[aria-label="Copy the DKIM record value"]');
  await page.waitForSelector('[data-dkim] button:text("Copied")');
  assert.equal(
    await page.evaluate(() => (globalThis as any).navigator.clipboard.readText()),
    dkim.dnsRecordValue,
  );

  // The check reads the test DNS: DMARC is missing, so the domain is not ready.
  const expected = await apiCheck();
  const dmarc = expected.checks.find((item) => item.name === 'DMARC')!;
  assert.equal(dmarc.status, 'MISSING');
  assert.ok(dmarc.expected, 'the API says what DMARC record to publish');
  await page.click('text=Check sender domain');
  await page.waitForSelector('.domain-result [data-check="DMARC"]');
  assert.equal(await page.getAttribute('.domain-result', 'data-domain'), DOMAIN);
  assert.equal(await page.getAttribute('[data-ready]', 'data-ready'), 'false');
  const shown = await shownItems(page);
  assert.deepEqual(
    shown.map((item) => [item.name, item.status]),
    expected.checks.map((item) => [item.name, item.status]),
  );
  for (const [index, item] of expected.checks.entries()) {
    const onPage = shown[index]!;
    assert.ok(onPage.text.includes(item.detail), `${item.name} detail shown: ${onPage.text}`);
    assert.deepEqual(onPage.found, item.found, `${item.name} records found`);
    assert.equal(onPage.expected, item.expected ?? '', `${item.name} record to publish`);
    if (item.hint) assert.ok(onPage.hint?.includes(item.hint), `${item.name} hint shown`);
  }
  const dkimItem = shown.find((item) => item.name === 'DKIM')!;
  assert.equal(dkimItem.status, 'OK', 'the key published is the one mailscope signs with');
  const dmarcItem = page.locator('.domain-result [data-check="DMARC"]');
  assert.equal(await dmarcItem.locator('[data-check-status]').textContent(), 'Missing');
  await dmarcItem.locator('button.copy').first().click();
  await dmarcItem.locator('button:text("Copied")').waitFor();
  assert.equal(
    await page.evaluate(() => (globalThis as any).navigator.clipboard.readText()),
    dmarc.expected!.split('\n')[0],
  );
  await browser.screenshot(page, 'desktop-sender-domain');

  // Published; checked again on demand, the same panel says so.
  dns.setZones(zones({ [`_dmarc.${DOMAIN}`]: [{ type: 'TXT', value: 'v=DMARC1; p=reject' }] }));
  await page.click('text=Check again');
  await waitFor(
    async () =>
      (await page.getAttribute(
        '.domain-result [data-check="DMARC"] [data-check-status]',
        'data-check-status',
      )) === 'OK',
    { description: 'DMARC to be OK after it was published' },
  );
  assert.equal(
    await page.locator('.domain-result [data-check="DMARC"] [data-expected]').count(),
    0,
  );
  assert.equal(
    (await apiCheck()).ready,
    await page.getAttribute('[data-ready]', 'data-ready').then((v) => v === 'true'),
  );
  await page.close();
});

test('a name server that fails shows as a DNS failure, with what the API says', async () => {
  const page = await browser.open(svc.url);
  await page.waitForSelector('[data-connection="live"]');
  await page.click('.domain-options summary');
  await page.fill('#domain-check-domain', 'broken.test');
  dns.setZones({ ...zones(), 'broken.test': 'SERVFAIL' });
  await page.click('text=Check sender domain');
  await page.waitForSelector('.domain-result[data-domain="broken.test"]');
  const api = await svc.gql(
    `{ checkSenderDomain(domain: "broken.test") { checks { name status } } }`,
  );
  const statuses = await page.$$eval('.domain-result [data-check]', (items) =>
    items.map((item) => ({
      name: (item as any).dataset.check as string,
      status: (item.querySelector('[data-check-status]') as any).dataset.checkStatus as string,
    })),
  );
  assert.deepEqual(statuses, api.data.checkSenderDomain.checks);
  const spf = page.locator('.domain-result [data-check="SPF"] [data-check-status]');
  assert.equal(await spf.getAttribute('data-check-status'), 'TEMPFAIL');
  assert.equal(await spf.textContent(), 'DNS failed');
  assert.equal(await page.getAttribute('[data-ready]', 'data-ready'), 'false');
  await page.close();
});
