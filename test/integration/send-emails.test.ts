import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Scope } from '../helpers/scope.ts';
import { startService, type TestService } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// sendEmails: many messages in one call and one transaction, all or nothing.

const SEND_MANY = `mutation ($inputs: [SendEmailInput!]!) {
  sendEmails(inputs: $inputs) { id recipient status messageId }
}`;

function inputs(count: number, tag: string) {
  return Array.from({ length: count }, (_, i) => ({
    to: `user${i}@example.com`,
    subject: `${tag} ${i}`,
    text: `Message ${i}`,
  }));
}

async function totalMessages(svc: TestService): Promise<number> {
  const result = await svc.gql(`{ messages(first: 1) { totalCount } }`);
  return result.data.messages.totalCount;
}

async function withSink(scope: Scope) {
  const smtp = await startTestSmtpServer(scope);
  const svc = await startService(scope);
  const configured = await svc.gql(
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
    {
      input: {
        connectionUri: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
        fromAddress: 'sender@example.com',
      },
    },
  );
  assert.equal(configured.errors, undefined, JSON.stringify(configured.errors));
  return { smtp, svc };
}

describe('sendEmails', () => {
  test('stores every message in input order and delivers each one', async (t) => {
    const { smtp, svc } = await withSink(t);
    const batch = inputs(250, 'batch');
    const result = await svc.gql(SEND_MANY, { inputs: batch });
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const messages = result.data.sendEmails;
    assert.equal(messages.length, 250);
    assert.deepEqual(
      messages.map((m: any) => m.recipient),
      batch.map((input) => input.to),
    );
    assert.ok(messages.every((m: any) => m.status === 'QUEUED'));
    assert.equal(new Set(messages.map((m: any) => m.messageId)).size, 250);

    await waitFor(() => smtp.received.length === 250, { description: '250 delivered' });
    const delivered = new Set(smtp.received.map((mail) => mail.to[0]));
    assert.deepEqual([...delivered].sort(), batch.map((input) => input.to).sort());
    // The sink has a message before the worker records its 250, so wait for the bookkeeping too.
    const sentCount = async () =>
      (await svc.gql(`{ messages(filter: { status: [SENT] }) { totalCount } }`)).data.messages
        .totalCount;
    await waitFor(async () => (await sentCount()) === 250, { description: '250 recorded SENT' });
  });

  test('one invalid input stores nothing and names the input and field', async (t) => {
    const svc = await startService(t);
    const batch = inputs(10, 'invalid');
    batch[7] = { ...batch[7]!, to: 'not an address' };
    batch[3] = { ...batch[3]!, subject: 'line\r\nBcc: victim@example.com' };
    const result = await svc.gql(SEND_MANY, { inputs: batch });
    assert.equal(result.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
    const fields = result.errors![0]!.extensions!['problems'].map((p: any) => p.field);
    assert.deepEqual(fields, ['inputs[3].subject', 'inputs[7].to']);
    assert.equal(await totalMessages(svc), 0);
  });

  test('no inputs, or more than 1,000, is BAD_USER_INPUT and stores nothing', async (t) => {
    const svc = await startService(t);
    for (const count of [0, 1001]) {
      const result = await svc.gql(SEND_MANY, { inputs: inputs(count, 'size') });
      assert.equal(result.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT', `count ${count}`);
      assert.match(result.errors![0]!.message, /inputs: give 1 to 1000 messages/);
    }
    assert.equal(await totalMessages(svc), 0);
  });

  test('a key reused with different input rolls back the whole call', async (t) => {
    const svc = await startService(t);
    const first = await svc.gql(SEND_MANY, {
      inputs: [{ to: 'a@example.com', subject: 'One', text: 'x', idempotencyKey: 'k-1' }],
    });
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    const firstId = first.data.sendEmails[0].id;

    const clash = inputs(5, 'clash');
    clash[2] = { ...clash[2]!, idempotencyKey: 'k-1' } as (typeof clash)[number];
    const result = await svc.gql(SEND_MANY, { inputs: clash });
    assert.equal(result.errors?.[0]?.extensions?.['code'], 'CONFLICT');
    assert.equal(result.errors![0]!.extensions!['field'], 'inputs[2].idempotencyKey');
    assert.equal(result.errors![0]!.extensions!['messageId'], firstId);
    assert.equal(await totalMessages(svc), 1);
  });

  test('one key on two inputs of a call with different input: CONFLICT naming the inputs, not a message', async (t) => {
    const svc = await startService(t);
    const result = await svc.gql(SEND_MANY, {
      inputs: [
        { to: 'e@example.com', subject: 's', text: 't', idempotencyKey: 'E1' },
        { to: 'f@example.com', subject: 's', text: 't' },
        { to: 'e2@example.com', subject: 's', text: 't', idempotencyKey: 'E1' },
      ],
    });
    const error = result.errors?.[0];
    assert.equal(error?.extensions?.['code'], 'CONFLICT');
    assert.equal(error!.extensions!['field'], 'inputs[2].idempotencyKey');
    assert.equal(error!.extensions!['messageId'], undefined, 'no message was ever stored');
    assert.match(
      error!.message,
      /is the key of inputs\[0\], with different input; nothing was stored/,
    );
    assert.equal(await totalMessages(svc), 0);
  });

  test('a repeated key with the same input returns the first message, within a call too', async (t) => {
    const svc = await startService(t);
    const same = { to: 'a@example.com', subject: 'Same', text: 'x', idempotencyKey: 'k-2' };
    const result = await svc.gql(SEND_MANY, { inputs: [same, same] });
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    const [one, two] = result.data.sendEmails;
    assert.equal(one.id, two.id);
    const again = await svc.gql(SEND_MANY, { inputs: [same] });
    assert.equal(again.data.sendEmails[0].id, one.id);
    assert.equal(await totalMessages(svc), 1);
  });
});
