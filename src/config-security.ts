import { z } from 'zod';
import { wholeNumber } from './config-fields.ts';

/** Security options: who may call the API, secrets at rest, send limits and where SMTP may connect. */
export interface SecurityConfig {
  /**
   * SECRETS_KEY: base64 keys of 32 bytes, comma-separated. The first encrypts stored SMTP
   * passwords; every one decrypts (rotation: put the new key first, keep the old after it).
   * @default [] (passwords stored in cleartext, with a warning at start)
   */
  secretsKeys: string[];
  /** ALLOWED_ORIGINS: browser origins allowed to open WebSockets besides the service's own. @default null */
  allowedOrigins: string[] | null;
  /** SEND_RATE_LIMIT_PER_MINUTE: sendEmail/sendTestEmail per token per minute. @default null (no limit) */
  sendRateLimitPerMinute: number | null;
  /**
   * SEND_RATE_LIMIT_TOTAL_PER_MINUTE: the same over every token together, so that minting
   * tokens cannot multiply the per-token limit. @default SEND_RATE_LIMIT_PER_MINUTE
   */
  sendRateLimitTotalPerMinute: number | null;
  /**
   * TOKEN_CREATE_RATE_LIMIT_PER_HOUR: createApiToken calls per hour over the whole service.
   * @default 20
   */
  tokenCreateRateLimitPerHour: number;
  /** SENDER_DOMAIN_ALLOWLIST: domains fromAddress may use. @default null (any) */
  senderDomainAllowlist: string[] | null;
  /** SMTP_DISALLOW_PRIVATE_IPS: refuse SMTP hosts on loopback, private, link-local… addresses. @default false */
  smtpDisallowPrivateIps: boolean;
  /** SMTP_ALLOWED_PORTS: the only ports SMTP connections may use. @default null (any) */
  smtpAllowedPorts: number[] | null;
  /** WS_MAX_OPERATIONS_PER_CONNECTION: live graphql-ws operations one socket may run. @default 20 */
  wsMaxOperationsPerConnection: number;
  /**
   * WS_MAX_OPERATIONS_PER_TOKEN: live graphql-ws operations over all sockets of one token (all
   * anonymous callers count as one). A wall of dashboards sharing a read token needs one each.
   * @default 1000
   */
  wsMaxOperationsPerToken: number;
}

const list = z
  .string()
  .optional()
  .transform((value) =>
    value === undefined
      ? null
      : value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item.length > 0),
  );

const isKey = (item: string) =>
  /^[A-Za-z0-9+/_-]+={0,2}$/.test(item) && Buffer.from(item, 'base64').length === 32;

/** Merged into config.ts's environment schema. */
export const securityEnvShape = {
  SECRETS_KEY: list.refine((keys) => keys === null || (keys.length > 0 && keys.every(isKey)), {
    message: 'must be base64 keys of 32 bytes, comma-separated (e.g. `openssl rand -base64 32`)',
  }),
  ALLOWED_ORIGINS: list.refine(
    (origins) =>
      origins === null || origins.every((o) => o === '*' || /^https?:\/\/[^/\s]+$/.test(o)),
    { message: 'must be origins like https://dash.example.com, comma-separated, or *' },
  ),
  SEND_RATE_LIMIT_PER_MINUTE: wholeNumber(1, 1_000_000).optional(),
  SEND_RATE_LIMIT_TOTAL_PER_MINUTE: wholeNumber(1, 10_000_000).optional(),
  TOKEN_CREATE_RATE_LIMIT_PER_HOUR: wholeNumber(1, 1_000_000).default(20),
  SENDER_DOMAIN_ALLOWLIST: list.refine(
    (domains) => domains === null || domains.every((d) => /^[a-z0-9.-]+\.[a-z0-9-]+$/i.test(d)),
    { message: 'must be domain names, comma-separated' },
  ),
  SMTP_DISALLOW_PRIVATE_IPS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false'),
  SMTP_ALLOWED_PORTS: list.refine(
    (ports) => ports === null || ports.every((p) => /^\d+$/.test(p) && +p >= 1 && +p <= 65_535),
    { message: 'must be port numbers, comma-separated' },
  ),
  WS_MAX_OPERATIONS_PER_CONNECTION: wholeNumber(1, 10_000).default(20),
  WS_MAX_OPERATIONS_PER_TOKEN: wholeNumber(1, 1_000_000).default(1_000),
};

type SecurityEnv = z.infer<z.ZodObject<typeof securityEnvShape>>;

export function securityConfig(env: SecurityEnv): SecurityConfig {
  return {
    secretsKeys: env.SECRETS_KEY ?? [],
    allowedOrigins: env.ALLOWED_ORIGINS,
    sendRateLimitPerMinute: env.SEND_RATE_LIMIT_PER_MINUTE ?? null,
    // Unset follows the per-token limit: one that says "2 a minute" means 2 a minute, however
    // many tokens an admin (or a stolen admin token) creates. Raise it to let tokens send side
    // by side.
    sendRateLimitTotalPerMinute:
      env.SEND_RATE_LIMIT_TOTAL_PER_MINUTE ?? env.SEND_RATE_LIMIT_PER_MINUTE ?? null,
    tokenCreateRateLimitPerHour: env.TOKEN_CREATE_RATE_LIMIT_PER_HOUR,
    senderDomainAllowlist: env.SENDER_DOMAIN_ALLOWLIST?.map((d) => d.toLowerCase()) ?? null,
    smtpDisallowPrivateIps: env.SMTP_DISALLOW_PRIVATE_IPS === 'true',
    smtpAllowedPorts: env.SMTP_ALLOWED_PORTS?.map(Number) ?? null,
    wsMaxOperationsPerConnection: env.WS_MAX_OPERATIONS_PER_CONNECTION,
    wsMaxOperationsPerToken: env.WS_MAX_OPERATIONS_PER_TOKEN,
  };
}
