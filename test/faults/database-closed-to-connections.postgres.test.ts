import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { connect } from '../helpers/postgres.ts';
import { closeWith } from '../helpers/scope.ts';
import { startService } from '../helpers/service.ts';
import { createTestDatabase } from '../helpers/storage.ts';
import { waitFor } from '../helpers/wait-for.ts';

// A database closed to new connections (ALTER DATABASE … ALLOW_CONNECTIONS false, as an
// operator does before maintenance) with the service's connections terminated: PostgreSQL
// answers every new connection with SQLSTATE 55000, "database … is not currently accepting
// connections". That is the database being unavailable, not a bug of ours: SERVICE_UNAVAILABLE
// (which the dashboard and clients retry), not INTERNAL_SERVER_ERROR.

/** The service on a database of its own, and a connection to the server that can change it. */
async function serviceOnOwnDatabase(t: TestContext) {
  const database = await createTestDatabase('postgres');
  closeWith(t, () => database.remove());
  const name = new URL(database.env.DATABASE_URL!).pathname.slice(1);
  const admin = await connect(database.env.DATABASE_URL!.replace(/\/[^/]*$/, '/postgres'));
  closeWith(t, () => admin.end());
  const svc = await startService(t, database.env);
  return { name, admin, svc };
}

test('a database not accepting connections is SERVICE_UNAVAILABLE, and the service recovers', async (t) => {
  const { name, admin, svc } = await serviceOnOwnDatabase(t);
  assert.equal((await svc.gql(`{ messages { totalCount } }`)).errors, undefined);

  await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS false`);
  closeWith(t, () => admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS true`));
  await admin.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
  const refused = await waitFor(
    async () => {
      const answer = await svc.gql(`{ messages { totalCount } }`);
      return answer.errors ? answer : null;
    },
    { description: 'a query to fail while the database refuses connections' },
  );
  assert.equal(refused.errors![0]!.extensions!['code'], 'SERVICE_UNAVAILABLE');
  const send = await svc.gql(
    `mutation { sendEmail(input: { to: "a@example.com", subject: "s", text: "t" }) { id } }`,
  );
  assert.equal(send.errors?.[0]?.extensions?.['code'], 'SERVICE_UNAVAILABLE');

  await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS true`);
  await waitFor(async () => (await svc.gql(`{ messages { totalCount } }`)).errors === undefined, {
    description: 'the service to answer again once connections are allowed',
  });
});

test('a database whose transactions are read-only is not ready, and writes are SERVICE_UNAVAILABLE', async (t) => {
  const { name, admin, svc } = await serviceOnOwnDatabase(t);
  const readyz = async () => {
    const response = await fetch(`${svc.url}/readyz`);
    return { status: response.status, text: await response.text() };
  };
  await waitFor(async () => (await readyz()).status === 200, { description: '/readyz 200' });

  // What a managed provider does when the disk fills up; new sessions pick it up.
  await admin.query(`ALTER DATABASE "${name}" SET default_transaction_read_only = on`);
  closeWith(t, () => admin.query(`ALTER DATABASE "${name}" RESET default_transaction_read_only`));
  await admin.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
  // (The first probes after the backends were terminated may find a dead pooled connection.)
  await waitFor(
    async () => {
      const answer = await readyz();
      return answer.status === 503 && /transactions are read-only/.test(answer.text);
    },
    { description: '/readyz 503 saying the database takes no writes' },
  );
  const send = await svc.gql(
    `mutation { sendEmail(input: { to: "a@example.com", subject: "s", text: "t" }) { id } }`,
  );
  assert.equal(send.errors?.[0]?.extensions?.['code'], 'SERVICE_UNAVAILABLE');

  await admin.query(`ALTER DATABASE "${name}" RESET default_transaction_read_only`);
  await admin.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
  await waitFor(async () => (await readyz()).status === 200, {
    description: '/readyz 200 once it takes writes again',
  });
});
