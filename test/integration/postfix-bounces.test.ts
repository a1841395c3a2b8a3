import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { postfixAvailable, startTestPostfix } from '../helpers/postfix.ts';
import { startService } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// A real MTA: mailscope hands mail to Debian's Postfix, which relays it to a test SMTP server
// that refuses some recipients after Postfix accepted them. Postfix's own bounces must come
// back through the bounce listener and mark exactly those messages BOUNCED, with its words.

const BOUNCE_DOMAIN = 'bounces.mailscope.test';

describe(
  `Postfix bounces come back (${TEST_DIALECT})`,
  { skip: !postfixAvailable() && 'needs Postfix and root (.ci/run installs it)' },
  () => {
    test('rejected after acceptance: BOUNCED with the diagnostic, suppressed; the others DELIVERED nothing', async (t) => {
      const downstream = await startTestSmtpServer(t, {
        rejectRecipients: (address) =>
          address.startsWith('gone')
            ? {
                code: 550,
                message: '5.1.1 <' + address + '>: Recipient address rejected: User unknown',
              }
            : null,
      });
      // The listener's port is known once the service runs, and Postfix needs it: the service
      // starts first, pointing at a Postfix port reserved for it.
      const svc = await startService(t, {
        BOUNCE_DOMAIN,
        BOUNCE_SMTP_PORT: '0',
        // Configured below with configureSmtp, once Postfix runs.
        EMBEDDED_SMTP_PORT: 'off',
      });
      const postfix = await startTestPostfix(t, {
        relay: { host: downstream.host, port: downstream.port },
        bounceDomain: BOUNCE_DOMAIN,
        bounceListener: svc.app.bounceSmtp!,
      });
      const configured = await svc.gql(
        `mutation($uri: String!) { configureSmtp(input: { connectionUri: $uri, fromAddress: "app@sender.test" }) { version } }`,
        { uri: `smtp://${postfix.host}:${postfix.port}/?disable_starttls=true` },
      );
      assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
      const ids: Record<string, string> = {};
      for (const to of ['gone@example.com', 'ok@example.com', 'gone2@example.com']) {
        const sent = await svc.gql(
          `mutation($to: String!) { sendEmail(input: { to: $to, subject: "via postfix", text: "hi" }) { id } }`,
          { to },
        );
        assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
        ids[to] = sent.data.sendEmail.id;
      }
      const query = `query($id: ID!) { message(id: $id) { status outcome reports { source bounceType enhancedStatus diagnostic remoteMta } } }`;
      for (const to of ['gone@example.com', 'gone2@example.com']) {
        const message = await waitFor(
          async () => {
            const found = (await svc.gql(query, { id: ids[to] })).data.message;
            return found.outcome === 'BOUNCED' ? found : null;
          },
          { description: `${to} BOUNCED through Postfix`, timeoutMs: 30_000 },
        ).catch((error: Error) => {
          throw new Error(`${error.message}\n${postfix.log()}`);
        });
        assert.equal(message.status, 'SENT');
        const [report] = message.reports;
        assert.equal(report.source, 'DSN');
        assert.equal(report.bounceType, 'HARD');
        assert.equal(report.enhancedStatus, '5.1.1');
        assert.match(report.diagnostic, /Recipient address rejected: User unknown/);
      }
      await waitFor(() => downstream.received.some((mail) => mail.to.includes('ok@example.com')), {
        description: 'ok@example.com relayed',
      });
      const ok = (await svc.gql(query, { id: ids['ok@example.com'] })).data.message;
      assert.equal(ok.outcome, null);
      const listed = await svc.gql(
        `{ suppressions { totalCount } unmatchedReports { recipient } }`,
      );
      assert.equal(listed.data.suppressions.totalCount, 2);
      assert.deepEqual(listed.data.unmatchedReports, []);
    });
  },
);
