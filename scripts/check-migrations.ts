// Fails when src/db/schema.ts has changes that no migration in drizzle/ captures: drizzle-kit is
// run against a scratch copy of drizzle/, and any file it would add means `npm run db:generate`
// was forgotten.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';

// drizzle-kit mangles absolute --out paths, so the scratch copy lives under the project.
mkdirSync('.tmp', { recursive: true });
const scratch = mkdtempSync('.tmp/migrations-check-');
try {
  cpSync('drizzle', scratch, { recursive: true });
  const before = new Set(readdirSync(scratch));
  const output = execFileSync(
    'npx',
    [
      'drizzle-kit',
      'generate',
      '--dialect',
      'sqlite',
      '--schema',
      'src/db/schema.ts',
      '--out',
      scratch,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const added = readdirSync(scratch).filter((name) => !before.has(name));
  // drizzle-kit exits 0 even when it fails, so require its explicit all-clear too.
  if (!output.includes('No schema changes')) {
    console.error(`drizzle-kit did not confirm the migrations are current:\n${output}`);
    process.exitCode = 1;
  } else if (added.length > 0) {
    console.error(`schema.ts has changes without a migration (would add ${added.join(', ')}).`);
    console.error('Run `npm run db:generate` and commit drizzle/.');
    process.exitCode = 1;
  } else {
    console.log('migrations: drizzle/ matches src/db/schema.ts');
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
