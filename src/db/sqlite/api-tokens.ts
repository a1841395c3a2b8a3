import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import type { NewApiToken, StoredApiToken } from '../port.ts';
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
    createdVia: row.createdVia,
    createdByTokenId: row.createdByTokenId,
  };
}

export function createApiTokenRepository(db: Db) {
  // Run on every request (is authentication on? whose token is this?): prepared once, since
  // building and preparing them each time cost more than running them. `anyActive` is asked
  // even by every anonymous sendEmail, so it runs the SQL drizzle builds as a plain statement
  // returning one value, without drizzle's per-call result mapping (a measurable share of a
  // sendEmail's main-thread time under load; bench/README.md).
  const p = sql.placeholder;
  const anyActiveQuery = db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(isNull(apiTokens.revokedAt))
    .limit(1)
    .toSQL();
  const anyActive = db.$client.prepare(anyActiveQuery.sql).pluck();
  const anyStoredQuery = db.select({ id: apiTokens.id }).from(apiTokens).limit(1).toSQL();
  const anyStored = db.$client.prepare(anyStoredQuery.sql).pluck();
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
    insert(token: NewApiToken) {
      const row = db
        .insert(apiTokens)
        .values({
          name: token.name,
          scope: token.scope,
          tokenHash: token.tokenHash,
          createdAt: token.createdAtMs,
          createdVia: token.createdVia,
          createdByTokenId: token.createdByTokenId,
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

    /** True when at least one unrevoked token exists. */
    anyActive(): boolean {
      return anyActive.get(...anyActiveQuery.params) !== undefined;
    },

    /**
     * True once any token was ever stored, revoked ones included (rows are never deleted): from
     * then on every request needs a token.
     */
    anyStored(): boolean {
      return anyStored.get(...anyStoredQuery.params) !== undefined;
    },

    /** Newest first, revoked ones included. */
    list(): StoredApiToken[] {
      return db.select().from(apiTokens).orderBy(desc(apiTokens.id)).all().map(toStored);
    },

    /**
     * Revokes the token and every token it created, transitively, in one transaction; those
     * already revoked stay as they were. Returns the token as it is now and the ids this call
     * revoked (the token's first, when it was still active), or null when the id is unknown.
     */
    revokeWithDescendants(
      id: number,
      atMs: number,
    ): { token: StoredApiToken; revokedIds: number[] } | null {
      return db.transaction((tx) => {
        if (
          tx.select({ id: apiTokens.id }).from(apiTokens).where(eq(apiTokens.id, id)).get() ===
          undefined
        ) {
          return null;
        }
        // Breadth first over created_by_token_id, through revoked tokens too: a token created
        // before its parent was revoked is still that parent's.
        const tree = [id];
        for (let frontier = [id]; frontier.length > 0;) {
          frontier = tx
            .select({ id: apiTokens.id })
            .from(apiTokens)
            .where(inArray(apiTokens.createdByTokenId, frontier))
            .all()
            .map((row) => row.id)
            .filter((child) => !tree.includes(child));
          tree.push(...frontier);
        }
        const revokedIds = tx
          .update(apiTokens)
          .set({ revokedAt: atMs })
          .where(and(inArray(apiTokens.id, tree), isNull(apiTokens.revokedAt)))
          .returning({ id: apiTokens.id })
          .all()
          .map((row) => row.id)
          .sort((a, b) => (a === id ? -1 : b === id ? 1 : a - b));
        const row = tx.select().from(apiTokens).where(eq(apiTokens.id, id)).get()!;
        return { token: toStored(row), revokedIds };
      });
    },

    touch(id: number, atMs: number): void {
      db.update(apiTokens).set({ lastUsedAt: atMs }).where(eq(apiTokens.id, id)).run();
    },
  };
}

export type ApiTokenRepository = ReturnType<typeof createApiTokenRepository>;
