import type { SmtpEndpoint } from './endpoint.ts';

/**
 * Replaces the password, URI-encoded or base64 (alone or as an AUTH PLAIN token) with `***`.
 * Nothing here builds text from the password, but a server may echo what it was sent. Shorter
 * secrets are left alone: replacing them would mangle ordinary words.
 */
export function secretRedactor({ username, password }: SmtpEndpoint): (text: string) => string {
  if (!password || password.length < 4) return (text) => text;
  const base64 = (s: string) => Buffer.from(s).toString('base64');
  const variants = [password, encodeURIComponent(password), base64(password)];
  if (username !== null) variants.push(base64(`\u0000${username}\u0000${password}`));
  return (text) => variants.reduce((acc, secret) => acc.split(secret).join('***'), text);
}
