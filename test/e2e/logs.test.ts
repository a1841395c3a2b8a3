import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { graphqlRequest, startServiceProcess, tempDir } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The service's stdout is JSON lines: one per delivery attempt naming its message, and never a
// secret, whatever the operator configured.

const PASSWORD = 'pa55/word@Secret';
const API_TOKEN = 'api-token-never-logged';
const STORED_PASSWORD = 'stored-Secret-42';

test('a JSON delivery line per attempt, with its message id, and no secret anywhere', async (t) => {
  const smtp = await startTestSmtpServer(t, {
    auth: { username: 'keeper', password: PASSWORD },
    rejectRecipients: (address) =>
      address.startsWith('nobody') ? { code: 550, message: '5.1.1 no such user' } : null,
  });
  const uri = `smtp://keeper:${encodeURIComponent(PASSWORD)}@${smtp.host}:${smtp.port}/?disable_starttls=true`;
  const service = await startServiceProcess(t, {
    DATABASE_PATH: join(tempDir(t).path, 'logs.db'),
    SMTP_CONNECTION_URI: uri,
    API_TOKEN,
    LOG_LEVEL: 'debug',
  });
  const gql = (query: string, variables: Record<string, unknown> = {}, token = API_TOKEN) =>
    graphqlRequest(`${service.url}/graphql`, query, variables, token);

  const ids: string[] = [];
  for (const to of ['ada@example.com', 'bob@example.com', 'nobody@example.com']) {
    const sent = await gql(
      `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`,
      { to },
    );
    assert.equal(sent.errors, undefined);
    ids.push(sent.data.sendEmail.id);
  }
  // Secrets the service sees in other ways: a wrong token, and a stored configuration that fails
  // AUTH (its password in the URI, then in the SMTP conversation).
  assert.equal((await gql(`{ __typename }`, {}, 'wrong-token')).status, 401);
  await waitFor(async () => {
    const answer = await gql(`{ messages { edges { node { status } } } }`);
    return answer.data.messages.edges.every((e: any) =>
      ['SENT', 'ABANDONED'].includes(e.node.status),
    );
  });
  const configured = await gql(
    `mutation ($input: ConfigureSmtpInput!) { configureSmtp(input: $input) { version } }`,
    {
      input: {
        connectionUri: `smtp://keeper:${STORED_PASSWORD}@${smtp.host}:${smtp.port}/?disable_starttls=true`,
        fromAddress: 'ops@example.com',
      },
    },
  );
  assert.equal(configured.errors, undefined);
  const failing = await gql(
    `mutation { sendEmail(input: { to: "carol@example.com", subject: "s", text: "t" }) { id } }`,
  );
  const authFailure = failing.data.sendEmail.id;
  const lines = () =>
    service
      .output()
      .split('\n')
      .filter((line) => line.length > 0);
  await waitFor(() =>
    lines().some(
      (line) => line.includes('"errorCode":"AUTH"') && line.includes(`"id":${authFailure}`),
    ),
  );
  assert.equal(await service.stop(), 0, service.output());

  const records = lines().map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      assert.fail(`not a JSON line: ${line}`);
    }
  });
  for (const record of records) {
    assert.equal(typeof record['time'], 'string');
    assert.equal(typeof record['level'], 'string');
    assert.equal(typeof record['msg'], 'string');
  }
  const attempts = records.filter((r) => r['name'] === 'delivery' && 'durationMs' in r);
  const [ada, bob, nobody] = ids.map(Number);
  for (const id of [ada, bob]) {
    const line = attempts.find((r) => r['id'] === id);
    assert.ok(line, `a delivery line for message ${id}`);
    assert.equal(line['attempt'], 1);
    assert.equal(line['status'], 'SENT');
    assert.equal(line['errorCode'], null);
    assert.equal(line['level'], 'info');
    assert.equal(typeof line['durationMs'], 'number');
  }
  const rejected = attempts.find((r) => r['id'] === nobody);
  assert.ok(rejected, 'a delivery line for the rejected message');
  assert.equal(rejected['status'], 'ABANDONED');
  assert.equal(rejected['errorCode'], 'RECIPIENT_REJECTED');
  assert.equal(rejected['responseCode'], 550);
  assert.equal(rejected['level'], 'warn');
  const startup = records.find((r) => r['msg'] === 'SMTP configuration in use');
  assert.deepEqual(startup?.['smtp'], {
    source: 'ENVIRONMENT',
    uri: `smtp://keeper:***@${smtp.host}:${smtp.port}/?disable_starttls=true`,
  });
  // Debug level also shows each claim.
  assert.ok(records.some((r) => r['msg'] === 'claimed' && r['id'] === ada));

  const output = service.output();
  for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), API_TOKEN, STORED_PASSWORD]) {
    assert.ok(!output.includes(secret), `the output must not contain ${secret}`);
  }
  assert.ok(!output.includes('wrong-token'));
});
