import { randomBytes } from 'node:crypto';
import type { ServiceKeyStore } from '../db/port.ts';
import { isEncrypted, type SecretBox } from '../secrets/secret-box.ts';

const NAME = 'verp';
/** Bound into the ciphertext: the value decrypts only as this key. */
const CONTEXT = 'service_keys.verp';

/**
 * The key VERP tokens are signed with (BOUNCE_DOMAIN), made once and kept in the database, since
 * bounces of mail sent before a restart, or by another instance, must still verify. Whoever holds
 * it can forge a bounce for any message, so with SECRETS_KEY it is stored encrypted like the SMTP
 * passwords; instances that start together agree on the first one stored.
 */
export async function loadVerpKey(
  keys: ServiceKeyStore,
  secrets: SecretBox | null,
  nowMs: number,
): Promise<Buffer> {
  const fresh = randomBytes(32).toString('base64');
  const stored = await keys.getOrCreate(
    NAME,
    secrets ? secrets.encrypt(fresh, CONTEXT) : fresh,
    nowMs,
  );
  if (!isEncrypted(stored)) return Buffer.from(stored, 'base64');
  if (secrets === null) {
    throw new Error(
      'the VERP key (BOUNCE_DOMAIN) is stored encrypted, and SECRETS_KEY is not set: start with the SECRETS_KEY it was stored under',
    );
  }
  return Buffer.from(secrets.decrypt(stored, CONTEXT), 'base64');
}
