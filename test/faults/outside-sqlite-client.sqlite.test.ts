import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { graphqlRequest, startServiceProcess, tempDir } from '../helpers/service.ts';
import { startTestSmtpServer } from '../helpers/smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

// An operator looks into the running service's SQLite file with another SQLite client (the
// sqlite3 shell, a monitoring script). SQLite coordinates processes with POSIX locks, and the
// last connection to close a WAL database checkpoints it and deletes the WAL: if the service
// held no lock, the outside client would think itself the last and delete the WAL under the
// running service, and every write acknowledged after that would be lost at the next restart.

/** Another process's SQLite (Python's, as the sqlite3 shell would): opens, reads, closes. */
function outsideCount(path: string): number {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const script = [
    'import sqlite3, sys',
    'c = sqlite3.connect(sys.argv[1])',
    'print(c.execute("select count(*) from messages").fetchone()[0])',
    'c.close()',
  ].join('\n');
  return Number(execFileSync(python, ['-c', script, path], { encoding: 'utf8' }).trim());
}

test('another SQLite client opening and closing the file takes nothing from the running service', async (t) => {
  const smtp = await startTestSmtpServer(t);
  const path = join(tempDir(t).path, 'watched.db');
  const env = {
    DATABASE_PATH: path,
    SMTP_CONNECTION_URI: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
    EMBEDDED_SMTP_PORT: 'off',
  };
  const first = await startServiceProcess(t, env);
  const send = async (url: string, to: string) => {
    const sent = await graphqlRequest(
      `${url}/graphql`,
      `mutation ($to: String!) { sendEmail(input: { to: $to, subject: "s", text: "t" }) { id } }`,
      { to },
    );
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
  };
  await send(first.url, 'before@example.com');
  assert.equal(outsideCount(path), 1, 'the outside client reads the acknowledged message');
  assert.ok(existsSync(`${path}-wal`), 'the WAL is still there after the outside client closed');

  for (const to of ['after-1@example.com', 'after-2@example.com', 'after-3@example.com']) {
    await send(first.url, to);
  }
  assert.equal(outsideCount(path), 4, 'and sees the writes made after it looked');
  // Acknowledged means durable: a crash right now loses none of them.
  await first.kill();
  const second = await startServiceProcess(t, env);
  const listed = await graphqlRequest(`${second.url}/graphql`, `{ messages { totalCount } }`);
  assert.equal(listed.data.messages.totalCount, 4, 'every acknowledged message after a kill -9');
  await waitFor(() => smtp.receivedCount >= 4, { description: 'all four delivered' });
});
