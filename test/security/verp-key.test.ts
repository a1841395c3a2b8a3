import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { connect } from '../helpers/postgres.ts';
import { startService, tempDir, type TestService } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { TEST_DIALECT, createPostgresDatabase } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Whoever holds the VERP key can forge a bounce for any message: with SECRETS_KEY it is stored
// encrypted, like the SMTP passwords, and still signs the same tokens after a restart.

const SECRETS_KEY = Buffer.alloc(32, 5).toString('base64');
const BOUNCE_DOMAIN = 'bounces.example.com';

async function storedVerpKey(service: TestService): Promise<string> {
  if (service.databaseUrl === null) {
    const db = new Database(service.databasePath, { readonly: true });
    try {
      const row = db.prepare(`select value from service_keys where name = 'verp'`).get() as {
        value: string;
      };
      return row.value;
    } finally {
      db.close();
    }
  }
  const client = await connect(service.databaseUrl);
  try {
    const { rows } = await client.query(`SELECT value FROM service_keys WHERE name = 'verp'`);
    return rows[0].value as string;
  } finally {
    await client.end();
  }
}

test('with SECRETS_KEY the VERP key is stored encrypted, signs the same tokens after a restart, and needs the key to start', async (t) => {
  let accept = false;
  const smtp = await startTestSmtpServer(t, {
    rejectData: () => (accept ? null : { code: 550, message: '5.7.1 not now' }),
  });
  // One database for both starts, of the dialect under test.
  let database: Record<string, string>;
  if (TEST_DIALECT === 'postgres') {
    const created = await createPostgresDatabase();
    t.after(() => created.remove());
    database = { DATABASE_URL: created.url };
  } else {
    database = { DATABASE_PATH: join(tempDir(t).path, 'verp.db') };
  }
  const env = {
    ...database,
    SECRETS_KEY,
    BOUNCE_DOMAIN,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
  };

  const first = await startService(t, env);
  const stored = await storedVerpKey(first);
  assert.match(stored, /^enc:v1:/, 'the key is not in the database in the clear');
  const sent = await first.gql(
    `mutation { sendEmail(input: { to: "ada@example.com", subject: "s", text: "t" }) { id } }`,
  );
  const id = sent.data.sendEmail.id;
  await waitFor(async () => {
    const answer = await first.gql(`{ message(id: "${id}") { status } }`);
    return answer.data.message.status === 'ABANDONED';
  });
  // The refused attempt's envelope sender, as the server saw it.
  const mailFrom = smtp.events.find((line) => /^MAIL FROM:/i.test(line));
  const envelopeBefore = /<([^>]+)>/.exec(mailFrom ?? '')?.[1];
  assert.ok(envelopeBefore, `no MAIL FROM seen: ${smtp.events.join(' | ')}`);
  await first.close();

  // Without the key it cannot sign, and says so rather than making a new one.
  await assert.rejects(startService(t, { ...env, SECRETS_KEY: '' }), /VERP key .*SECRETS_KEY/);

  const second = await startService(t, env);
  assert.equal(await storedVerpKey(second), stored, 'the stored key is kept, not replaced');
  accept = true;
  const retried = await second.gql(`mutation { retryMessage(id: "${id}") { status } }`);
  assert.equal(retried.errors, undefined);
  const delivered = await waitFor(() =>
    smtp.received.find((mail) => mail.to.includes('ada@example.com')),
  );
  assert.match(
    delivered.from,
    new RegExp(`^bounces\\+.+@${BOUNCE_DOMAIN.replaceAll('.', '\\.')}$`),
  );
  assert.equal(delivered.from, envelopeBefore, 'the same message, the same token, after a restart');
});
