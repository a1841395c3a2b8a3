import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import nodemailer from 'nodemailer';
import {
  arfComplaint,
  postfixBounce,
  postfixDelay,
  textDelayWarning,
} from '../helpers/bounce-fixtures.ts';
import type { Scope } from '../helpers/scope.ts';
import {
  graphqlRequest,
  startService,
  subscribe,
  wsClient,
  type TestService,
} from '../helpers/service.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Outcomes after SENT, end to end: mail goes out through a real SMTP server with a VERP envelope
// sender, reports come back into the bounce listener over SMTP, and the API, the live feed,
// the suppression list and /metrics show them. Runs on the suite's dialect.

const BOUNCE_DOMAIN = 'bounces.mailscope.test';
const API_TOKEN = 'bootstrap-token-for-bounce-tests';

interface Setup {
  svc: TestService;
  smtp: TestSmtpServer;
  bounce: { host: string; port: number };
}

async function setup(t: Scope): Promise<Setup> {
  const smtp = await startTestSmtpServer(t, { dsn: true, recordCommands: true });
  const svc = await startService(t, {
    API_TOKEN,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    BOUNCE_DOMAIN,
    BOUNCE_SMTP_PORT: '0',
    BOUNCE_SMTP_MAX_BYTES: '65536',
  });
  assert.ok(svc.app.bounceSmtp, 'the bounce listener runs');
  return { svc, smtp, bounce: svc.app.bounceSmtp };
}

/** Sends a report the way an MTA does: null sender, to the given address at the bounce domain. */
async function sendReport(
  t: Scope,
  bounce: { host: string; port: number },
  to: string,
  raw: string,
): Promise<string> {
  const transport = nodemailer.createTransport({
    host: bounce.host,
    port: bounce.port,
    secure: false,
    ignoreTLS: true,
  });
  t.after(() => transport.close());
  const info = await transport.sendMail({ envelope: { from: '', to: [to] }, raw });
  return info.response;
}

const SEND = `mutation($to: String!) { sendEmail(input: { to: $to, subject: "Welcome", text: "hi" }) { id status messageId } }`;
const MESSAGE = `query($id: ID!) { message(id: $id) { id status outcome
  reports { at outcome source bounceType enhancedStatus diagnostic remoteMta hint }
  events { status reason outcome } } }`;

async function sendAndWaitSent(svc: TestService, smtp: TestSmtpServer, to: string) {
  const sent = await svc.gql(SEND, { to });
  assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
  const message = sent.data.sendEmail;
  await waitFor(
    async () => (await svc.gql(MESSAGE, { id: message.id })).data.message.status === 'SENT',
    { description: `message ${message.id} SENT` },
  );
  const mail = smtp.received.find((received) => received.to.includes(to));
  assert.ok(mail, 'the SMTP server got it');
  return { id: message.id as string, messageId: message.messageId as string, from: mail.from };
}

