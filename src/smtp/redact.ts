import type { SmtpEndpoint } from './endpoint.ts';
import { usernameIsSecret } from './secret-username.ts';

/** Shorter secrets are left alone: replacing them would mangle ordinary words. */
const MIN_SECRET_LENGTH = 4;

/**
 * Every form in which the endpoint's secrets could appear in text: the password (as is,
 * URI-encoded, base64, and inside an AUTH PLAIN token), and the user name in the same forms when
 * it is a credential too (secret-username.ts). Longest first, so a longer form is replaced whole
 * before a shorter one inside it.
 */
export function secretVariants(endpoint: SmtpEndpoint): string[] {
  const { username, password } = endpoint;
  const base64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const forms = (secret: string) => [secret, encodeURIComponent(secret), base64(secret)];
  const variants: string[] = [];
  if (password && password.length >= MIN_SECRET_LENGTH) {
    variants.push(...forms(password));
    if (username !== null) variants.push(base64(`\u0000${username}\u0000${password}`));
  }
  if (username && username.length >= MIN_SECRET_LENGTH && usernameIsSecret(endpoint)) {
    variants.push(...forms(username));
  }
  return [...new Set(variants)].sort((a, b) => b.length - a.length);
}

/**
 * Replaces the endpoint's secrets (secretVariants) with `***`. Nothing here builds text from
 * them, but a server may echo what it was sent.
 */
export function secretRedactor(endpoint: SmtpEndpoint): (text: string) => string {
  const variants = secretVariants(endpoint);
  if (variants.length === 0) return (text) => text;
  return (text) => variants.reduce((acc, secret) => acc.split(secret).join('***'), text);
}
