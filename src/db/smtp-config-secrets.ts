import { isEncrypted, type SecretBox } from '../secrets/secret-box.ts';

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
