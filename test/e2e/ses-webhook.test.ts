import assert from 'node:assert/strict';
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { canonicalString, type SnsMessage } from '../../src/bounces/providers/sns.ts';
import { createTestCa, issueCert } from '../helpers/certs.ts';
import { closeWith, type Scope } from '../helpers/scope.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import {
  assertHealthy,
  headerOf,
  MESSAGE,
  post,
  sendOne,
  startProviderService,
  storedCounts,
} from '../helpers/webhooks.ts';

// Amazon SES events through SNS, end to end: the signing certificate is served over HTTPS by a
// local server under a test CA (the service trusts that CA as NODE_EXTRA_CA_CERTS would make it;
// SNS_CERT_HOSTS names the server), and messages are signed here the way SNS signs them.

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:ses-events';
const OTHER_TOPIC = 'arn:aws:sns:us-east-1:123456789012:someone-else';

interface SnsServer {
  host: string;
  certUrl: string;
  subscribeUrl: string;
  confirmations: number;
  sign(
    fields: Omit<SnsMessage, 'Signature' | 'SigningCertURL' | 'SignatureVersion'>,
    version?: '1' | '2',
    certUrl?: string,
  ): SnsMessage;
}

async function startSnsServer(t: Scope): Promise<SnsServer & { ca: string }> {
  const ca = createTestCa();
  const serverCert = issueCert(ca, { ipAddresses: ['127.0.0.1'] });
  const signing = issueCert(ca, { dnsNames: ['sns.us-east-1.amazonaws.com'] });
  const signingKey = createPrivateKey(signing.key);
  const state = { confirmations: 0 };
  const server = https.createServer({ cert: serverCert.cert, key: serverCert.key }, (req, res) => {
    if (req.url === '/SimpleNotificationService-test.pem') {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(signing.cert);
    } else if (req.url?.startsWith('/?Action=ConfirmSubscription')) {
      state.confirmations += 1;
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<ConfirmSubscriptionResponse/>');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeWith(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const certUrl = `https://${host}/SimpleNotificationService-test.pem`;
  return {
    ca: ca.cert,
    host,
    certUrl,
    subscribeUrl: `https://${host}/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=abc`,
    get confirmations() {
      return state.confirmations;
    },
    sign(fields, version = '1', url = certUrl) {
      const unsigned = { ...fields, SignatureVersion: version, SigningCertURL: url, Signature: '' };
      const signature = sign(
        version === '1' ? 'sha1' : 'sha256',
        Buffer.from(canonicalString(unsigned)),
        signingKey,
      ).toString('base64');
      return { ...unsigned, Signature: signature };
    },
  };
}

const notification = (topic: string, message: object) => ({
  Type: 'Notification',
  MessageId: randomUUID(),
  TopicArn: topic,
  Message: JSON.stringify(message),
  Timestamp: new Date().toISOString(),
});

describe(`Amazon SES through SNS (${TEST_DIALECT})`, () => {
  test('subscription, signatures v1 and v2, both SES shapes, allowed hosts and topics only', async (t) => {
    const sns = await startSnsServer(t);
    const setup = await startProviderService(
      t,
      'email-smtp.us-east-1.amazonaws.com',
      {
        SES_SNS_TOPIC_ARNS: `${TOPIC},arn:aws:sns:eu-west-1:123456789012:unused`,
        SNS_CERT_HOSTS: sns.host,
        SES_CONFIGURATION_SET: 'mailscope-events',
      },
      { trustedCaCertificates: [sns.ca] },
    );
    const { svc } = setup;
    const url = `${svc.url}/webhooks/ses`;
    const postSns = (message: object) =>
      post(url, JSON.stringify(message), { 'content-type': 'text/plain; charset=UTF-8' });

    const bounced = await sendOne(setup, 'nobody@example.com');
    assert.equal(headerOf(bounced.raw, 'X-SES-MESSAGE-TAGS'), `mailscope-id=${bounced.id}`);
    assert.equal(headerOf(bounced.raw, 'X-SES-CONFIGURATION-SET'), 'mailscope-events');
    assert.equal(headerOf(bounced.raw, 'X-SMTPAPI'), null);
    const delivered = await sendOne(setup, 'fine@example.com');

    // SubscriptionConfirmation: the SubscribeURL is visited once the message verifies.
    const confirmation = {
      Type: 'SubscriptionConfirmation',
      MessageId: randomUUID(),
      Token: 'abc',
      TopicArn: TOPIC,
      Message: 'You have chosen to subscribe to the topic.',
      SubscribeURL: sns.subscribeUrl,
      Timestamp: new Date().toISOString(),
    };
    const confirmed = await postSns(sns.sign(confirmation));
    assert.equal(confirmed.status, 200);
    assert.equal(sns.confirmations, 1);

    // SES notification (notificationType), headers included: matched by the original Message-ID.
    const bounce = notification(TOPIC, {
      notificationType: 'Bounce',
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        feedbackId: 'feedback-1',
        reportingMTA: 'dsn; a8-1.smtp-out.amazonses.com',
        bouncedRecipients: [
          {
            emailAddress: 'nobody@example.com',
            action: 'failed',
            status: '5.1.1',
            diagnosticCode: 'smtp; 550 5.1.1 user unknown',
          },
        ],
        timestamp: new Date().toISOString(),
      },
      mail: {
        messageId: '0100018c-ses-rewritten',
        headersTruncated: false,
        headers: [{ name: 'Message-ID', value: bounced.messageId }],
        commonHeaders: { messageId: bounced.messageId },
      },
    });
    const before = await storedCounts(svc);
    const refusals: [string, object | string, number][] = [
      ['unsigned', bounce, 401],
      ['another topic', sns.sign({ ...bounce, TopicArn: OTHER_TOPIC }), 401],
      [
        'message changed after signing',
        { ...sns.sign(bounce), Message: bounce.Message.replace('Permanent', 'Transient') },
        401,
      ],
      ['signature version 3', { ...sns.sign(bounce), SignatureVersion: '3' }, 401],
      [
        'certificate from Amazon while SNS_CERT_HOSTS is set',
        sns.sign(
          bounce,
          '1',
          'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem',
        ),
        401,
      ],
      [
        'certificate over http',
        sns.sign(bounce, '1', `http://${sns.host}/SimpleNotificationService-test.pem`),
        401,
      ],
      ['certificate from another host', sns.sign(bounce, '1', 'https://127.0.0.2:1/cert.pem'), 401],
      [
        'SubscribeURL elsewhere',
        sns.sign({ ...confirmation, SubscribeURL: 'https://attacker.test/confirm' }),
        401,
      ],
      ['not JSON', '{"Type":', 400],
    ];
    for (const [what, message, status] of refusals) {
      const answer = await post(
        url,
        typeof message === 'string' ? message : JSON.stringify(message),
      );
      assert.equal(answer.status, status, what);
    }
    assert.equal((await post(url, Buffer.alloc(5 * 1024 * 1024, 0x20))).status, 413, 'oversize');
    assert.equal(sns.confirmations, 1, 'no forged SubscribeURL visited');
    assert.deepEqual(await storedCounts(svc), before);
    await assertHealthy(svc);

    const signedBounce = sns.sign(bounce, '1');
    const accepted = await postSns(signedBounce);
    assert.equal(accepted.status, 200);
    assert.deepEqual(accepted.json, { received: 1, recorded: 1, duplicate: 0, unmatched: 0 });
    assert.equal((await postSns(signedBounce)).json.duplicate, 1, 'SNS retry');
    const message = (await svc.gql(MESSAGE, { id: bounced.id })).data.message;
    assert.equal(message.outcome, 'BOUNCED');
    assert.deepEqual(
      message.reports.map((r: any) => [r.source, r.bounceType, r.enhancedStatus, r.diagnostic]),
      [['SES', 'HARD', '5.1.1', 'smtp; 550 5.1.1 user unknown']],
    );
    const suppressions = await svc.gql(`{ suppressions { edges { node { address reason } } } }`);
    assert.deepEqual(suppressions.data.suppressions.edges[0].node, {
      address: 'nobody@example.com',
      reason: 'HARD_BOUNCE',
    });

    // Event publishing (eventType), signature version 2: matched by our tag.
    const delivery = notification(TOPIC, {
      eventType: 'Delivery',
      mail: {
        messageId: '0100018c-ses-other',
        tags: { 'mailscope-id': [delivered.id], 'ses:configuration-set': ['mailscope-events'] },
      },
      delivery: {
        timestamp: new Date().toISOString(),
        recipients: ['fine@example.com'],
        smtpResponse: '250 2.6.0 Message received',
        reportingMTA: 'a8-1.smtp-out.amazonses.com',
      },
    });
    assert.equal((await postSns(sns.sign(delivery, '2'))).status, 200);
    assert.equal((await svc.gql(MESSAGE, { id: delivered.id })).data.message.outcome, 'DELIVERED');

    // A complaint about mail we never sent is kept as unmatched.
    const stranger = notification(TOPIC, {
      notificationType: 'Complaint',
      complaint: { feedbackId: 'c-9', complainedRecipients: [{ emailAddress: 'x@example.com' }] },
      mail: { messageId: 'unknown' },
    });
    const kept = await postSns(sns.sign(stranger, '2'));
    assert.equal(kept.status, 200);
    assert.equal(kept.json.unmatched, 1);
    const unmatched = await svc.gql(`{ unmatchedReports { source outcome recipient } }`);
    assert.deepEqual(unmatched.data.unmatchedReports, [
      { source: 'SES', outcome: 'COMPLAINED', recipient: 'x@example.com' },
    ]);
    await assertHealthy(svc);
  });
});
