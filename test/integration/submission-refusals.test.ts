import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import nodemailer from 'nodemailer';
import { SUBMISSION_REFUSAL_REASONS } from '../../src/smtp/submission-server.ts';
import { closeWith } from '../helpers/scope.ts';
import { ca, setUp, type Setup } from '../helpers/submission.ts';
import { TEST_DIALECT } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { capturedLog } from '../helpers/captured-log.ts';

// A refused submission never becomes a message, so the operator's answer to "why did my
// application's mail never arrive?" is in /metrics and the log: each refusal counted by reason
// and logged with what the client was told, from where and as which token, never the token.

function transport(t: Parameters<typeof setUp>[0], setup: Setup, pass: string) {
  const client = nodemailer.createTransport({
    host: setup.host,
    port: setup.port,
    secure: false,
    requireTLS: true,
    tls: { ca: [ca.cert], servername: 'localhost' },
    auth: { user: 'app', pass },
  });
  closeWith(t, () => client.close());
  return client;
}

async function refusalCounts(setup: Setup): Promise<Record<string, number>> {
  const text = await (await fetch(`${setup.svc.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(
    /^mailscope_submission_refusals_total\{reason="(\w+)"\} (\d+)$/gm,
  )) {
    counts[match[1]!] = Number(match[2]);
  }
  const submitted = /^mailscope_submitted_messages_total (\d+)$/m.exec(text);
  counts['submitted'] = Number(submitted?.[1]);
  return counts;
}

test(`each refused submission is counted by reason and logged without the token (${TEST_DIALECT})`, async (t) => {
  const { records, log } = capturedLog('info', 'main');
  const setup = await setUp(
    t,
    { SENDER_DOMAIN_ALLOWLIST: 'example.com', SUBMISSION_MAX_BYTES: '4096' },
    { log },
  );
  const before = await refusalCounts(setup);
  for (const reason of SUBMISSION_REFUSAL_REASONS) assert.equal(before[reason], 0, reason);

  const refusedWith = (code: number) => (error: any) => {
    assert.equal(error.responseCode, code, error.response);
    return true;
  };
  // A wrong token, and a READ token.
  await assert.rejects(transport(t, setup, 'ms_not-a-token').verify(), refusedWith(535));
  await assert.rejects(transport(t, setup, setup.readToken).verify(), refusedWith(535));
  const sender = transport(t, setup, setup.sendToken);
  // A From domain outside the allowlist; a message over SUBMISSION_MAX_BYTES.
  await assert.rejects(
    sender.sendMail({ from: 'app@elsewhere.org', to: 'ana@example.com', text: 'x' }),
    refusedWith(550),
  );
  await assert.rejects(
    sender.sendMail({ from: 'app@example.com', to: 'ana@example.com', text: 'x'.repeat(8_000) }),
    refusedWith(552),
  );
  // A command smtp-server itself refuses (a scanner's junk): counted, logged at debug only.
  const junk = net.connect(setup.port, setup.host);
  closeWith(t, () => junk.destroy());
  let heard = '';
  junk.setEncoding('utf8');
  junk.on('data', (chunk: string) => (heard += chunk));
  await waitFor(() => heard.startsWith('220 '), { description: 'the greeting' });
  junk.write('FOO bar\r\n');
  await waitFor(() => /^500 5\.5\.2 /m.test(heard), { description: 'the 500 5.5.2 to FOO' });
  junk.end('QUIT\r\n');
  // What gets through is counted too: one message per recipient.
  await sender.sendMail({ from: 'app@example.com', to: ['ana@example.com', 'bo@example.com'] });

  const expected = {
    bad_credentials: 2,
    sender_not_allowed: 1,
    too_big: 1,
    starttls_required: 0,
    command_rejected: 1,
    storage_unavailable: 0,
    submitted: 2,
  };
  let last: Record<string, number> = {};
  await waitFor(
    async () => {
      last = await refusalCounts(setup);
      return Object.entries(expected).every(([key, value]) => last[key] === value);
    },
    { description: 'the refusals and the submission counted' },
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(last)}`);
  });

  // The submission that got through names its messages, so the log leads to them.
  const submitted = records.filter((record) => record['audit'] === 'smtp.submitted');
  assert.equal(submitted.length, 1);
  assert.equal(submitted[0]!['tokenName'], 'kratos-courier');
  assert.match(String(submitted[0]!['remoteAddress']), /127\.0\.0\.1$/);
  // Numbers, as the delivery lines' `id`; the GraphQL Message.id is the same as a string.
  const ids = (submitted[0]!['messages'] as number[]).map(String);
  const listed = await setup.svc.gql(`{ messages { edges { node { id } } } }`);
  assert.deepEqual(
    [...ids].sort(),
    listed.data.messages.edges.map((edge: any) => edge.node.id).sort(),
  );
  const refusals = records.filter((record) => record['audit'] === 'smtp.refused');
  assert.deepEqual(refusals.map((record) => record['reason']).sort(), [
    'bad_credentials',
    'bad_credentials',
    'sender_not_allowed',
    'too_big',
  ]);
  for (const record of refusals) {
    assert.equal(record['level'], 'warn');
    assert.match(String(record['remoteAddress']), /127\.0\.0\.1$/);
  }
  const notAllowed = refusals.find((record) => record['reason'] === 'sender_not_allowed')!;
  assert.equal(notAllowed['code'], 550);
  assert.equal(notAllowed['enhancedStatus'], '5.7.1');
  assert.equal(notAllowed['tokenName'], 'kratos-courier', "the token's name, never the token");
  assert.match(
    String(notAllowed['msg']),
    /^SMTP submission from \S+ \(token "kratos-courier"\) refused \(sender_not_allowed\): 550 5\.7\.1 Sender not allowed/,
  );
  const tooBig = refusals.find((record) => record['reason'] === 'too_big')!;
  assert.equal(tooBig['code'], 552);
  assert.equal(tooBig['enhancedStatus'], '5.3.4');
  assert.ok(
    refusals
      .filter((record) => record['reason'] === 'bad_credentials')
      .every((record) => record['code'] === 535 && !('tokenName' in record)),
  );
  const everything = JSON.stringify(records);
  for (const secret of [setup.sendToken, setup.readToken, 'ms_not-a-token']) {
    assert.ok(!everything.includes(secret), 'no token in the log');
  }
});
