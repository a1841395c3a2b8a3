import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigFromEnv } from '../../src/load-config.ts';
import { fileScope } from '../helpers/scope.ts';
import { startTestSmtpServer, type TestSmtpServerOptions } from '../helpers/smtp-server.ts';
import { startService as startServiceIn } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Issue 19, item 5 ("splitting the email atom"): encoded-word local parts were accepted and sent
// verbatim in RCPT TO and To:, and a receiver that decodes them may deliver to the address
// inside; % and ! are old source routes some servers still follow. Refused wherever an address
// is accepted: sendEmail, sendEmails, sendTestEmail, configureSmtp, configureSmtpProvider and
// SMTP_FROM_ADDRESS.

const startSmtp = (options: TestSmtpServerOptions = {}) => startTestSmtpServer(fileScope, options);
const startService = (env: Record<string, string> = {}) => startServiceIn(fileScope, env);

const ATTACKS = [
  // attacker@evil.example, base64 and Q-encoded
  '=?utf-8?B?YXR0YWNrZXJAZXZpbC5leGFtcGxl?=@example.com',
  '=?utf-8?q?attacker=40evil.example?=@example.com',
  '=?x?q?=40=3e=00?=foo@example.com',
  'x=?utf-7?q?AEA-?=y@example.com',
  'victim%evil.example@relay.example.com',
  'evil.example!victim@relay.example.com',
  // Punycode that decodes to nothing, or to plain ASCII (a second spelling of a domain).
  'user@xn--zz.example',
  'user@xn--example-.com',
];

test('encoded words, % and ! routing and fake punycode are refused everywhere; nothing is sent', async () => {
  const smtp = await startSmtp();
  const svc = await startService();
  const configured = await svc.gql(
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
    {
      input: {
        connectionUri: `smtp://127.0.0.1:${smtp.port}/?disable_starttls=true`,
        fromAddress: 'sender@example.com',
      },
    },
  );
  assert.equal(configured.errors, undefined);
  const mail = (to: string) => ({ to, subject: 's', text: 't' });
  const calls: [string, string, Record<string, unknown>, string][] = ATTACKS.flatMap((address) => [
    [
      'sendEmail',
      `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`,
      { input: mail(address) },
      'input.to',
    ],
    [
      'sendEmails',
      `mutation ($inputs: [SendEmailInput!]!) { sendEmails(inputs: $inputs) { id } }`,
      { inputs: [mail('fine@example.com'), mail(address)] },
      'inputs[1].to',
    ],
    [
      'sendTestEmail',
      `mutation ($to: String!) { sendTestEmail(to: $to) { id } }`,
      { to: address },
      'to',
    ],
    [
      'configureSmtp',
      `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
      { input: { connectionUri: 'smtp://mail.example.com/', fromAddress: address } },
      'input.fromAddress',
    ],
    [
      'configureSmtpProvider',
      `mutation ($input: ConfigureSmtpProviderInput!) { configureSmtpProvider(input: $input) { version } }`,
      { input: { provider: 'SENDGRID', password: 'SG.key', fromAddress: address } },
      'input.fromAddress',
    ],
  ]);
  const wrong: string[] = [];
  for (const [name, query, variables, field] of calls) {
    const result = await svc.gql(query, variables);
    const error = result.errors?.[0];
    if (
      error?.extensions?.['code'] !== 'BAD_USER_INPUT' ||
      !error.message.startsWith(`${field}:`)
    ) {
      wrong.push(`${name} ${JSON.stringify(variables)}: ${JSON.stringify(result)}`);
    }
  }
  assert.deepEqual(wrong, []);
  const messages = await svc.gql(`{ messages { totalCount } smtpConfigHistory { version } }`);
  assert.equal(messages.data.messages.totalCount, 0, 'nothing was stored');
  assert.equal(messages.data.smtpConfigHistory.length, 1);

  // What people really use still goes through, and is what reaches the server.
  for (const to of [
    'first.last+tag@example.com',
    'jörg@bücher.example',
    'u@xn--bcher-kva.example',
  ]) {
    const sent = await svc.gql(
      `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }`,
      { input: mail(to) },
    );
    assert.equal(sent.errors, undefined, to);
  }
  await waitFor(() => smtp.received.length === 3);
  assert.deepEqual(
    smtp.received.flatMap((received) => received.to).filter((to) => /=\?|[%!]/.test(to)),
    [],
  );
  console.log(`security figures: address tricks refused=${calls.length}`);
});

test('SMTP_FROM_ADDRESS is held to the same rules at start', () => {
  for (const address of ATTACKS) {
    const loaded = loadConfigFromEnv({ SMTP_FROM_ADDRESS: address });
    assert.ok(!loaded.ok, address);
    assert.match(loaded.problems.join('\n'), /^SMTP_FROM_ADDRESS: /m, address);
  }
  assert.ok(loadConfigFromEnv({ SMTP_FROM_ADDRESS: 'no-reply@example.com' }).ok);
});
