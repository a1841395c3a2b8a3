import { isEncrypted, type SecretBox } from '../../secrets/secret-box.ts';
import type { Header } from '../../domain/message.ts';
import type { SmtpConfigStore, StoredSmtpConfig } from '../port.ts';
import {
  readStoredDkimKey,
  readStoredUri,
  storedDkim,
  writeStoredDkimKey,
  writeStoredUri,
} from '../smtp-config-secrets.ts';
import type { PostgresClient } from './client.ts';

interface Row {
  version: number;
  connectionUri: string;
  fromAddress: string;
  fromName: string | null;
  headers: Header[];
  createdAtMs: number;
  dkimDomain: string | null;
  dkimSelector: string | null;
  dkimPrivateKey: string | null;
  provider: string | null;
}

const COLUMNS = `version, connection_uri AS "connectionUri", from_address AS "fromAddress",
  from_name AS "fromName", headers, created_at AS "createdAtMs", dkim_domain AS "dkimDomain",
  dkim_selector AS "dkimSelector", dkim_private_key AS "dkimPrivateKey", provider`;

/** As sqlite/smtp-configs.ts: the URI (with its password) encrypted when SECRETS_KEY is set. */
export function createPostgresSmtpConfigs(
  client: PostgresClient,
  secrets: SecretBox | null,
): SmtpConfigStore {
  const toStored = ({
    dkimDomain,
    dkimSelector,
    dkimPrivateKey,
    ...row
  }: Row): StoredSmtpConfig => ({
    ...row,
    connectionUri: readStoredUri(row.connectionUri, row.version, secrets),
    dkim: storedDkim({ dkimDomain, dkimSelector, dkimPrivateKey }, row.version, secrets),
  });
  return {
    async insert(config) {
      const { rows } = await client.query<Row>(
        `INSERT INTO smtp_configs (connection_uri, from_address, from_name, headers, created_at,
            dkim_domain, dkim_selector, dkim_private_key, provider)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
        [
          writeStoredUri(config.connectionUri, secrets),
          config.fromAddress,
          config.fromName,
          JSON.stringify(config.headers),
          config.createdAtMs,
          config.dkim?.domain ?? null,
          config.dkim?.selector ?? null,
          config.dkim ? writeStoredDkimKey(config.dkim.privateKey, secrets) : null,
          config.provider ?? null,
        ],
      );
      return toStored(rows[0]!);
    },
    async latest() {
      const { rows } = await client.query<Row>(
        `SELECT ${COLUMNS} FROM smtp_configs ORDER BY version DESC LIMIT 1`,
      );
      return rows[0] ? toStored(rows[0]) : null;
    },
    async list() {
      const { rows } = await client.query<Row>(
        `SELECT ${COLUMNS} FROM smtp_configs ORDER BY version DESC`,
      );
      return rows.map(toStored);
    },
    async encryptAtRest() {
      if (secrets === null) return 0;
      return client.transaction(async (tx) => {
        // One instance at a time rewrites (they may all start together).
        const { rows } = await tx.query<Row>(
          `SELECT ${COLUMNS} FROM smtp_configs ORDER BY version FOR UPDATE`,
        );
        const stale = rows.filter(
          (row) =>
            secrets.needsRewrite(row.connectionUri) ||
            (row.dkimPrivateKey !== null && secrets.needsRewrite(row.dkimPrivateKey)),
        );
        for (const row of stale) {
          const uri = readStoredUri(row.connectionUri, row.version, secrets);
          const key =
            row.dkimPrivateKey === null
              ? null
              : writeStoredDkimKey(
                  readStoredDkimKey(row.dkimPrivateKey, row.version, secrets),
                  secrets,
                );
          await tx.query(
            'UPDATE smtp_configs SET connection_uri = $2, dkim_private_key = $3 WHERE version = $1',
            [row.version, writeStoredUri(uri, secrets), key],
          );
        }
        return stale.length;
      });
    },
    async anyEncrypted() {
      const { rows } = await client.query<{ uri: string; key: string | null }>(
        'SELECT connection_uri AS uri, dkim_private_key AS key FROM smtp_configs',
      );
      return rows.some((row) => isEncrypted(row.uri) || (row.key !== null && isEncrypted(row.key)));
    },
  };
}
