// Runs one suite of test/ (integration, e2e, security, faults) on each storage dialect in turn:
// once on SQLite, once on PostgreSQL (MAILSCOPE_TEST_DB, see test/helpers/storage.ts), one
// matrix rather than two copies of the tests. A file named `*.sqlite.test.ts` or
// `*.postgres.test.ts` is about that dialect's own machinery and runs in its pass only.
//
//   node --import tsx scripts/test-suite.ts integration          # both passes
//   MAILSCOPE_TEST_DB=postgres node --import tsx scripts/test-suite.ts e2e   # one
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const DIALECTS = ['sqlite', 'postgres'] as const;
type Dialect = (typeof DIALECTS)[number];

const suite = process.argv[2];
if (suite === undefined || !/^[a-z0-9]+$/.test(suite)) {
  console.error('usage: test-suite.ts <suite> [more node --test arguments]');
  process.exit(2);
}
const requested = process.env['MAILSCOPE_TEST_DB'];
const dialects: readonly Dialect[] =
  requested === 'sqlite' || requested === 'postgres' ? [requested] : DIALECTS;

function filesFor(dialect: Dialect): string[] {
  const other = DIALECTS.filter((name) => name !== dialect);
  return readdirSync(`test/${suite}`)
    .filter((name) => name.endsWith('.test.ts'))
    .filter((name) => !other.some((name_) => name.endsWith(`.${name_}.test.ts`)))
    .sort()
    .map((name) => `test/${suite}/${name}`);
}

let failed = false;
for (const dialect of dialects) {
  const files = filesFor(dialect);
  console.log(`\n# ${suite} on ${dialect}: ${files.length} files`);
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './test/helpers/setup.ts',
      '--test',
      '--test-timeout=300000',
      '--test-force-exit',
      '--test-concurrency=1',
      ...process.argv.slice(3),
      ...files,
    ],
    { stdio: 'inherit', env: { ...process.env, MAILSCOPE_TEST_DB: dialect } },
  );
  if (result.status !== 0) {
    console.error(`# ${suite} on ${dialect}: failed (exit ${result.status ?? result.signal})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
