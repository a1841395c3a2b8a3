import { randomBytes } from 'node:crypto';
import { isEncrypted, type SecretBox } from '../secrets/secret-box.ts';

/** Bound into the ciphertext: the value decrypts only as an endpoint's secret. */
const CONTEXT = 'webhook_endpoints.secret';

/** A new signing secret: `whsec_` and the standard base64 of 24 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** As stored: encrypted with SECRETS_KEY when it is set, like the SMTP passwords. */
export function sealSecret(secret: string, secrets: SecretBox | null): string {
  return secrets ? secrets.encrypt(secret, CONTEXT) : secret;
}

export function openSecret(stored: string, secrets: SecretBox | null): string {
  if (!isEncrypted(stored)) return stored;
  if (secrets === null) {
    throw new Error(
      'a webhook secret is stored encrypted, and SECRETS_KEY is not set: start with the SECRETS_KEY it was stored under',
    );
  }
  return secrets.decrypt(stored, CONTEXT);
}
