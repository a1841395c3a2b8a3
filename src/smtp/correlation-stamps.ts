import type { Header } from '../domain/message.ts';
import { presetInUse } from './provider-presets.ts';

// Correlation stamps: headers that make a provider echo our message id in its event webhooks
// (SES rewrites Message-ID, Postmark does not echo it). Each goes only to the provider that
// reads it: the others would pass it on to the recipient.

export type StampedProvider = 'SENDGRID' | 'MAILGUN' | 'POSTMARK' | 'SES';

/** The name our id goes by in every stamp (the webhooks read it back under this name). */
export const STAMP_NAME = 'mailscope-id';

const SES_HOST = /^email-smtp(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** The provider that reads stamps under a preset's id (SES's and Mailgun's in every region). */
function stampedProviderOf(presetId: string): StampedProvider | null {
  if (presetId === 'SENDGRID' || presetId === 'POSTMARK') return presetId;
  if (presetId.startsWith('MAILGUN_')) return 'MAILGUN';
  if (presetId.startsWith('AMAZON_SES_')) return 'SES';
  return null;
}

/**
 * The provider mail sent through `host` goes to: that of the preset in use (presetInUse), else
 * SES for its hosts in regions without a preset, or null.
 */
export function stampedProviderFor(
  host: string,
  preset: string | null = null,
): StampedProvider | null {
  const inUse = presetInUse(host, preset);
  if (inUse !== null) return stampedProviderOf(inUse);
  return SES_HOST.test(host.toLowerCase().replace(/\.$/, '')) ? 'SES' : null;
}

/** A JSON object header the message already has, so that our key is added to it, not over it. */
function existingObject(headers: readonly Header[], name: string): Record<string, unknown> {
  const found = headers.findLast((h) => h.name.toLowerCase() === name.toLowerCase());
  if (found === undefined) return {};
  try {
    const value: unknown = JSON.parse(found.value);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/**
 * The stamps for message `id` sent through `host` with the configuration made with
 * `options.preset`, given the message's own headers (a stamp replaces a header of the same name,
 * keeping what the message put in it). Empty for mail to no known provider.
 */
export function correlationStamps(
  host: string,
  id: number,
  headers: readonly Header[],
  options: { sesConfigurationSet: string | null; preset?: string | null },
): Header[] {
  const value = String(id);
  switch (stampedProviderFor(host, options.preset ?? null)) {
    case 'SENDGRID': {
      const smtpApi = existingObject(headers, 'X-SMTPAPI');
      const args = smtpApi['unique_args'];
      const uniqueArgs =
        typeof args === 'object' && args !== null && !Array.isArray(args) ? args : {};
      return [
        {
          name: 'X-SMTPAPI',
          value: JSON.stringify({
            ...smtpApi,
            unique_args: { ...uniqueArgs, [STAMP_NAME]: value },
          }),
        },
      ];
    }
    case 'MAILGUN':
      return [
        {
          name: 'X-Mailgun-Variables',
          value: JSON.stringify({
            ...existingObject(headers, 'X-Mailgun-Variables'),
            [STAMP_NAME]: value,
          }),
        },
      ];
    case 'POSTMARK':
      return [{ name: `X-PM-Metadata-${STAMP_NAME}`, value }];
    case 'SES': {
      const own = headers.findLast((h) => h.name.toLowerCase() === 'x-ses-message-tags');
      const tags = [own?.value.trim(), `${STAMP_NAME}=${value}`].filter(Boolean).join(', ');
      const stamps = [{ name: 'X-SES-MESSAGE-TAGS', value: tags }];
      const hasSet = headers.some((h) => h.name.toLowerCase() === 'x-ses-configuration-set');
      if (options.sesConfigurationSet !== null && !hasSet) {
        stamps.push({ name: 'X-SES-CONFIGURATION-SET', value: options.sesConfigurationSet });
      }
      return stamps;
    }
    default:
      return [];
  }
}

/**
 * The stamps written in front of a message submitted over SMTP, which is otherwise sent as it
 * is (its own headers are not rewritten: one of the same name stays beside ours).
 */
export function stampRawMessage(raw: Uint8Array, stamps: readonly Header[]): Uint8Array {
  if (stamps.length === 0) return raw;
  const lines = stamps.map((h) => `${h.name}: ${h.value}\r\n`).join('');
  return Buffer.concat([Buffer.from(lines, 'utf8'), raw]);
}
