// Fails when a dialect's drizzle schema has changes that no migration in its folder captures:
// drizzle-kit is run against a scratch copy of drizzle/<dialect>/, and any file it would add
// means `npm run db:generate` was forgotten.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';

const DIALECTS = [
  { name: 'sqlite', kit: 'sqlite', schema: 'src/db/sqlite/schema.ts', folder: 'drizzle/sqlite' },
  {
    name: 'postgres',
    kit: 'postgresql',
    schema: 'src/db/postgres/schema.ts',
    folder: 'drizzle/postgres',
  },
] as const;

// drizzle-kit mangles absolute --out paths, so the scratch copies live under the project.
mkdirSync('.tmp', { recursive: true });
for (const dialect of DIALECTS) {
  const scratch = mkdtempSync(`.tmp/migrations-check-${dialect.name}-`);
  try {
    cpSync(dialect.folder, scratch, { recursive: true });
    const before = new Set(readdirSync(scratch));
    const output = execFileSync(
      'npx',
      [
        'drizzle-kit',
        'generate',
        '--dialect',
        dialect.kit,
        '--schema',
        dialect.schema,
        '--out',
        scratch,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const added = readdirSync(scratch).filter((name) => !before.has(name));
    // drizzle-kit exits 0 even when it fails, so require its explicit all-clear too.
    if (!output.includes('No schema changes')) {
      console.error(`drizzle-kit did not confirm ${dialect.folder} is current:\n${output}`);
      process.exitCode = 1;
    } else if (added.length > 0) {
      console.error(
        `${dialect.schema} has changes without a migration (would add ${added.join(', ')}).`,
      );
      console.error('Run `npm run db:generate` and commit drizzle/.');
      process.exitCode = 1;
    } else {
      console.log(`migrations: ${dialect.folder} matches ${dialect.schema}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
