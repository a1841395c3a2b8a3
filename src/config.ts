import { isIP } from 'node:net';
import { z } from 'zod';
import { optionalBearerToken, optionalText, wholeNumber } from './config-fields.ts';
import { securityConfig, securityEnvShape } from './config-security.ts';
import { storageConfig, storageEnvShape } from './config-storage.ts';
import { submissionConfig, submissionEnvShape, submissionProblems } from './config-submission.ts';
import { webhooksConfig, webhooksEnvShape, webhooksProblems } from './config-webhooks.ts';
import { outgoingWebhooksConfig, outgoingWebhooksEnvShape } from './config-outgoing-webhooks.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Parses DNS_SERVERS: comma-separated "host:port" (the port may be left out for 53; IPv6 as
 * "[::1]:53"). Returns the servers or the problem.
 */
function parseDnsServers(text: string): { servers: string[] } | { problem: string } {
  const servers: string[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    if (part === '') return { problem: 'has an empty entry' };
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(part);
    const host = match?.[1] ?? match?.[2];
    const port = match?.[3] === undefined ? 53 : Number(match[3]);
    if (!match || host === undefined || isIP(host) === 0) {
      return { problem: `"${part}" is not an IP address with an optional port, e.g. 127.0.0.1:53` };
    }
    if (port < 1 || port > 65_535) return { problem: `"${part}" has a port out of range` };
    servers.push(isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`);
  }
  return { servers };
}

const envSchema = z.object({
  PORT: wholeNumber(0, 65_535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  ...storageEnvShape,
  SMTP_CONNECTION_URI: optionalText,
  SMTP_FROM_ADDRESS: z
    .string()
    .regex(/^[^\s@<>]+@[^\s@<>]+$/, 'must be an email address like no-reply@example.com')
    .default('no-reply@mailscope.localhost'),
  SMTP_FROM_NAME: optionalText.pipe(
    z
      .string()
      .regex(/^[^\r\n]*$/, 'must not contain line breaks')
      .nullable(),
  ),
  EMBEDDED_SMTP_PORT: z
    .union([z.literal('off'), wholeNumber(0, 65_535)], {
      error: 'must be a port number (0-65535) or "off"',
    })
    .default(1025),
  API_TOKEN: optionalBearerToken,
  DELIVERY_MAX_ATTEMPTS: wholeNumber(1, 1_000).default(5),
  DELIVERY_RETRY_BASE_MS: wholeNumber(1, 86_400_000).default(5_000),
  DELIVERY_RETRY_MAX_MS: wholeNumber(1, 604_800_000).default(3_600_000),
  DELIVERY_LEASE_MS: wholeNumber(100, 86_400_000).default(120_000),
  SMTP_TIMEOUT_MS: wholeNumber(100, 600_000).default(30_000),
  // A message holds its slot from the claim until its result is committed, which waits for the
  // worker's next batch; with 64 the five default connections ran short of queued work between
  // batches at full speed, and 128 measured better end to end (bench/README.md).
  DELIVERY_CONCURRENCY: wholeNumber(1, 1_000).default(128),
  SMTP_MAX_CONNECTIONS: wholeNumber(1, 100).default(5),
  DELIVERY_TRANSCRIPTS: z
    .enum(['failures', 'all', 'off'], { error: 'must be failures, all or off' })
    .default('failures'),
  NODE_ENV: z.string().optional(),
  ...securityEnvShape,
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info'),
  RETENTION_DAYS: wholeNumber(1, 36_500).optional(),
  RETENTION_MAX_MESSAGES: wholeNumber(1, 1_000_000_000).optional(),
  RETENTION_INTERVAL_MS: wholeNumber(1_000, 86_400_000).default(60_000),
  METRICS_TOKEN: optionalBearerToken,
  ...submissionEnvShape,
  ...outgoingWebhooksEnvShape,
  DNS_SERVERS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return null;
      const parsed = parseDnsServers(value);
      if ('servers' in parsed) return parsed.servers;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }),
  DNS_TIMEOUT_MS: wholeNumber(100, 60_000).default(5_000),
  BOUNCE_DOMAIN: optionalText.pipe(
    z
      .string()
      .regex(
        /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^[a-z0-9-]+\.localhost$/i,
        'must be a domain name like bounces.example.com',
      )
      .nullable(),
  ),
  BOUNCE_SMTP_PORT: z
    .union([z.literal('off'), wholeNumber(0, 65_535)], {
      error: 'must be a port number (0-65535) or "off"',
    })
    .default('off'),
  BOUNCE_SMTP_HOST: optionalText,
  BOUNCE_SMTP_MAX_BYTES: wholeNumber(1_024, 104_857_600).default(10_485_760),
  ...webhooksEnvShape,
});

/**
 * The service's configuration, read once from the environment at start: its type is what this
 * makes of the parsed variables, so the schema above is the one description of both. Every bad
 * variable is reported at once (`loadConfig` returns them all) so an operator fixes them in one go.
 */
function configFrom(env: z.output<typeof envSchema>) {
  return {
    /** PORT. @default 4000 */
    port: env.PORT,
    /** HOST. @default '127.0.0.1' */
    host: env.HOST,
    /** Where the data lives (config-storage.ts). */
    storage: storageConfig(env),
    /** SMTP_CONNECTION_URI: initial SMTP configuration, used only while none is stored. @default null */
    smtpConnectionUri: env.SMTP_CONNECTION_URI,
    /** SMTP_FROM_ADDRESS. @default 'no-reply@mailscope.localhost' */
    smtpFromAddress: env.SMTP_FROM_ADDRESS,
    /** SMTP_FROM_NAME. @default null */
    smtpFromName: env.SMTP_FROM_NAME,
    /** EMBEDDED_SMTP_PORT: the embedded development SMTP server's port; null when `off`. @default 1025 */
    embeddedSmtpPort: env.EMBEDDED_SMTP_PORT === 'off' ? null : env.EMBEDDED_SMTP_PORT,
    /** API_TOKEN: bearer token required on every GraphQL request when set. @default null */
    apiToken: env.API_TOKEN,
    /** DELIVERY_MAX_ATTEMPTS. @default 5 */
    deliveryMaxAttempts: env.DELIVERY_MAX_ATTEMPTS,
    /** DELIVERY_RETRY_BASE_MS: the first retry's delay; later ones double, ±20% jitter. @default 5_000 */
    deliveryRetryBaseMs: env.DELIVERY_RETRY_BASE_MS,
    /** DELIVERY_RETRY_MAX_MS: the longest delay between retries. @default 3_600_000 (1 hour) */
    deliveryRetryMaxMs: env.DELIVERY_RETRY_MAX_MS,
    /** DELIVERY_LEASE_MS: how long a claimed message may stay PROCESSING unrenewed. @default 120_000 */
    deliveryLeaseMs: env.DELIVERY_LEASE_MS,
    /** SMTP_TIMEOUT_MS: per-step SMTP timeout (connect, greeting, each reply). @default 30_000 */
    smtpTimeoutMs: env.SMTP_TIMEOUT_MS,
    /** DELIVERY_CONCURRENCY: messages sent at once; also bounds a claim batch. @default 128 */
    deliveryConcurrency: env.DELIVERY_CONCURRENCY,
    /** SMTP_MAX_CONNECTIONS: SMTP connections per configuration. @default 5 */
    smtpMaxConnections: env.SMTP_MAX_CONNECTIONS,
    /** DELIVERY_TRANSCRIPTS: which attempts keep their SMTP transcript. @default 'failures' */
    deliveryTranscripts: env.DELIVERY_TRANSCRIPTS,
    /**
     * Introspection, stack traces and field suggestions off, internal error details hidden. Only
     * NODE_ENV=development turns this off: a plain `npm start` must not hand out the schema and
     * stack traces. @default true
     */
    production: env.NODE_ENV !== 'development',
    /** Tokens, secrets at rest, sending and connection guards (config-security.ts). */
    security: securityConfig(env),
    /** LOG_LEVEL: pino level of the JSON log lines on stdout, in both threads. @default 'info' */
    logLevel: env.LOG_LEVEL,
    /** RETENTION_DAYS: finished messages older than this are pruned; null keeps them. @default null */
    retentionDays: env.RETENTION_DAYS ?? null,
    /** RETENTION_MAX_MESSAGES: at most this many messages are kept; null: no cap. @default null */
    retentionMaxMessages: env.RETENTION_MAX_MESSAGES ?? null,
    /** RETENTION_INTERVAL_MS: how often the retention job runs. @default 60_000 */
    retentionIntervalMs: env.RETENTION_INTERVAL_MS,
    /**
     * METRICS_TOKEN: bearer token /metrics requires when set; unset leaves /metrics open, which
     * only a loopback HOST may do. @default null
     */
    metricsToken: env.METRICS_TOKEN,
    /** The SMTP submission listener (config-submission.ts). */
    submission: submissionConfig(env, env.HOST),
    /** Outgoing webhooks (config-outgoing-webhooks.ts). */
    outgoingWebhooks: outgoingWebhooksConfig(env),
    /**
     * DNS_SERVERS: the resolvers ("host:port", comma-separated) every DNS look-up of the service
     * goes to; null for the system's. @default null
     */
    dnsServers: env.DNS_SERVERS,
    /**
     * DNS_TIMEOUT_MS: how long one DNS query may take (one try) before it counts as TEMPFAIL, or,
     * for a host name looked up through DNS_SERVERS, as a temporary DNS failure. @default 5_000
     */
    dnsTimeoutMs: env.DNS_TIMEOUT_MS,
    /**
     * Our own bounce intake. `domain` (BOUNCE_DOMAIN): every message goes out with the envelope
     * sender `bounces+<token>@domain`, the token an HMAC that names the message. `port`
     * (BOUNCE_SMTP_PORT, null when `off`), `host` (BOUNCE_SMTP_HOST, @default HOST) and
     * `maxBytes` (BOUNCE_SMTP_MAX_BYTES, @default 10_485_760): the listener reading the
     * reports sent there. @default null domain, listener off
     */
    bounce: {
      domain: env.BOUNCE_DOMAIN === null ? null : env.BOUNCE_DOMAIN.toLowerCase(),
      port: env.BOUNCE_SMTP_PORT === 'off' ? null : env.BOUNCE_SMTP_PORT,
      host: env.BOUNCE_SMTP_HOST ?? env.HOST,
      maxBytes: env.BOUNCE_SMTP_MAX_BYTES,
    },
    /** Provider event webhooks and correlation stamps (config-webhooks.ts). */
    webhooks: webhooksConfig(env),
  };
}

export type Config = Readonly<ReturnType<typeof configFrom>>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Loopback hosts may serve without a token: nothing off this machine can reach them. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

export interface ConfigChecks {
  /** Returns the problem with an SMTP connection URI, or null. Never repeats the password. */
  smtpUriProblem(uri: string): string | null;
  /**
   * Returns why an address is not one the API would accept (input-rules.ts), or null; applied to
   * SMTP_FROM_ADDRESS. Without it only the variable's shape is checked.
   */
  addressProblem?(address: string): string | null;
}

/**
 * What a non-loopback HOST needs: every endpoint that is not open by design has a token. Read
 * from the raw values, so these are reported even when another variable fails to parse.
 */
function networkProblems(present: Record<string, string | undefined>): string[] {
  const host = present['HOST'] ?? '127.0.0.1';
  if (isLoopbackHost(host)) return [];
  const problems: string[] = [];
  if (present['API_TOKEN'] === undefined) {
    problems.push(
      `HOST: "${host}" is not a loopback address; set API_TOKEN before listening on a network`,
    );
  }
  // Queue depth, error rates and traffic are not for the network at large either.
  if (present['METRICS_TOKEN'] === undefined) {
    problems.push(
      `METRICS_TOKEN: HOST "${host}" is not a loopback address, so /metrics would be open to the network; set METRICS_TOKEN (Prometheus sends it as a bearer token)`,
    );
  }
  return problems;
}

/**
 * The checks between two variables, made on those that are valid by themselves, so that they are
 * reported together with every single-variable problem rather than once those are fixed.
 */
function crossVariableProblems(present: Record<string, string | undefined>): string[] {
  // (HOST's needs are networkProblems'.)
  const problems: string[] = [];
  const base = envSchema.shape.DELIVERY_RETRY_BASE_MS.safeParse(present['DELIVERY_RETRY_BASE_MS']);
  const max = envSchema.shape.DELIVERY_RETRY_MAX_MS.safeParse(present['DELIVERY_RETRY_MAX_MS']);
  if (base.success && max.success && max.data < base.data) {
    problems.push('DELIVERY_RETRY_MAX_MS: must not be smaller than DELIVERY_RETRY_BASE_MS');
  }
  problems.push(...submissionProblems(present), ...webhooksProblems(present));
  const bouncePort = present['BOUNCE_SMTP_PORT'];
  if (bouncePort !== undefined && bouncePort !== 'off' && present['BOUNCE_DOMAIN'] === undefined) {
    problems.push(
      'BOUNCE_SMTP_PORT: the bounce listener accepts mail for BOUNCE_DOMAIN only; set BOUNCE_DOMAIN too',
    );
  }
  return problems;
}

export function loadConfig(env: NodeJS.ProcessEnv, checks: ConfigChecks): ConfigResult {
  // Empty values count as unset, as the contract says for API_TOKEN; the same rule everywhere
  // keeps `FOO= npm start` from being a surprise.
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in envSchema.shape && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      // Never echo values: SMTP_CONNECTION_URI and API_TOKEN carry secrets.
      return `${name}: ${issue.message}`;
    });
    // The URI and the network rules are checked here too, so one start reports every problem.
    const uri = present['SMTP_CONNECTION_URI'];
    const uriProblem = uri === undefined ? null : checks.smtpUriProblem(uri);
    if (uriProblem !== null) problems.push(`SMTP_CONNECTION_URI: ${uriProblem}`);
    problems.push(...networkProblems(present), ...crossVariableProblems(present));
    return { ok: false, problems };
  }
  const env_ = parsed.data;
  const problems: string[] = [];
  const uriProblem =
    env_.SMTP_CONNECTION_URI === null ? null : checks.smtpUriProblem(env_.SMTP_CONNECTION_URI);
  if (uriProblem !== null) problems.push(`SMTP_CONNECTION_URI: ${uriProblem}`);
  const fromProblem = checks.addressProblem?.(env_.SMTP_FROM_ADDRESS) ?? null;
  if (fromProblem !== null) problems.push(`SMTP_FROM_ADDRESS: ${fromProblem}`);
  problems.push(...networkProblems(present), ...crossVariableProblems(present));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: Object.freeze(configFrom(env_)) };
}
