/**
 * Presets for well-known SMTP providers: where each one's SMTP service is and what its
 * credentials are. providers.ts builds connection URIs from them; secret-username.ts reads which
 * user names are credentials themselves.
 */
import type { SmtpSecurity } from './endpoint.ts';

export interface SmtpProviderPreset {
  /** Stable and GraphQL-enum friendly, e.g. `MAILGUN_EU`. */
  id: string;
  /** Display name, e.g. "Mailgun (EU)". */
  name: string;
  /** Null for GENERIC: the user supplies the host. */
  host: string | null;
  /** Default port; `buildProviderUri` takes an override. */
  port: number;
  /** Security at the default port. */
  security: Exclude<SmtpSecurity, 'cleartext'>;
  /** What to enter as the user name, for a person. */
  usernameRule: string;
  /** The only accepted user name, filled in when omitted (SendGrid's "apikey"); else null. */
  fixedUsername: string | null;
  /**
   * The user name is a credential itself (Postmark's server token): it is shown as "***"
   * wherever a URI is shown, as the password is.
   */
  usernameIsSecret: boolean;
  /** What to enter as the password, for a person. */
  passwordRule: string;
  /** Where to get the credentials and the usual gotchas, in words (no URLs). */
  documentationNote: string;
}

const SES_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-central-1',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
] as const;

const sesId = (region: string) => `AMAZON_SES_${region.toUpperCase().replaceAll('-', '_')}`;

const PRESETS: SmtpProviderPreset[] = [
  {
    id: 'SENDGRID',
    name: 'SendGrid',
    host: 'smtp.sendgrid.net',
    port: 587,
    security: 'starttls',
    usernameRule: 'the literal user name "apikey" (filled in when left empty)',
    fixedUsername: 'apikey',
    usernameIsSecret: false,
    passwordRule: 'a SendGrid API key (it starts with "SG.") with the Mail Send permission',
    documentationNote:
      'Create an API key under Settings, API Keys in the SendGrid console; it is shown only once. ' +
      'SendGrid refuses mail until the From address is a verified sender identity (a verified ' +
      'single sender or an authenticated domain). For delivery events, point the Event Webhook ' +
      '(Settings, Mail Settings) at /webhooks/sendgrid on this service, turn on its signature ' +
      'verification and set SENDGRID_WEBHOOK_PUBLIC_KEY to the verification key it shows.',
  },
  ...(['US', 'EU'] as const).map((region): SmtpProviderPreset => ({
    id: `MAILGUN_${region}`,
    name: `Mailgun (${region})`,
    host: region === 'US' ? 'smtp.mailgun.org' : 'smtp.eu.mailgun.org',
    port: 587,
    security: 'starttls',
    usernameRule: 'the full SMTP login, e.g. postmaster@mg.example.com',
    fixedUsername: null,
    usernameIsSecret: false,
    passwordRule: 'the password of that SMTP login (not your Mailgun API key)',
    documentationNote:
      "Find or create SMTP credentials in the Mailgun console, in your sending domain's " +
      'settings. A domain lives in one region: choose Mailgun (EU) for a domain created in ' +
      'the EU region and Mailgun (US) otherwise; the other host rejects its credentials. For ' +
      'delivery events, add webhooks (delivered, permanent and temporary failure, spam ' +
      'complaint) pointing at /webhooks/mailgun on this service and set ' +
      'MAILGUN_WEBHOOK_SIGNING_KEY to the HTTP webhook signing key.',
  })),
  ...SES_REGIONS.map((region): SmtpProviderPreset => ({
    id: sesId(region),
    name: `Amazon SES (${region})`,
    host: `email-smtp.${region}.amazonaws.com`,
    port: 587,
    security: 'starttls',
    usernameRule:
      'the SMTP user name of an SES SMTP credential (not the access key ID of your own IAM user)',
    fixedUsername: null,
    usernameIsSecret: false,
    passwordRule:
      'the SMTP password shown once when the SMTP credential was created (not an IAM secret access key)',
    documentationNote:
      'Create SMTP credentials in the Amazon SES console under SMTP settings; they belong to ' +
      'one region, so pick the preset of the region where your identities are verified. New ' +
      'accounts are in the sandbox and only send to verified addresses and domains until ' +
      'production access is granted. For delivery events, publish them from a configuration ' +
      'set (SES_CONFIGURATION_SET) or the identity to an SNS topic, subscribe ' +
      '/webhooks/ses on this service (HTTPS) to it and list the topic in SES_SNS_TOPIC_ARNS; ' +
      'the subscription is confirmed by itself.',
  })),
  {
    id: 'POSTMARK',
    name: 'Postmark',
    host: 'smtp.postmarkapp.com',
    port: 587,
    security: 'starttls',
    usernameRule:
      'your Server API token (used as both user name and password; filled in from the password when left empty)',
    fixedUsername: null,
    usernameIsSecret: true,
    passwordRule: 'your Server API token',
    documentationNote:
      'Copy the Server API token from the API Tokens tab of your server in Postmark. Postmark ' +
      'only accepts mail from a verified sender signature or a verified domain. For delivery ' +
      'events, add a webhook (Delivery, Bounce, Spam Complaint) pointing at /webhooks/postmark ' +
      'on this service with basic-auth credentials, the same as POSTMARK_WEBHOOK_USER and ' +
      'POSTMARK_WEBHOOK_PASSWORD.',
  },
  {
    id: 'GENERIC',
    name: 'Other SMTP server',
    host: null,
    port: 587,
    security: 'starttls',
    usernameRule: 'the SMTP user name your provider or mail server gives you',
    fixedUsername: null,
    usernameIsSecret: false,
    passwordRule: 'the SMTP password your provider or mail server gives you',
    documentationNote:
      'Port 587 uses STARTTLS and port 465 uses TLS from the first byte; any other port uses ' +
      'STARTTLS. Port 25 is blocked for outgoing mail on most cloud providers, so prefer 587.',
  },
];

export const SMTP_PROVIDERS: readonly SmtpProviderPreset[] = Object.freeze(
  PRESETS.map((preset) => Object.freeze(preset)),
);

export const PROVIDERS_BY_ID = new Map(SMTP_PROVIDERS.map((preset) => [preset.id, preset]));

/** Ports that speak TLS from the first byte; every other port uses STARTTLS. */
export const IMPLICIT_TLS_PORTS = new Map<string, readonly number[]>(
  SES_REGIONS.map((region) => [sesId(region), [465, 2465]]),
);
export const DEFAULT_IMPLICIT_TLS_PORTS = [465];

export function getSmtpProvider(id: string): SmtpProviderPreset | undefined {
  return PROVIDERS_BY_ID.get(id);
}

/**
 * The preset in use for mail sent through `host`: the one the configuration was made with
 * (`madeWith`; GENERIC pointed at a provider's host stays generic, as chosen), else the one whose
 * host it is; null for neither.
 */
export function presetInUse(host: string, madeWith: string | null): string | null {
  if (madeWith !== null) return madeWith;
  const lower = host.toLowerCase().replace(/\.$/, '');
  return SMTP_PROVIDERS.find((preset) => preset.host === lower)?.id ?? null;
}
