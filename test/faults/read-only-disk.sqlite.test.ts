import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { closeWith, fileScope } from '../helpers/scope.ts';
import { tempDir } from '../helpers/service.ts';
import { mountTmpfs } from '../helpers/tmpfs.ts';

// A SQLite database on a file system mounted read-only (a volume mounted :ro, a full-disk
// remount): SQLite says only "unable to open database file"; the service, migrate and backup say
// what is wrong in DATABASE_PATH's terms.

const dir = tempDir(fileScope);

test('a database on a read-only file system is said to be so by the service and the CLI', async (t) => {
  const mountPoint = join(dir.path, 'ro-disk');
  const mounted = mountTmpfs(mountPoint, '16m');
  if ('problem' in mounted) {
    process.stderr.write(`\nNOT RUN: read-only disk: ${mounted.problem}\n`);
    t.skip(`NOT RUN: ${mounted.problem}`);
    return;
  }
  closeWith(t, mounted.unmount);
  const databasePath = join(mountPoint, 'mailscope.db');
  const env = { DATABASE_PATH: databasePath };
  assert.equal((await runCli(t, ['migrate'], env)).code, 0);
  mounted.readOnly();

  const said = /DATABASE_PATH ".*mailscope\.db": the file system is read-only/;
  const migrate = await runCli(t, ['migrate'], env);
  assert.equal(migrate.code, 1);
  assert.match(migrate.stderr, said);
  const backup = await runCli(t, ['backup', join(dir.path, 'copy.db')], env);
  assert.equal(backup.code, 1);
  assert.match(backup.stderr, said);

  const service = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...env, PORT: '0', EMBEDDED_SMTP_PORT: '0', HOST: '127.0.0.1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(service.status, 1, service.stdout + service.stderr);
  assert.match(
    service.stdout + service.stderr,
    /DATABASE_PATH \\".*mailscope\.db\\": the file system is read-only/,
  );
});
