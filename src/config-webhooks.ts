import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { optionalText } from './config-fields.ts';

// Provider event webhooks (/webhooks/<provider>) and the correlation stamps sent with each
// message so that the provider echoes our id back. Each endpoint is on only when its key is set.

const TOPIC_ARN =
  /^arn:aws(?:-cn|-us-gov)?:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const HOST_PORT =
  /^(?=.{1,253}(?::|$))[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/i;

/** A comma-separated list, each entry checked by `valid`; `what` says what an entry should be. */
const commaList = (valid: (entry: string) => boolean, what: string) =>
  optionalText.transform((value, ctx) => {
    if (value === null) return null;
    const entries = value.split(',').map((entry) => entry.trim());
    const bad = entries.filter((entry) => !valid(entry));
    if (bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${bad.map((entry) => `"${entry}"`).join(', ')} is not ${what}`,
      });
      return z.NEVER;
    }
    return entries;
  });

/** Merged into config.ts's environment schema. */
export const webhooksEnvShape = {
  // The key SendGrid shows (base64 of an ECDSA P-256 public key, DER SubjectPublicKeyInfo).
  SENDGRID_WEBHOOK_PUBLIC_KEY: optionalText.transform((value, ctx) => {
    if (value === null) return null;
    try {
      const key = createPublicKey({
        key: Buffer.from(value, 'base64'),
        format: 'der',
        type: 'spki',
      });
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
        return value;
      }
    } catch {
      // reported below
    }
    ctx.addIssue({
      code: 'custom',
      message:
        'must be the base64 ECDSA P-256 public key SendGrid shows for the signed event webhook',
    });
    return z.NEVER;
  }),
  // Never echoed: it is a secret.
  MAILGUN_WEBHOOK_SIGNING_KEY: optionalText,
  POSTMARK_WEBHOOK_USER: optionalText.pipe(
    z
      .string()
      .regex(/^[^:\r\n]*$/, 'must not contain ":" or line breaks')
      .nullable(),
  ),
  POSTMARK_WEBHOOK_PASSWORD: optionalText,
  SES_SNS_TOPIC_ARNS: commaList(
    (entry) => TOPIC_ARN.test(entry),
    'an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:ses-events',
  ),
  SNS_CERT_HOSTS: commaList(
    (entry) => HOST_PORT.test(entry) && Number(entry.split(':')[1] ?? 443) <= 65_535,
    'a host name with an optional port, like sns.example.com:8443',
  ),
  SES_CONFIGURATION_SET: optionalText.pipe(
    z
      .string()
      .regex(
        /^[A-Za-z0-9_-]{1,64}$/,
        'must be an SES configuration set name (letters, digits, _ and -)',
      )
      .nullable(),
  ),
};

type WebhooksEnv = {
  [K in keyof typeof webhooksEnvShape]: z.output<(typeof webhooksEnvShape)[K]>;
};

/** What the webhook variables need of each other, from the raw values. */
export function webhooksProblems(present: Record<string, string | undefined>): string[] {
  const user = present['POSTMARK_WEBHOOK_USER'];
  const password = present['POSTMARK_WEBHOOK_PASSWORD'];
  if ((user === undefined) === (password === undefined)) return [];
  return [
    user === undefined
      ? 'POSTMARK_WEBHOOK_USER: must be set together with POSTMARK_WEBHOOK_PASSWORD'
      : 'POSTMARK_WEBHOOK_PASSWORD: must be set together with POSTMARK_WEBHOOK_USER',
  ];
}

/** The webhook options from their variables (already parsed by `webhooksEnvShape`). */
export function webhooksConfig(env: WebhooksEnv) {
  return {
    /** SENDGRID_WEBHOOK_PUBLIC_KEY: base64 DER key; null: /webhooks/sendgrid answers 404. @default null */
    sendgridPublicKey: env.SENDGRID_WEBHOOK_PUBLIC_KEY,
    /** MAILGUN_WEBHOOK_SIGNING_KEY; null: /webhooks/mailgun answers 404. @default null */
    mailgunSigningKey: env.MAILGUN_WEBHOOK_SIGNING_KEY,
    /** POSTMARK_WEBHOOK_USER / _PASSWORD (basic auth); null: /webhooks/postmark answers 404. @default null */
    postmark:
      env.POSTMARK_WEBHOOK_USER !== null && env.POSTMARK_WEBHOOK_PASSWORD !== null
        ? { user: env.POSTMARK_WEBHOOK_USER, password: env.POSTMARK_WEBHOOK_PASSWORD }
        : null,
    /** SES_SNS_TOPIC_ARNS: the topics /webhooks/ses accepts; null: it answers 404. @default null */
    sesTopicArns: env.SES_SNS_TOPIC_ARNS,
    /**
     * SNS_CERT_HOSTS: `host[:port]` entries SNS certificates and SubscribeURLs may come from
     * instead of `sns.<region>.amazonaws.com[.cn]`. @default null (Amazon's hosts only)
     */
    snsCertHosts: env.SNS_CERT_HOSTS?.map((entry) => entry.toLowerCase()) ?? null,
    /** SES_CONFIGURATION_SET: sent as X-SES-CONFIGURATION-SET with mail through SES. @default null */
    sesConfigurationSet: env.SES_CONFIGURATION_SET,
  };
}

export type WebhooksConfig = ReturnType<typeof webhooksConfig>;
