import type { SecretBox } from './secret-box.ts';

export interface StoredSecrets {
  encryptAtRest(): Promise<number>;
  anyEncrypted(): Promise<boolean>;
}

/**
 * At start: with SECRETS_KEY, encrypts what is still stored in cleartext (or under an older key);
 * without, refuses to start when something is stored encrypted (it could not be used) and
 * otherwise warns that SMTP passwords are stored in cleartext.
 */
export async function secureStoredSecrets(
  stored: StoredSecrets,
  secrets: SecretBox | null,
  log: { info(text: string): void; warn(text: string): void },
): Promise<void> {
  if (secrets !== null) {
    const rewritten = await stored.encryptAtRest();
    if (rewritten > 0) {
      log.info(`encrypted ${rewritten} stored SMTP configuration(s) with SECRETS_KEY`);
    }
    return;
  }
  if (await stored.anyEncrypted()) {
    throw new Error(
      'stored SMTP configurations are encrypted but SECRETS_KEY is not set: set it to the key(s) used before',
    );
  }
  log.warn(
    'SECRETS_KEY is not set, so SMTP passwords, DKIM keys and webhook secrets are stored in cleartext in the database. ' +
      'Set SECRETS_KEY to a base64 32-byte key (e.g. `openssl rand -base64 32`); ' +
      'what is stored is encrypted at the next start.',
  );
}
