import type { SmtpEndpoint } from './endpoint.ts';
import { SMTP_PROVIDERS } from './provider-presets.ts';

/**
 * Hosts whose user name is a credential: the presets that say so, and Postmark's broadcast
 * stream host, which takes the same server token.
 */
const SECRET_USERNAME_HOSTS = new Set([
  ...SMTP_PROVIDERS.filter((preset) => preset.usernameIsSecret && preset.host !== null).map(
    (preset) => preset.host!,
  ),
  'smtp-broadcasts.postmarkapp.com',
]);

/**
 * Whether the user name must be hidden like the password: a provider whose user name is a token
 * (Postmark puts its server token in both), or any URI whose user name is its password. Showing
 * it would hand a READ token, a log reader or a dashboard viewer the very secret the password
 * mask protects.
 */
export function usernameIsSecret(
  endpoint: Pick<SmtpEndpoint, 'host' | 'username' | 'password'>,
): boolean {
  const { username, password, host } = endpoint;
  if (username === null || username === '') return false;
  return username === password || SECRET_USERNAME_HOSTS.has(host.toLowerCase());
}
