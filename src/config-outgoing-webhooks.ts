import { z } from 'zod';
import { wholeNumber } from './config-fields.ts';

// Outgoing webhooks (CONTRACT.md "Outgoing webhooks").

/** Merged into config.ts's environment schema. */
export const outgoingWebhooksEnvShape = {
  WEBHOOK_RETRY_BASE_MS: wholeNumber(1, 86_400_000).default(5_000),
  WEBHOOK_ALLOW_PRIVATE_URLS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false'),
};

type OutgoingWebhooksEnv = {
  [K in keyof typeof outgoingWebhooksEnvShape]: z.output<(typeof outgoingWebhooksEnvShape)[K]>;
};

export function outgoingWebhooksConfig(env: OutgoingWebhooksEnv) {
  return {
    /**
     * WEBHOOK_RETRY_BASE_MS: the first retry's delay; every later one of the schedule (5 s,
     * 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) is scaled by the same factor. @default 5_000
     */
    retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
    /**
     * WEBHOOK_ALLOW_PRIVATE_URLS: endpoints may be on loopback, private and other internal
     * addresses. @default false
     */
    allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS === 'true',
  };
}

export type WebhooksConfig = ReturnType<typeof outgoingWebhooksConfig>;
