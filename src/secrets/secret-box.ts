import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for secrets stored in the database. A stored value reads
 * `enc:v1:<key id>:<iv>:<ciphertext>:<tag>` (base64url parts); the key id is the start of the
 * key's SHA-256, so the right key is found among several and rotation needs no bookkeeping.
 * `context` is bound in as associated data: a value copied to another column does not decrypt.
 */
export interface SecretBox {
  encrypt(plaintext: string, context: string): string;
  /** Throws when the value was encrypted with a key not given, or was tampered with. */
  decrypt(stored: string, context: string): string;
  /** Plaintext, or encrypted with a key other than the first: write it again. */
  needsRewrite(stored: string): boolean;
}

const PREFIX = 'enc:v1:';

export function isEncrypted(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

/** A box over base64 keys of 32 bytes (SECRETS_KEY), the first encrypting; null without keys. */
export function createSecretBox(keysBase64: readonly string[]): SecretBox | null {
  if (keysBase64.length === 0) return null;
  const keys = keysBase64.map((encoded) => {
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== 32) throw new Error('every SECRETS_KEY key must be 32 bytes');
    return { id: keyId(key), key };
  });
  const current = keys[0]!;
  const byId = new Map(keys.map((entry) => [entry.id, entry.key]));

  return {
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const parts = [iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url'));
      return `${PREFIX}${current.id}:${parts.join(':')}`;
    },

    decrypt(stored, context) {
      const [id, iv, ciphertext, tag] = stored.slice(PREFIX.length).split(':');
      const key = id === undefined ? undefined : byId.get(id);
      if (!isEncrypted(stored) || key === undefined || !iv || ciphertext === undefined || !tag) {
        throw new Error(
          `a stored secret was encrypted with key ${id ?? '?'}, which SECRETS_KEY does not hold`,
        );
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    },

    needsRewrite(stored) {
      return !stored.startsWith(`${PREFIX}${current.id}:`);
    },
  };
}
