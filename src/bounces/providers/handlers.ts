import type { WebhooksConfig } from '../../config-webhooks.ts';
import type { WebhookTokenStore } from '../../db/port.ts';
import type { ReportIntake } from '../../delivery/report-intake.ts';
import { createMailgunWebhook } from './mailgun.ts';
import { createPostmarkWebhook } from './postmark.ts';
import { createSendgridWebhook } from './sendgrid.ts';
import { createSesWebhook } from './ses.ts';
import { createSnsFetcher } from './sns.ts';
import type { WebhookHandler } from './webhook.ts';

/** The webhook of each provider whose key (or topics) is configured; the others stay off. */
export function createWebhookHandlers(
  config: WebhooksConfig,
  deps: {
    intake: ReportIntake;
    tokens: WebhookTokenStore;
    /** PEM CAs trusted for SNS certificates besides Node's roots. @default none */
    extraCaCertificates?: readonly string[];
  },
): Partial<Record<'sendgrid' | 'mailgun' | 'postmark' | 'ses', WebhookHandler>> {
  const { intake } = deps;
  return {
    ...(config.sendgridPublicKey !== null && {
      sendgrid: createSendgridWebhook({ publicKey: config.sendgridPublicKey, intake }),
    }),
    ...(config.mailgunSigningKey !== null && {
      mailgun: createMailgunWebhook({
        signingKey: config.mailgunSigningKey,
        tokens: deps.tokens,
        intake,
      }),
    }),
    ...(config.postmark !== null && {
      postmark: createPostmarkWebhook({ ...config.postmark, intake }),
    }),
    ...(config.sesTopicArns !== null && {
      ses: createSesWebhook({
        topicArns: config.sesTopicArns,
        certHosts: config.snsCertHosts,
        fetcher: createSnsFetcher(deps.extraCaCertificates),
        intake,
      }),
    }),
  };
}
