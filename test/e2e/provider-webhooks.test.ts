import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { subscribe, wsClient } from '../helpers/service.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import {
  API_TOKEN,
  assertHealthy,
  headerOf,
  MESSAGE,
  post,
  sendOne,
  startProviderService,
  storedCounts,
} from '../helpers/webhooks.ts';

// Provider event webhooks end to end: mail goes out through a test SMTP server answering at the
// provider's host name (so it carries that provider's stamp), and events signed with keys made
// here come back to /webhooks/<provider>. Runs on the suite's dialect.

const nowSeconds = () => String(Math.floor(Date.now() / 1000));

function sendgridKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKey,
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

function sendgridHeaders(privateKey: KeyObject, body: string, timestamp = nowSeconds()) {
  const signature = sign('sha256', Buffer.from(timestamp + body), privateKey).toString('base64');
  return {
    'content-type': 'application/json',
    'x-twilio-email-event-webhook-signature': signature,
    'x-twilio-email-event-webhook-timestamp': timestamp,
  };
}

/**
 * POSTs a body of `total` bytes as many simple clients do (Python's http.client, curl): the
 * whole body first, and the answer read once it is sent. Resolves with the status line, or with
 * the error that ended the exchange (a connection reset under the client: no answer for it).
 */
function postWholeBodyFirst(url: string, headers: Record<string, string>, total: number) {
  const { hostname, port, pathname } = new URL(url);
  return new Promise<string>((resolve) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    let sent = 0;
    const answerOnceSent = () => {
      const end = received.indexOf('\r\n');
      if (end === -1 || sent < total) return;
      resolve(received.slice(0, end));
      socket.destroy();
    };
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      answerOnceSent();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
    socket.on('close', () => resolve(`closed after ${JSON.stringify(received)}`));
    const head = [`POST ${pathname} HTTP/1.1`, `host: ${hostname}:${port}`];
    for (const [name, value] of Object.entries({ ...headers, 'content-length': String(total) })) {
      head.push(`${name}: ${value}`);
    }
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      answerOnceSent();
    };
    pump();
  });
}