describe(`bounces and suppression end to end (${TEST_DIALECT})`, () => {
  test('a DSN marks the message BOUNCED, suppresses the address, shows live and in /metrics', async (t) => {
    const { svc, smtp, bounce } = await setup(t);
    const feed = subscribe(
      wsClient(t, svc.url, API_TOKEN),
      `subscription { messageEvents(filter: { outcome: [BOUNCED, DEFERRED] }) { reason outcome status message { id outcome } } }`,
    );
    const sent = await sendAndWaitSent(svc, smtp, 'gone@example.com');
    // VERP envelope sender, and DSN parameters since the server offers DSN.
    assert.match(sent.from, new RegExp(`^bounces\\+${sent.id}-[a-z2-7]{24}@${BOUNCE_DOMAIN}$`));
    const mailFrom = smtp.events.find((line) => line.startsWith('MAIL FROM:<bounces+'));
    assert.match(mailFrom ?? '', /RET=HDRS/);
    assert.match(mailFrom ?? '', /ENVID=/);
    assert.ok(
      smtp.events.some((line) => /^RCPT TO:<gone@example.com> NOTIFY=FAILURE,DELAY/.test(line)),
      smtp.events.join('\n'),
    );

    // A delay first, then the bounce; the bounce delivered twice counts once.
    await sendReport(
      t,
      bounce,
      sent.from,
      postfixDelay({ recipient: 'gone@example.com', messageId: sent.messageId, to: sent.from }),
    );
    const bounceMail = postfixBounce({
      recipient: 'gone@example.com',
      messageId: sent.messageId,
      to: sent.from,
      reportId: '<bounce-1@mx.sender.test>',
    });
    assert.match(await sendReport(t, bounce, sent.from, bounceMail), /^250/);
    assert.match(await sendReport(t, bounce, sent.from, bounceMail), /^250/);
    // A late delay warning does not hide the bounce.
    await sendReport(
      t,
      bounce,
      sent.from,
      textDelayWarning({ recipient: 'gone@example.com', messageId: sent.messageId, to: sent.from }),
    );

    const message = await waitFor(
      async () => {
        const found = (await svc.gql(MESSAGE, { id: sent.id })).data.message;
        return found.reports.length === 3 ? found : null;
      },
      { description: 'three reports' },
    );
    assert.equal(message.status, 'SENT');
    assert.equal(message.outcome, 'BOUNCED');
    assert.deepEqual(
      message.reports.map((r: { outcome: string }) => r.outcome),
      ['DEFERRED', 'BOUNCED', 'DEFERRED'],
    );
    const bounced = message.reports[1];
    assert.equal(bounced.source, 'DSN');
    assert.equal(bounced.bounceType, 'HARD');
    assert.equal(bounced.enhancedStatus, '5.1.1');
    assert.match(bounced.diagnostic, /User unknown in virtual mailbox table/);
    assert.equal(bounced.remoteMta, 'dns; mx.example.com');
    assert.match(bounced.hint, /does not exist/);
    assert.deepEqual(
      message.events
        .filter((e: { outcome: string | null }) => e.outcome !== null)
        .map((e: { status: string; reason: string }) => [e.status, e.reason]),
      [
        ['SENT', 'report_dsn'],
        ['SENT', 'report_dsn'],
        ['SENT', 'report_dsn'],
      ],
    );

    // Live: the three report events, nothing else (the filter picks outcomes).
    await waitFor(() => feed.received.length >= 3, { description: 'three live report events' });
    assert.deepEqual(
      feed.received.map((r) => r.messageEvents.outcome),
      ['DEFERRED', 'BOUNCED', 'DEFERRED'],
    );
    assert.equal(feed.received[2].messageEvents.message.outcome, 'BOUNCED');

    const listed = await svc.gql(
      `{ suppressions { totalCount edges { node { address reason detail message { id } } } } }`,
    );
    assert.equal(listed.data.suppressions.totalCount, 1);
    assert.deepEqual(listed.data.suppressions.edges[0].node.address, 'gone@example.com');
    assert.equal(listed.data.suppressions.edges[0].node.reason, 'HARD_BOUNCE');
    assert.equal(listed.data.suppressions.edges[0].node.message.id, sent.id);

    const filtered = await svc.gql(
      `{ messages(filter: { outcome: [BOUNCED] }) { totalCount edges { node { id } } } }`,
    );
    assert.equal(filtered.data.messages.totalCount, 1);

    const stats = await svc.gql(
      `{ deliveryStats { sent delivered deferred bouncedHard bouncedSoft complained bounceRate complaintRate } }`,
    );
    assert.deepEqual(stats.data.deliveryStats, {
      sent: 1,
      delivered: 0,
      deferred: 2,
      bouncedHard: 1,
      bouncedSoft: 0,
      complained: 0,
      bounceRate: 1,
      complaintRate: 0,
    });

    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    assert.match(
      metrics,
      /mailscope_delivery_reports_total\{source="DSN",outcome="BOUNCED_HARD"\} 1/,
    );
    assert.match(metrics, /mailscope_delivery_reports_total\{source="DSN",outcome="DEFERRED"\} 2/);
    assert.match(metrics, /mailscope_suppressions_added_total\{reason="HARD_BOUNCE"\} 1/);
  });

  test('suppressed sends store SUPPRESSED; READ lists only; retry works once removed', async (t) => {
    const { svc, smtp } = await setup(t);
    const read = await svc.gql(
      `mutation { createApiToken(name: "reader", scope: READ) { token } }`,
    );
    const readToken = read.data.createApiToken.token as string;
    const added = await svc.gql(
      `mutation { addSuppression(address: "Stop@Example.com", detail: "asked") { address reason createdAt message { id } } }`,
    );
    assert.equal(added.data.addSuppression.reason, 'MANUAL');
    assert.equal(added.data.addSuppression.message, null);
    const again = await svc.gql(
      `mutation { addSuppression(address: "stop@example.com") { address } }`,
    );
    assert.equal(again.data.addSuppression.address, 'Stop@Example.com');
    const bad = await svc.gql(`mutation { addSuppression(address: "not an address") { address } }`);
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');

    const sent = await svc.gql(SEND, { to: 'stop@example.com' });
    assert.equal(sent.data.sendEmail.status, 'SUPPRESSED');
    const id = sent.data.sendEmail.id as string;
    const conflict = await svc.gql(`mutation($id: ID!) { retryMessage(id: $id) { status } }`, {
      id,
    });
    assert.equal(conflict.errors?.[0]?.extensions?.code, 'CONFLICT');
    assert.match(conflict.errors?.[0]?.message ?? '', /suppression list/);

    const gqlAs = (token: string, query: string) =>
      graphqlRequest(`${svc.url}/graphql`, query, {}, token);
    const readList = await gqlAs(readToken, `{ suppressions { totalCount } }`);
    assert.equal(readList.data.suppressions.totalCount, 1);
    const readRemove = await gqlAs(
      readToken,
      `mutation { removeSuppression(address: "stop@example.com") }`,
    );
    assert.equal(readRemove.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const readAdd = await gqlAs(
      readToken,
      `mutation { addSuppression(address: "x@example.com") { address } }`,
    );
    assert.equal(readAdd.errors?.[0]?.extensions?.code, 'FORBIDDEN');

    const removed = await svc.gql(`mutation { removeSuppression(address: "STOP@example.com") }`);
    assert.equal(removed.data.removeSuppression, true);
    const removedAgain = await svc.gql(
      `mutation { removeSuppression(address: "stop@example.com") }`,
    );
    assert.equal(removedAgain.data.removeSuppression, false);
    assert.equal(smtp.receivedCount, 0, 'nothing was sent while suppressed');

    const retried = await svc.gql(`mutation($id: ID!) { retryMessage(id: $id) { status } }`, {
      id,
    });
    assert.equal(retried.errors, undefined, JSON.stringify(retried.errors));
    await waitFor(async () => (await svc.gql(MESSAGE, { id })).data.message.status === 'SENT', {
      description: 'the retried message SENT',
    });
    assert.equal(smtp.receivedCount, 1);
    const stats = await svc.gql(`{ deliveryStats { suppressed } }`);
    assert.equal(stats.data.deliveryStats.suppressed, 1);
  });

  test('complaints suppress; unmatched and forged reports are kept apart; relaying and oversize refused', async (t) => {
    const { svc, smtp, bounce } = await setup(t);
    const sent = await sendAndWaitSent(svc, smtp, 'annoyed@example.com');
    await sendReport(
      t,
      bounce,
      `fbl@${BOUNCE_DOMAIN}`,
      arfComplaint({ recipient: 'annoyed@example.com', messageId: sent.messageId, to: sent.from }),
    );
    await waitFor(
      async () => (await svc.gql(MESSAGE, { id: sent.id })).data.message.outcome === 'COMPLAINED',
      { description: 'COMPLAINED' },
    );
    const entry = await svc.gql(
      `{ suppressions(address: "ANNOYED@example.com") { edges { node { reason } } } }`,
    );
    assert.equal(entry.data.suppressions.edges[0].node.reason, 'COMPLAINT');

    // A forged VERP token: kept as unmatched, never steered onto the message it quotes.
    const forged = `bounces+${sent.id}-${'a'.repeat(24)}@${BOUNCE_DOMAIN}`;
    await sendReport(
      t,
      bounce,
      forged,
      postfixBounce({ recipient: 'annoyed@example.com', messageId: sent.messageId, to: forged }),
    );
    // No token, and a forged ENVID: the same, though the quoted Message-ID would match.
    await sendReport(
      t,
      bounce,
      `postmaster@${BOUNCE_DOMAIN}`,
      postfixBounce({
        recipient: 'annoyed@example.com',
        messageId: sent.messageId,
        to: `postmaster@${BOUNCE_DOMAIN}`,
        envid: `${sent.id}-${'b'.repeat(24)}`,
      }),
    );
    // No token, no ENVID and a Message-ID we never sent.
    await sendReport(
      t,
      bounce,
      `postmaster@${BOUNCE_DOMAIN}`,
      postfixBounce({
        recipient: 'stranger@example.org',
        messageId: '<unknown@else.test>',
        to: 'x',
      }),
    );
    const unmatched = await waitFor(
      async () => {
        const found = (await svc.gql(`{ unmatchedReports { source outcome recipient detail } }`))
          .data.unmatchedReports;
        return found.length === 3 ? found : null;
      },
      { description: 'three unmatched reports' },
    );
    assert.deepEqual(
      unmatched.map((r: { recipient: string }) => r.recipient),
      ['stranger@example.org', 'annoyed@example.com', 'annoyed@example.com'],
    );
    const message = (await svc.gql(MESSAGE, { id: sent.id })).data.message;
    assert.equal(message.reports.length, 1, 'the forged bounce did not land on the message');
    const stats = await svc.gql(`{ deliveryStats { complained unmatchedReports complaintRate } }`);
    assert.deepEqual(stats.data.deliveryStats, {
      complained: 1,
      unmatchedReports: 3,
      complaintRate: 1,
    });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    assert.match(metrics, /mailscope_unmatched_reports_total\{source="DSN"\} 3/);

    // A mail no parser will ever read (more parts than mailparser takes): refused for good, not
    // "try again later", which would have the sending MTA retry it for days.
    const parts = Array.from({ length: 1_100 }, () => '--P\r\n\r\nx\r\n').join('');
    await assert.rejects(
      sendReport(
        t,
        bounce,
        `postmaster@${BOUNCE_DOMAIN}`,
        `Subject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="P"\r\n\r\n${parts}--P--\r\n`,
      ),
      /550 5\.6\.0/,
    );

    // An auto-reply is mail, not a report: taken (no retries), stored nowhere, and said so.
    const autoReply = await sendReport(
      t,
      bounce,
      `postmaster@${BOUNCE_DOMAIN}`,
      'Subject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\nBack on Monday.\r\n',
    );
    assert.match(autoReply, /^250 2\.0\.0 Ok: no delivery report found in it; ignored/);
    assert.equal(
      (await svc.gql(`{ deliveryStats { unmatchedReports } }`)).data.deliveryStats.unmatchedReports,
      3,
    );

    await assert.rejects(
      sendReport(t, bounce, 'someone@elsewhere.test', 'Subject: relay me\r\n\r\nplease\r\n'),
      /550/,
    );
    await assert.rejects(
      sendReport(
        t,
        bounce,
        `postmaster@${BOUNCE_DOMAIN}`,
        `Subject: big\r\n\r\n${'x'.repeat(70_000)}\r\n`,
      ),
      /552/,
    );
    // The process stays healthy.
    assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
  });
});
