import { desc, eq, sql } from 'drizzle-orm';
import { isEncrypted, type SecretBox } from '../../secrets/secret-box.ts';
import type { NewSmtpConfig, StoredSmtpConfig } from '../port.ts';
import {
  readStoredDkimKey,
  readStoredUri,
  storedDkim,
  writeStoredDkimKey,
  writeStoredUri,
} from '../smtp-config-secrets.ts';
import type { Db } from './client.ts';
import { smtpConfigs } from './schema.ts';

type Row = typeof smtpConfigs.$inferSelect;

function readUri(row: Row, secrets: SecretBox | null): string {
  return readStoredUri(row.connectionUri, row.version, secrets);
}

function toStored(row: Row, secrets: SecretBox | null): StoredSmtpConfig {
  return {
    version: row.version,
    connectionUri: readUri(row, secrets),
    fromAddress: row.fromAddress,
    fromName: row.fromName,
    headers: row.headers,
    createdAtMs: row.createdAt,
    dkim: storedDkim(row, row.version, secrets),
    provider: row.provider,
  };
}

/**
 * The connection URI holds the password, so with `secrets` (SECRETS_KEY) it is stored encrypted;
 * without, in cleartext as before. Rows of either kind are read.
 */
export function createSmtpConfigRepository(db: Db, secrets: SecretBox | null = null) {
  const toDomain = (row: Row) => toStored(row, secrets);
  const writeUri = (uri: string) => writeStoredUri(uri, secrets);
  // Read in every delivery cycle that claims (storage.ts): prepared once, since building and
  // preparing the query each time cost about four times running it (profile of the submission
  // bench's delivery thread: 187 of its 236 ms).
  const latestVersion = db
    .select({ version: smtpConfigs.version })
    .from(smtpConfigs)
    .orderBy(desc(smtpConfigs.version))
    .limit(1)
    .prepare();
  return {
    insert(config: NewSmtpConfig): StoredSmtpConfig {
      const row = db
        .insert(smtpConfigs)
        .values({
          connectionUri: writeUri(config.connectionUri),
          fromAddress: config.fromAddress,
          fromName: config.fromName,
          headers: config.headers,
          createdAt: config.createdAtMs,
          dkimDomain: config.dkim?.domain ?? null,
          dkimSelector: config.dkim?.selector ?? null,
          dkimPrivateKey: config.dkim ? writeStoredDkimKey(config.dkim.privateKey, secrets) : null,
          provider: config.provider ?? null,
        })
        .returning()
        .get();
      return toDomain(row);
    },

    /** The newest version, or null when none is stored. */
    latestVersion(): number | null {
      return latestVersion.get()?.version ?? null;
    },

    latest(): StoredSmtpConfig | null {
      const row = db.select().from(smtpConfigs).orderBy(desc(smtpConfigs.version)).limit(1).get();
      return row ? toDomain(row) : null;
    },

    /** Newest first. */
    list(): StoredSmtpConfig[] {
      return db.select().from(smtpConfigs).orderBy(desc(smtpConfigs.version)).all().map(toDomain);
    },

    /**
     * Encrypts cleartext rows and rows under an older key with the current key; returns how
     * many were rewritten. secure_delete zeroes the freed bytes, so the cleartext does not stay
     * behind in the file's free pages.
     */
    encryptAtRest(): number {
      if (secrets === null) return 0;
      const rows = db.select().from(smtpConfigs).all();
      const stale = rows.filter(
        (row) =>
          secrets.needsRewrite(row.connectionUri) ||
          (row.dkimPrivateKey !== null && secrets.needsRewrite(row.dkimPrivateKey)),
      );
      if (stale.length === 0) return 0;
      db.run(sql`PRAGMA secure_delete = ON`);
      try {
        db.transaction((tx) => {
          for (const row of stale) {
            tx.update(smtpConfigs)
              .set({
                connectionUri: writeUri(readUri(row, secrets)),
                dkimPrivateKey:
                  row.dkimPrivateKey === null
                    ? null
                    : writeStoredDkimKey(
                        readStoredDkimKey(row.dkimPrivateKey, row.version, secrets),
                        secrets,
                      ),
              })
              .where(eq(smtpConfigs.version, row.version))
              .run();
          }
        });
      } finally {
        db.run(sql`PRAGMA secure_delete = OFF`);
      }
      // Move the rewritten pages out of the WAL into the file now, over the old bytes.
      db.run(sql`PRAGMA wal_checkpoint(TRUNCATE)`);
      return stale.length;
    },

    /** True when some row is encrypted (then SECRETS_KEY is needed to use it). */
    anyEncrypted(): boolean {
      return db
        .select({ uri: smtpConfigs.connectionUri, key: smtpConfigs.dkimPrivateKey })
        .from(smtpConfigs)
        .all()
        .some((row) => isEncrypted(row.uri) || (row.key !== null && isEncrypted(row.key)));
    },
  };
}

export type SmtpConfigRepository = ReturnType<typeof createSmtpConfigRepository>;