describe(`provider event webhooks (${TEST_DIALECT})`, () => {
  test('SendGrid: a signed bounce marks the message, suppresses, shows live; forgeries change nothing', async (t) => {
    const keys = sendgridKeys();
    const setup = await startProviderService(t, 'smtp.sendgrid.net', {
      SENDGRID_WEBHOOK_PUBLIC_KEY: keys.publicKeyBase64,
    });
    const { svc } = setup;
    const url = `${svc.url}/webhooks/sendgrid`;
    const feed = subscribe(
      wsClient(t, svc.url, API_TOKEN),
      `subscription { messageEvents(filter: { outcome: [BOUNCED] }) { reason outcome status message { id outcome } } }`,
    );
    const sent = await sendOne(setup, 'gone@example.com');
    const smtpApi = JSON.parse(headerOf(sent.raw, 'X-SMTPAPI') ?? '{}');
    assert.deepEqual(smtpApi, { unique_args: { 'mailscope-id': sent.id } });
    assert.equal(headerOf(sent.raw, 'X-Mailgun-Variables'), null, 'no other provider stamps');
    assert.equal(headerOf(sent.raw, 'X-SES-MESSAGE-TAGS'), null);

    const bounce = JSON.stringify([
      {
        email: 'gone@example.com',
        timestamp: Number(nowSeconds()),
        'smtp-id': sent.messageId,
        event: 'bounce',
        type: 'bounce',
        status: '5.1.1',
        reason: '550 5.1.1 The email account that you tried to reach does not exist',
        sg_event_id: 'sg-event-1',
        sg_message_id: 'sg-message-1',
        'mailscope-id': sent.id,
      },
      { email: 'gone@example.com', event: 'open', sg_event_id: 'sg-event-open' },
    ]);
    const before = await storedCounts(svc);
    // Forgeries and broken requests first: none of them stores anything.
    const other = sendgridKeys();
    const refusals: [string, Record<string, string>, string | Buffer, number][] = [
      ['unsigned', { 'content-type': 'application/json' }, bounce, 401],
      ['signed by another key', sendgridHeaders(other.privateKey, bounce), bounce, 401],
      [
        'body changed after signing',
        sendgridHeaders(keys.privateKey, bounce),
        bounce.replace('5.1.1', '5.1.2'),
        401,
      ],
      [
        'timestamp 11 minutes old',
        sendgridHeaders(keys.privateKey, bounce, String(Math.floor(Date.now() / 1000) - 660)),
        bounce,
        401,
      ],
      ['signed but not JSON', sendgridHeaders(keys.privateKey, '{"oops'), '{"oops', 400],
      ['signed, not an array', sendgridHeaders(keys.privateKey, '{}'), '{}', 400],
      [
        'oversize',
        { 'content-type': 'application/json' },
        Buffer.alloc(5 * 1024 * 1024, 0x20),
        413,
      ],
    ];
    for (const [what, headers, body, status] of refusals) {
      const answer = await post(url, body, headers);
      assert.equal(answer.status, status, what);
    }
    assert.deepEqual(await storedCounts(svc), before);
    await assertHealthy(svc);

    const accepted = await post(url, bounce, sendgridHeaders(keys.privateKey, bounce));
    assert.equal(accepted.status, 200);
    assert.deepEqual(accepted.json, { received: 1, recorded: 1, duplicate: 0, unmatched: 0 });
    // SendGrid's retry of the same batch: 200, nothing changes.
    const retried = await post(url, bounce, sendgridHeaders(keys.privateKey, bounce));
    assert.equal(retried.status, 200);
    assert.equal(retried.json.duplicate, 1);

    const message = (await svc.gql(MESSAGE, { id: sent.id })).data.message;
    assert.equal(message.status, 'SENT');
    assert.equal(message.outcome, 'BOUNCED');
    assert.equal(message.reports.length, 1);
    assert.deepEqual(message.reports[0], {
      outcome: 'BOUNCED',
      source: 'SENDGRID',
      bounceType: 'HARD',
      enhancedStatus: '5.1.1',
      diagnostic: '550 5.1.1 The email account that you tried to reach does not exist',
      remoteMta: null,
      hint: message.reports[0].hint,
    });
    assert.match(message.reports[0].hint, /does not exist/);
    await waitFor(() => feed.received.length >= 1, { description: 'the report live' });
    assert.deepEqual(feed.received[0].messageEvents, {
      reason: 'report_sendgrid',
      outcome: 'BOUNCED',
      status: 'SENT',
      message: { id: sent.id, outcome: 'BOUNCED' },
    });
    const listed = await svc.gql(
      `{ suppressions { edges { node { address reason message { id } } } } }`,
    );
    assert.deepEqual(listed.data.suppressions.edges[0].node, {
      address: 'gone@example.com',
      reason: 'HARD_BOUNCE',
      message: { id: sent.id },
    });

    // Matched by the echoed smtp-id alone; and an event for no message of ours is kept.
    const other2 = await sendOne(setup, 'later@example.com');
    const byMessageId = JSON.stringify([
      {
        email: 'later@example.com',
        'smtp-id': other2.messageId,
        event: 'delivered',
        sg_event_id: 'sg-2',
      },
      {
        email: 'who@example.com',
        'smtp-id': '<nobody@x.test>',
        event: 'spamreport',
        sg_event_id: 'sg-3',
      },
    ]);
    const mixed = await post(url, byMessageId, sendgridHeaders(keys.privateKey, byMessageId));
    assert.deepEqual(mixed.json, { received: 2, recorded: 1, duplicate: 0, unmatched: 1 });
    assert.equal((await svc.gql(MESSAGE, { id: other2.id })).data.message.outcome, 'DELIVERED');
    const unmatched = await svc.gql(`{ unmatchedReports { source outcome recipient } }`);
    assert.deepEqual(unmatched.data.unmatchedReports, [
      { source: 'SENDGRID', outcome: 'COMPLAINED', recipient: 'who@example.com' },
    ]);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    assert.match(
      metrics,
      /mailscope_delivery_reports_total\{source="SENDGRID",outcome="BOUNCED_HARD"\} 1/,
    );
    assert.match(metrics, /mailscope_unmatched_reports_total\{source="SENDGRID"\} 1/);
    // Not configured here: 404.
    assert.equal((await post(`${svc.url}/webhooks/mailgun`, '{}')).status, 404);
    assert.equal((await post(`${svc.url}/webhooks/postmark`, '{}')).status, 404);
    assert.equal((await post(`${svc.url}/webhooks/ses`, '{}')).status, 404);
  });

  test('Mailgun: HMAC of timestamp + token; a token is good once; old timestamps refused', async (t) => {
    const signingKey = randomBytes(24).toString('hex');
    const setup = await startProviderService(t, 'smtp.eu.mailgun.org', {
      MAILGUN_WEBHOOK_SIGNING_KEY: signingKey,
    });
    const { svc } = setup;
    const url = `${svc.url}/webhooks/mailgun`;
    const sent = await sendOne(setup, 'full@example.com');
    assert.deepEqual(JSON.parse(headerOf(sent.raw, 'X-Mailgun-Variables') ?? '{}'), {
      'mailscope-id': sent.id,
    });
    assert.equal(headerOf(sent.raw, 'X-SMTPAPI'), null);

    const signature = (timestamp = nowSeconds(), token = randomBytes(25).toString('hex')) => ({
      timestamp,
      token,
      signature: createHmac('sha256', signingKey)
        .update(timestamp + token)
        .digest('hex'),
    });
    const event = (id: string, severity: string, code = '5.1.1') => ({
      event: 'failed',
      id,
      severity,
      timestamp: Date.now() / 1000,
      recipient: 'full@example.com',
      reason: 'bounce',
      'user-variables': { 'mailscope-id': sent.id },
      message: { headers: { 'message-id': sent.messageId.replace(/^<|>$/g, '') } },
      'delivery-status': {
        code: 550,
        'enhanced-code': code,
        message: `${code} mailbox unavailable`,
        'mx-host': 'mx.example.com',
      },
    });
    const body = (sig: object, data: object) =>
      JSON.stringify({ signature: sig, 'event-data': data });
    const before = await storedCounts(svc);
    const first = signature();
    const refusals: [string, string, number][] = [
      ['unsigned', JSON.stringify({ 'event-data': event('e0', 'permanent') }), 401],
      ['wrong key', body({ ...first, signature: 'ab'.repeat(32) }, event('e0', 'permanent')), 401],
      [
        'timestamp 11 minutes old',
        body(signature(String(Math.floor(Date.now() / 1000) - 660)), event('e0', 'permanent')),
        401,
      ],
      ['not JSON', '{"signature":', 401],
      ['signed, no event', body(signature(), {}), 400],
    ];
    for (const [what, text, status] of refusals) {
      assert.equal(
        (await post(url, text, { 'content-type': 'application/json' })).status,
        status,
        what,
      );
    }
    assert.deepEqual(await storedCounts(svc), before);

    // A temporary failure first (DEFERRED), then the permanent one under a new token.
    const deferred = await post(url, body(first, event('e1', 'temporary', '4.2.2')));
    assert.equal(deferred.status, 200);
    assert.equal(deferred.json.recorded, 1);
    // The same token sent again with the same event (Mailgun's retry): 200, nothing changes.
    const retry = await post(url, body(first, event('e1', 'temporary', '4.2.2')));
    assert.equal(retry.status, 200);
    assert.equal(retry.json.duplicate, 1);
    // The same token replayed with another event: refused.
    const replay = await post(url, body(first, event('e2', 'permanent')));
    assert.equal(replay.status, 401);
    assert.equal((await svc.gql(MESSAGE, { id: sent.id })).data.message.outcome, 'DEFERRED');

    const failed = await post(url, body(signature(), event('e2', 'permanent')));
    assert.equal(failed.status, 200);
    const message = (await svc.gql(MESSAGE, { id: sent.id })).data.message;
    assert.equal(message.outcome, 'BOUNCED');
    assert.deepEqual(
      message.reports.map((r: any) => [
        r.source,
        r.outcome,
        r.bounceType,
        r.enhancedStatus,
        r.remoteMta,
      ]),
      [
        ['MAILGUN', 'DEFERRED', null, '4.2.2', 'mx.example.com'],
        ['MAILGUN', 'BOUNCED', 'HARD', '5.1.1', 'mx.example.com'],
      ],
    );
    assert.ok(
      message.events.some((e: any) => e.reason === 'report_mailgun' && e.outcome === 'BOUNCED'),
    );
    const suppressions = await svc.gql(`{ suppressions { edges { node { address reason } } } }`);
    assert.deepEqual(suppressions.data.suppressions.edges[0].node, {
      address: 'full@example.com',
      reason: 'HARD_BOUNCE',
    });
    await assertHealthy(svc);
  });

  test('Postmark: basic auth, compared whole; a spam complaint suppresses', async (t) => {
    const setup = await startProviderService(t, 'smtp.postmarkapp.com', {
      POSTMARK_WEBHOOK_USER: 'postmark',
      POSTMARK_WEBHOOK_PASSWORD: 'hook-secret-1',
    });
    const { svc } = setup;
    const url = `${svc.url}/webhooks/postmark`;
    const sent = await sendOne(setup, 'angry@example.com');
    assert.equal(headerOf(sent.raw, 'X-PM-Metadata-mailscope-id'), sent.id);
    const auth = (user: string, password: string) => ({
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    const complaint = JSON.stringify({
      RecordType: 'SpamComplaint',
      ID: 42,
      Type: 'SpamComplaint',
      TypeCode: 512,
      Email: 'angry@example.com',
      Metadata: { 'mailscope-id': sent.id },
      BouncedAt: new Date().toISOString(),
      MessageStream: 'outbound',
    });
    const before = await storedCounts(svc);
    for (const [what, headers, text, status] of [
      ['no credentials', { 'content-type': 'application/json' }, complaint, 401],
      ['wrong password', auth('postmark', 'hook-secret-2'), complaint, 401],
      ['password prefix', auth('postmark', 'hook-secret-'), complaint, 401],
      ['wrong user', auth('other', 'hook-secret-1'), complaint, 401],
      ['malformed', auth('postmark', 'hook-secret-1'), '[1,2', 400],
      ['no RecordType', auth('postmark', 'hook-secret-1'), '{}', 400],
    ] as const) {
      assert.equal((await post(url, text, headers)).status, status, what);
    }
    // Over the 4 MiB cap, from a client that reads the answer only once it has sent the whole
    // body: the rest is read and dropped, so the connection is not reset under the client.
    const oversize = await postWholeBodyFirst(
      url,
      auth('postmark', 'hook-secret-1'),
      40 * 1024 * 1024,
    );
    assert.equal(oversize, 'HTTP/1.1 413 Payload Too Large');
    assert.deepEqual(await storedCounts(svc), before);

    const accepted = await post(url, complaint, auth('postmark', 'hook-secret-1'));
    assert.equal(accepted.status, 200);
    assert.equal((await post(url, complaint, auth('postmark', 'hook-secret-1'))).json.duplicate, 1);
    const message = (await svc.gql(MESSAGE, { id: sent.id })).data.message;
    assert.equal(message.outcome, 'COMPLAINED');
    assert.equal(message.reports.length, 1);
    assert.equal(message.reports[0].source, 'POSTMARK');
    const suppressions = await svc.gql(`{ suppressions { edges { node { address reason } } } }`);
    assert.deepEqual(suppressions.data.suppressions.edges[0].node, {
      address: 'angry@example.com',
      reason: 'COMPLAINT',
    });
    // A soft bounce after it neither lowers the outcome nor adds a suppression.
    const soft = JSON.stringify({
      RecordType: 'Bounce',
      ID: 43,
      Type: 'SoftBounce',
      Email: 'angry@example.com',
      Details: 'mailbox full',
      Metadata: { 'mailscope-id': sent.id },
    });
    assert.equal((await post(url, soft, auth('postmark', 'hook-secret-1'))).status, 200);
    const after = (await svc.gql(MESSAGE, { id: sent.id })).data.message;
    assert.equal(after.outcome, 'COMPLAINED');
    assert.deepEqual(
      after.reports.map((r: any) => [r.outcome, r.bounceType]),
      [
        ['COMPLAINED', null],
        ['BOUNCED', 'SOFT'],
      ],
    );
    assert.equal((await storedCounts(svc)).suppressions, 1);
    await assertHealthy(svc);
  });
});
