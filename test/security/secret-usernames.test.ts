import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { graphqlRequest, startServiceProcess, tempDir } from '../helpers/service.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';
import { startTestSmtpServer, type TestSmtpServerOptions } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Issue 19, item 2: configureSmtpProvider(POSTMARK) puts the server token in the user name and
// the password; only the password was masked, so READ tokens (smtpConfig, smtpConfigHistory),
// the dashboard (which reads the same fields), verifySmtp and the start-up log line showed the
// token. A user name that is a credential (a preset says so, or it equals the password) is now
// masked wherever a URI or a user name is shown, logged, or stored in a transcript.

const addCleanup = (cleanup: () => unknown) => closeWith(fileScope, cleanup);
const startSmtp = (options: TestSmtpServerOptions = {}) => startTestSmtpServer(fileScope, options);

// A Postmark server token looks like this; here it is user name and password of a local server.
const TOKEN = '7c1f3d2e-9b8a-4c5d-8e7f-0a1b2c3d4e5f';
const ACCESS_KEY = 'pm-access-7f3a9c21';
const SECRET_KEY = 'pm-secret-e5d4c3b2';
const ADMIN = 'secret-usernames-admin';

const needles = [TOKEN, ACCESS_KEY, SECRET_KEY].flatMap((secret) => [
  secret,
  encodeURIComponent(secret),
  Buffer.from(secret).toString('base64'),
]);

test('a user name that is a secret appears in no response, transcript, error or log line', async () => {
  const smtp = await startSmtp({
    auth: { username: TOKEN, password: TOKEN },
    // A server that repeats the user name in a refusal, as some do.
    rejectRecipients: (address) =>
      address.startsWith('echo@')
        ? { code: 550, message: `5.7.1 account ${TOKEN} may not send to ${address}` }
        : null,
  });
  const dir = tempDir(fileScope);
  addCleanup(() => dir.remove());
  const service = await startServiceProcess(fileScope, {
    DATABASE_PATH: join(dir.path, 'mailscope.db'),
    API_TOKEN: ADMIN,
    // The environment's configuration is what the start-up log line describes.
    SMTP_CONNECTION_URI: `smtp://${TOKEN}:${TOKEN}@127.0.0.1:${smtp.port}/?disable_starttls=true`,
    DELIVERY_TRANSCRIPTS: 'all',
    DELIVERY_MAX_ATTEMPTS: '1',
  });
  addCleanup(async () => {
    if (service.child.exitCode === null) await service.kill();
  });
  const outputs: [string, string][] = [];
  const gql = async (token: string, query: string, variables: Record<string, unknown> = {}) => {
    const result = await graphqlRequest(`${service.url}/graphql`, query, variables, token);
    outputs.push([query.slice(0, 50), JSON.stringify(result)]);
    return result;
  };
  const reader = (
    await gql(ADMIN, `mutation { createApiToken(name: "viewer", scope: READ) { token } }`)
  ).data.createApiToken.token as string;

  // What a READ token and the dashboard see.
  const shown = `smtp://***:***@127.0.0.1:${smtp.port}/?disable_starttls=true`;
  const config = await gql(reader, `{ smtpConfig { connectionUri source } }`);
  assert.deepEqual(config.data.smtpConfig, { connectionUri: shown, source: 'ENVIRONMENT' });

  // Mail through it: one accepted, one refused with the token in the server's reply.
  const SEND = `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`;
  const ok = (await gql(ADMIN, SEND, { to: 'ok@example.com' })).data.sendEmail.id;
  const echo = (await gql(ADMIN, SEND, { to: 'echo@example.com' })).data.sendEmail.id;
  const DETAIL = `query ($id: ID!) { message(id: $id) { status lastError { message response hint }
    dispatches { response transcript error { message response } } events { error { message response } } } }`;
  await waitFor(async () => {
    const [a, b] = await Promise.all([
      gql(reader, DETAIL, { id: ok }),
      gql(reader, DETAIL, { id: echo }),
    ]);
    return a.data.message.status === 'SENT' && b.data.message.status === 'ABANDONED';
  });
  const refused = await gql(reader, DETAIL, { id: echo });
  assert.match(refused.data.message.lastError.response, /account \*\*\* may not send/);
  const sent = await gql(reader, DETAIL, { id: ok });
  assert.match(sent.data.message.dispatches[0].transcript, /AUTH/, 'AUTH is in the transcript');
  assert.equal(smtp.received[0]?.user, TOKEN, 'the real token was used to log in');

  // verifySmtp (ADMIN): the URI it checked and the AUTH step.
  const verified = await gql(
    ADMIN,
    `{ verifySmtp { ok connectionUri steps { name detail auth { response } } } }`,
  );
  assert.equal(verified.data.verifySmtp.ok, true);
  assert.equal(verified.data.verifySmtp.connectionUri, shown);
  const auth = verified.data.verifySmtp.steps.find((s: { name: string }) => s.name === 'AUTH');
  assert.match(auth.detail, /accepted for \*\*\*/);

  // The Postmark preset, with the token only and with an access key and its secret: stored
  // (nothing is sent through them here), then read back.
  const PROVIDER = `mutation ($input: ConfigureSmtpProviderInput!) { configureSmtpProvider(input: $input) { connectionUri } }`;
  const tokenOnly = await gql(ADMIN, PROVIDER, {
    input: { provider: 'POSTMARK', password: TOKEN, fromAddress: 'a@example.com' },
  });
  assert.equal(
    tokenOnly.data.configureSmtpProvider.connectionUri,
    'smtp://***:***@smtp.postmarkapp.com:587/',
  );
  const keyPair = await gql(ADMIN, PROVIDER, {
    input: {
      provider: 'POSTMARK',
      username: ACCESS_KEY,
      password: SECRET_KEY,
      fromAddress: 'a@example.com',
    },
  });
  assert.equal(
    keyPair.data.configureSmtpProvider.connectionUri,
    'smtp://***:***@smtp.postmarkapp.com:587/',
  );
  const history = await gql(
    reader,
    `{ smtpConfig { connectionUri } smtpConfigHistory { connectionUri } }`,
  );
  assert.equal(history.data.smtpConfigHistory.length, 2);
  for (const entry of history.data.smtpConfigHistory) {
    assert.match(entry.connectionUri, /^smtp:\/\/\*\*\*:\*\*\*@/);
  }
  const providers = await gql(reader, `{ smtpProviders { id usernameIsSecret } }`);
  assert.deepEqual(
    providers.data.smtpProviders
      .filter((p: { usernameIsSecret: boolean }) => p.usernameIsSecret)
      .map((p: { id: string }) => p.id),
    ['POSTMARK'],
  );

  // Stop the service; its whole log is searched too.
  assert.equal(await service.stop(), 0);
  const log = service.output();
  assert.match(log, /SMTP configuration in use/);
  assert.ok(log.includes(`smtp://***:***@127.0.0.1:${smtp.port}/`), 'the start-up line is masked');
  const found = [...outputs, ['service log', log] as [string, string]].flatMap(([where, text]) =>
    needles.filter((needle) => text.includes(needle)).map((needle) => `${needle} in ${where}`),
  );
  assert.deepEqual(found, []);
  console.log(`security figures: secret user name outputs searched=${outputs.length + 1} leaks=0`);
});
