import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import type { StoredApiToken, StoredTokenScope } from '../port.ts';
import { apiTokens } from './schema.ts';

type Row = typeof apiTokens.$inferSelect;

function toStored(row: Row): StoredApiToken {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    createdAtMs: row.createdAt,
    revokedAtMs: row.revokedAt,
    lastUsedAtMs: row.lastUsedAt,
  };
}

export function createApiTokenRepository(db: Db) {
  // Run on every request (is authentication on? whose token is this?): prepared once, since
  // building and preparing them each time cost more than running them. `anyActive` is asked
  // even by every anonymous sendEmail, so it runs the SQL drizzle builds as a plain statement
  // returning one value, without drizzle's per-call result mapping (~5 µs of the main thread's
  // ~110 µs per sendEmail under load).
  const p = sql.placeholder;
  const anyActiveQuery = db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(isNull(apiTokens.revokedAt))
    .limit(1)
    .toSQL();
  const anyActive = db.$client.prepare(anyActiveQuery.sql).pluck();
  const findActiveByHash = db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, p('tokenHash')), isNull(apiTokens.revokedAt)))
    .prepare();
  const find = db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.id, p('id')))
    .prepare();

  return {
    insert(token: {
      name: string;
      scope: StoredTokenScope;
      tokenHash: string;
      createdAtMs: number;
    }) {
      const row = db
        .insert(apiTokens)
        .values({
          name: token.name,
          scope: token.scope,
          tokenHash: token.tokenHash,
          createdAt: token.createdAtMs,
        })
        .returning()
        .get();
      return toStored(row);
    },

    /** The unrevoked token with this digest, or null. */
    findActiveByHash(tokenHash: string): StoredApiToken | null {
      const row = findActiveByHash.get({ tokenHash });
      return row ? toStored(row) : null;
    },

    find(id: number): StoredApiToken | null {
      const row = find.get({ id });
      return row ? toStored(row) : null;
    },

    /** True when at least one unrevoked token exists: then every request needs a token. */
    anyActive(): boolean {
      return anyActive.get(...anyActiveQuery.params) !== undefined;
    },

    /** Newest first, revoked ones included. */
    list(): StoredApiToken[] {
      return db.select().from(apiTokens).orderBy(desc(apiTokens.id)).all().map(toStored);
    },

    /** Revokes the token unless it already is; returns it as it is now, or null when unknown. */
    revoke(id: number, atMs: number): StoredApiToken | null {
      db.update(apiTokens)
        .set({ revokedAt: atMs })
        .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
        .run();
      return this.find(id);
    },

    touch(id: number, atMs: number): void {
      db.update(apiTokens).set({ lastUsedAt: atMs }).where(eq(apiTokens.id, id)).run();
    },
  };
}

export type ApiTokenRepository = ReturnType<typeof createApiTokenRepository>;
