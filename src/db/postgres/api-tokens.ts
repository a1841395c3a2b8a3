import type { ApiTokenStore, StoredApiToken } from '../port.ts';
import type { PostgresClient } from './client.ts';

const COLUMNS = `id, name, scope, created_at AS "createdAtMs", revoked_at AS "revokedAtMs",
  last_used_at AS "lastUsedAtMs"`;

const FIND_ACTIVE_BY_HASH = {
  name: 'mailscope-token-by-hash',
  text: `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
};
const FIND = {
  name: 'mailscope-token',
  text: `SELECT ${COLUMNS} FROM api_tokens WHERE id = $1`,
};
const ANY_ACTIVE = {
  name: 'mailscope-any-token',
  text: `SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL) AS active`,
};

export function createPostgresApiTokens(client: PostgresClient): ApiTokenStore {
  const find = async (id: number): Promise<StoredApiToken | null> =>
    (await client.query<StoredApiToken>({ ...FIND, values: [id] })).rows[0] ?? null;
  return {
    async insert(token) {
      const { rows } = await client.query<StoredApiToken>(
        `INSERT INTO api_tokens (name, scope, token_hash, created_at) VALUES ($1, $2, $3, $4)
          RETURNING ${COLUMNS}`,
        [token.name, token.scope, token.tokenHash, token.createdAtMs],
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
    async anyActive() {
      const { rows } = await client.query<{ active: boolean }>(ANY_ACTIVE);
      return rows[0]?.active ?? false;
    },
    async list() {
      const { rows } = await client.query<StoredApiToken>(
        `SELECT ${COLUMNS} FROM api_tokens ORDER BY id DESC`,
      );
      return rows;
    },
    async revoke(id, atMs) {
      await client.query(
        'UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL',
        [id, atMs],
      );
      return find(id);
    },
    async touch(id, atMs) {
      await client.query('UPDATE api_tokens SET last_used_at = $2 WHERE id = $1', [id, atMs]);
    },
  };
}
