// Regenerates docs/dashboard.png (npm run build first): a real service, a test SMTP server
// that rejects one recipient, and headless Chromium at 1366×800.
import nodemailer from 'nodemailer';
import { postfixBounce, postfixDelay } from '../test/helpers/bounce-fixtures.ts';
import { closedByCaller } from '../test/helpers/scope.ts';
import { startService } from '../test/helpers/service.ts';
import { startTestSmtpServer } from '../test/helpers/smtp-server.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import { waitFor } from '../test/helpers/wait-for.ts';
// The scene: a few delivered messages, one of them bounced later and one delayed, and a rejected
// one open in the detail panel.
const smtp = await startTestSmtpServer(closedByCaller, {
  greylist: 1,
  auth: { username: 'relay', password: 'hunter2' },
  rejectRecipients: (a) =>
    a.startsWith('nobody@')
      ? {
          code: 550,
          message: `5.1.1 <${a}>: Recipient address rejected: User unknown in virtual mailbox table`,
        }
      : null,
});
const svc = await startService(closedByCaller, {
  SMTP_CONNECTION_URI: `smtp://relay:hunter2@${smtp.host}:${smtp.port}/?disable_starttls=true`,
  DELIVERY_RETRY_BASE_MS: '1500',
  BOUNCE_DOMAIN: 'bounces.acme.test',
  BOUNCE_SMTP_PORT: '0',
});
/** A report as the receiving MTA sends it, into the service's bounce listener. */
async function report(to: string, kind: 'bounce' | 'delay') {
  const mail = smtp.received.find((m) => m.to.includes(to))!;
  const messageId = /^Message-ID: (.*)$/im.exec(mail.raw)![1]!.trim();
  const fixture = kind === 'bounce' ? postfixBounce : postfixDelay;
  const transport = nodemailer.createTransport({
    host: svc.app.bounceSmtp!.host,
    port: svc.app.bounceSmtp!.port,
    ignoreTLS: true,
  });
  await transport.sendMail({
    envelope: { from: '', to: [mail.from] },
    raw: fixture({ recipient: to, messageId, to: mail.from }),
  });
  transport.close();
}
const send = (to: string, subject: string) =>
  svc.gql(`mutation ($i: SendEmailInput!) { sendEmail(input: $i) { id } }`, {
    i: { to, subject, text: 'x', headers: [{ name: 'X-Campaign', value: 'onboarding' }] },
  });
const list = [
  ['maria.garcia@example.com', 'Welcome to Acme — confirm your address'],
  ['j.smith@example.org', 'Your invoice #10482'],
  ['nobody@example.net', 'Reset your password'],
  ['li.wei@example.com', 'Weekly digest: 12 new comments'],
  ['ops-alerts@example.com', 'Disk usage above 90% on db-2'],
  ['sam.taylor@example.com', 'Your order has shipped'],
  ['priya.n@example.org', 'Reset your password'],
];
let abandoned = '';
for (const [to, subject] of list) {
  const r = await send(to!, subject!);
  if (to!.startsWith('nobody')) abandoned = r.data.sendEmail.id;
}
await waitFor(
  async () =>
    (await svc.gql(`{ messages(filter:{status:[SENT]}) { totalCount } }`)).data.messages
      .totalCount >= 6,
  { timeoutMs: 20000 },
);
await report('j.smith@example.org', 'bounce');
await report('li.wei@example.com', 'delay');
const b = await launchBrowser(closedByCaller);
const page = await b.open(svc.url + '/');
await page.waitForSelector('[data-connection="live"]');
await send('new.user@example.com', 'Welcome to Acme — confirm your address');
await page.waitForTimeout(600);
await page.click(`tbody tr[data-id="${abandoned}"]`);
await page.waitForSelector('.detail [data-hint]');
// Clicking the row scrolled it into view; the picture starts at the top.
await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
await page.waitForTimeout(1500);
await page.screenshot({ path: 'docs/dashboard.png', animations: 'disabled' });
if (b.errors.length > 0) console.error(b.errors);
console.log('wrote docs/dashboard.png');
await b.close();
await svc.close();
await smtp.close();
