import { randomBytes } from 'node:crypto';
import type { WebhookStore } from '../db/port.ts';
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

/**
 * At start, as for the SMTP configurations (secrets/at-rest.ts): with SECRETS_KEY, every
 * endpoint secret still in cleartext or under an older key is sealed anew; without it, an
 * endpoint secret stored encrypted stops the start (every request to it would fail to sign).
 * Returns how many endpoints were rewritten.
 */
export async function secureWebhookSecrets(
  store: Pick<WebhookStore, 'listEndpoints' | 'resealSecrets'>,
  secrets: SecretBox | null,
): Promise<number> {
  const endpoints = await store.listEndpoints();
  if (secrets === null) {
    const sealed = endpoints.some(
      (endpoint) =>
        isEncrypted(endpoint.secret) ||
        (endpoint.previousSecret !== null && isEncrypted(endpoint.previousSecret)),
    );
    if (sealed) {
      throw new Error(
        'webhook endpoint secrets are stored encrypted but SECRETS_KEY is not set: set it to the key(s) used before',
      );
    }
    return 0;
  }
  let rewritten = 0;
  for (const endpoint of endpoints) {
    const stale =
      secrets.needsRewrite(endpoint.secret) ||
      (endpoint.previousSecret !== null && secrets.needsRewrite(endpoint.previousSecret));
    if (!stale) continue;
    const from = { secret: endpoint.secret, previousSecret: endpoint.previousSecret };
    const to = {
      secret: sealSecret(openSecret(endpoint.secret, secrets), secrets),
      previousSecret:
        endpoint.previousSecret === null
          ? null
          : sealSecret(openSecret(endpoint.previousSecret, secrets), secrets),
    };
    if (await store.resealSecrets(endpoint.id, from, to)) rewritten++;
  }
  return rewritten;
}
