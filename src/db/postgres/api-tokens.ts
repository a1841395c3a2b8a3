import type { ApiTokenStore, StoredApiToken } from '../port.ts';
import type { PostgresClient } from './client.ts';

const COLUMNS = `id, name, scope, created_at AS "createdAtMs", revoked_at AS "revokedAtMs",
  last_used_at AS "lastUsedAtMs", created_via AS "createdVia",
  created_by_token_id AS "createdByTokenId"`;

const FIND_ACTIVE_BY_HASH = {
  name: 'mailscope-token-by-hash',
  text: `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
};
const FIND = {
  name: 'mailscope-token',
  text: `SELECT ${COLUMNS} FROM api_tokens WHERE id = $1`,
};
const ANY_ACTIVE = {
  name: 'mailscope-any-active-token',
  text: `SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL) AS found`,
};
const ANY_STORED = {
  name: 'mailscope-any-stored-token',
  text: `SELECT EXISTS (SELECT 1 FROM api_tokens) AS found`,
};
/** The token and every token created from it, however deep, through revoked ones too. */
const REVOKE_TREE = {
  name: 'mailscope-revoke-token-tree',
  text: `WITH RECURSIVE tree AS (
      SELECT id FROM api_tokens WHERE id = $1
      UNION
      SELECT child.id FROM api_tokens child JOIN tree ON child.created_by_token_id = tree.id)
    UPDATE api_tokens SET revoked_at = $2
    WHERE id IN (SELECT id FROM tree) AND revoked_at IS NULL
    RETURNING id`,
};

/**
 * How long "no token was ever stored" is believed before the database is asked again. It is
 * asked on every request until a token exists (is authentication on?); a token another instance
 * creates is in force here within this, as the contract's second allows.
 */
const NONE_STORED_FOR_MS = 500;

export function createPostgresApiTokens(client: PostgresClient): ApiTokenStore {
  // Tokens are never deleted: once one is stored, the answer stays true.
  let storedKnown = false;
  let noneStoredAt = Number.NEGATIVE_INFINITY;
  const find = async (id: number): Promise<StoredApiToken | null> =>
    (await client.query<StoredApiToken>({ ...FIND, values: [id] })).rows[0] ?? null;
  const exists = async (statement: { name: string; text: string }) =>
    (await client.query<{ found: boolean }>(statement)).rows[0]?.found ?? false;
  return {
    async insert(token) {
      storedKnown = true;
      const { rows } = await client.query<StoredApiToken>(
        `INSERT INTO api_tokens (name, scope, token_hash, created_at, created_via,
            created_by_token_id)
          VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [
          token.name,
          token.scope,
          token.tokenHash,
          token.createdAtMs,
          token.createdVia,
          token.createdByTokenId,
        ],
      );
      return rows[0]!;
    },
    async findActiveByHash(tokenHash) {
      const { rows } = await client.query<StoredApiToken>({
        ...FIND_ACTIVE_BY_HASH,
        values: [tokenHash],
      });
      return rows[0] ?? null;
    },
    find,
    anyActive: () => exists(ANY_ACTIVE),
    async anyStored() {
      if (storedKnown) return true;
      if (performance.now() - noneStoredAt < NONE_STORED_FOR_MS) return false;
      storedKnown = await exists(ANY_STORED);
      if (!storedKnown) noneStoredAt = performance.now();
      return storedKnown;
    },
    async list() {
      const { rows } = await client.query<StoredApiToken>(
        `SELECT ${COLUMNS} FROM api_tokens ORDER BY id DESC`,
      );
      return rows;
    },
    revokeWithDescendants(id, atMs) {
      return client.transaction(async (tx) => {
        const before = await tx.query<StoredApiToken>({ ...FIND, values: [id] });
        if (before.rows.length === 0) return null;
        const revoked = await tx.query<{ id: number }>({ ...REVOKE_TREE, values: [id, atMs] });
        const revokedIds = revoked.rows
          .map((row) => row.id)
          .sort((a, b) => (a === id ? -1 : b === id ? 1 : a - b));
        const after = await tx.query<StoredApiToken>({ ...FIND, values: [id] });
        return { token: after.rows[0]!, revokedIds };
      });
    },
    async touch(id, atMs) {
      await client.query('UPDATE api_tokens SET last_used_at = $2 WHERE id = $1', [id, atMs]);
    },
  };
}
