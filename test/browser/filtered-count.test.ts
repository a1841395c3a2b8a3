import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchBrowser } from '../helpers/browser.ts';
import { startService } from '../helpers/service.ts';
import { startTestSmtpServer, type SmtpReply } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Under a status filter, a message beyond the loaded rows (on a page not fetched) may enter the
// filter or leave it; an event says only the new status, so the page asks the server to count
// again rather than guess.

const SEND = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`;

test('a message entering the filter from beyond the loaded page is counted', async (t) => {
  // The oldest message is deferred once, then held at its second attempt until the test lets it
  // fail for good; every other message fails for good at once.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const attempts = new Map<string, number>();
  const unknownUser = (address: string): SmtpReply => ({
    code: 550,
    message: `5.1.1 <${address}>: Recipient address rejected: User unknown`,
  });
  const smtp = await startTestSmtpServer(t, {
    rejectRecipients: async (address) => {
      const attempt = (attempts.get(address) ?? 0) + 1;
      attempts.set(address, attempt);
      if (address !== 'old@example.com') return unknownUser(address);
      if (attempt === 1) return { code: 451, message: '4.7.1 Greylisted, try again later' };
      await held;
      return unknownUser(address);
    },
  });
  const svc = await startService(t, {
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
  });
  const send = async (to: string) => {
    const result = await svc.gql(SEND, { input: { to, subject: to, text: 'Hi' } });
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    return result.data.sendEmail.id as string;
  };
  const count = async (status: string) =>
    (await svc.gql(`{ messages(filter: { status: [${status}] }) { totalCount } }`)).data.messages
      .totalCount as number;

  await send('old@example.com');
  await waitFor(() => attempts.get('old@example.com') === 2, {
    description: 'the oldest message held at its second attempt',
  });
  for (let i = 0; i < 60; i++) await send(`u${i}@example.com`);
  await waitFor(async () => (await count('ABANDONED')) === 60, { description: '60 ABANDONED' });

  const browser = await launchBrowser(t);
  const page = await browser.open(`${svc.url}/?status=ABANDONED`);
  const foot = () => page.locator('.table-foot').textContent();
  await waitFor(async () => /Showing 50 of 60/.test((await foot()) ?? ''), {
    description: 'the first page of 60',
  });

  release();
  await waitFor(async () => (await count('ABANDONED')) === 61, { description: 'old ABANDONED' });
  await waitFor(async () => /Showing 50 of 61/.test((await foot()) ?? ''), {
    description: 'the count to include the message that entered the filter beyond the page',
  });
  assert.deepEqual(browser.errors, []);
});
