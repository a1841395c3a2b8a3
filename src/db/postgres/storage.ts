import type { SecretBox } from '../../secrets/secret-box.ts';
import type { Storage } from '../port.ts';

export interface PostgresStorageOptions {
  dialect: 'postgres';
  /** postgres://user:password@host:port/database */
  url: string;
}

export async function openPostgresStorage(
  _options: PostgresStorageOptions,
  _open: { role: 'main' | 'delivery'; secrets: SecretBox | null },
): Promise<Storage> {
  throw new Error('PostgreSQL storage is being built');
}
