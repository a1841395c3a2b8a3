import { isEncrypted, type SecretBox } from '../secrets/secret-box.ts';
import type { StoredDkimKey } from './port.ts';

// The stored connection URI holds the password, so with SECRETS_KEY it is stored encrypted;
// without, in cleartext. Both dialects store and read it through these.

/** Associated data of the encrypted column: a value moved elsewhere does not decrypt. */
const URI_CONTEXT = 'smtp_configs.connection_uri';

export function readStoredUri(stored: string, version: number, secrets: SecretBox | null): string {
  if (!isEncrypted(stored)) return stored;
  if (secrets === null) {
    throw new Error(
      `SMTP configuration v${version} is stored encrypted: set SECRETS_KEY to the key that encrypted it`,
    );
  }
  return secrets.decrypt(stored, URI_CONTEXT);
}

export function writeStoredUri(uri: string, secrets: SecretBox | null): string {
  return secrets ? secrets.encrypt(uri, URI_CONTEXT) : uri;
}

const DKIM_CONTEXT = 'smtp_configs.dkim_private_key';

/** The DKIM private key is a secret like the password: encrypted with SECRETS_KEY. */
export function readStoredDkimKey(
  stored: string,
  version: number,
  secrets: SecretBox | null,
): string {
  if (!isEncrypted(stored)) return stored;
  if (secrets === null) {
    throw new Error(
      `the DKIM key of SMTP configuration v${version} is stored encrypted: set SECRETS_KEY to the key that encrypted it`,
    );
  }
  return secrets.decrypt(stored, DKIM_CONTEXT);
}

export function writeStoredDkimKey(key: string, secrets: SecretBox | null): string {
  return secrets ? secrets.encrypt(key, DKIM_CONTEXT) : key;
}

/** The three columns as the domain type. */
export function storedDkim(
  row: { dkimDomain: string | null; dkimSelector: string | null; dkimPrivateKey: string | null },
  version: number,
  secrets: SecretBox | null,
): StoredDkimKey | null {
  if (row.dkimDomain === null || row.dkimSelector === null || row.dkimPrivateKey === null)
    return null;
  return {
    domain: row.dkimDomain,
    selector: row.dkimSelector,
    privateKey: readStoredDkimKey(row.dkimPrivateKey, version, secrets),
  };
}
