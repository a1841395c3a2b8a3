import { desc } from 'drizzle-orm';
import type { Header } from '../domain/message.ts';
import type { Db } from './client.ts';
import { smtpConfigs } from './schema.ts';

/** A stored configuration version. `connectionUri` holds the password: redact before showing. */
export interface StoredSmtpConfig {
  version: number;
  connectionUri: string;
  fromAddress: string;
  fromName: string | null;
  headers: Header[];
  createdAtMs: number;
}

type Row = typeof smtpConfigs.$inferSelect;

function toStored(row: Row): StoredSmtpConfig {
  return {
    version: row.version,
    connectionUri: row.connectionUri,
    fromAddress: row.fromAddress,
    fromName: row.fromName,
    headers: row.headers,
    createdAtMs: row.createdAt,
  };
}

export function createSmtpConfigRepository(db: Db) {
  return {
    insert(config: Omit<StoredSmtpConfig, 'version'>): StoredSmtpConfig {
      const row = db
        .insert(smtpConfigs)
        .values({
          connectionUri: config.connectionUri,
          fromAddress: config.fromAddress,
          fromName: config.fromName,
          headers: config.headers,
          createdAt: config.createdAtMs,
        })
        .returning()
        .get();
      return toStored(row);
    },

    latest(): StoredSmtpConfig | null {
      const row = db.select().from(smtpConfigs).orderBy(desc(smtpConfigs.version)).limit(1).get();
      return row ? toStored(row) : null;
    },

    /** Newest first. */
    list(): StoredSmtpConfig[] {
      return db.select().from(smtpConfigs).orderBy(desc(smtpConfigs.version)).all().map(toStored);
    },
  };
}

export type SmtpConfigRepository = ReturnType<typeof createSmtpConfigRepository>;
