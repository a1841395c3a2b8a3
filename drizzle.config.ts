import { defineConfig } from 'drizzle-kit';

// SQLite, the embedded default. PostgreSQL has its own: drizzle.postgres.config.ts.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/sqlite/schema.ts',
  out: './drizzle/sqlite',
});
