import { stringOption, UsageError, type Command } from './command.ts';
import { request, SERVICE_USAGE, serviceOptions, serviceTarget } from './graphql-client.ts';

const STATS = `query ($since: String) {
  deliveryStats(since: $since) {
    since until queued sent abandoned cancelled attempts failedAttempts
    failuresByCode { code count }
    failuresByDomain { domain count }
    timeToSent { count p50Ms p95Ms p99Ms }
    queueDepth processing oldestQueuedAgeMs
  }
}`;

const UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90m", "24h", "7d" or an ISO time, to the ISO time the API takes. */
export function sinceToIso(since: string, nowMs = Date.now()): string {
  const relative = /^(\d+)([smhd])$/.exec(since);
  if (relative)
    return new Date(nowMs - Number(relative[1]) * UNITS_MS[relative[2]!]!).toISOString();
  if (Number.isNaN(Date.parse(since))) {
    throw new UsageError('--since takes a duration like 30m, 24h or 7d, or an ISO 8601 time');
  }
  return since;
}

interface Stats {
  since: string;
  until: string;
  queued: number;
  sent: number;
  abandoned: number;
  cancelled: number;
  attempts: number;
  failedAttempts: number;
  failuresByCode: { code: string; count: number }[];
  failuresByDomain: { domain: string; count: number }[];
  timeToSent: { count: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null };
  queueDepth: number;
  processing: number;
  oldestQueuedAgeMs: number | null;
}

export const stats: Command = {
  name: 'stats',
  summary:
    'delivery statistics (deliveryStats): outcomes, failures by code and domain, latency, queue',
  usage: `stats [--since <30m|24h|7d|ISO time>] [--json] ${SERVICE_USAGE}`,
  options: { ...serviceOptions, since: { type: 'string' }, json: { type: 'boolean' } },
  async run(args, io) {
    const since = stringOption(args, 'since');
    const data = await request<{ deliveryStats: Stats }>(serviceTarget(args, io), STATS, {
      since: since === undefined ? null : sinceToIso(since),
    });
    const s = data.deliveryStats;
    if (args.values['json']) {
      io.stdout.write(`${JSON.stringify(s)}\n`);
      return 0;
    }
    const ms = (value: number | null) => (value === null ? '-' : `${value} ms`);
    const lines = [
      `from ${s.since} to ${s.until}`,
      `queued ${s.queued}  sent ${s.sent}  abandoned ${s.abandoned}  cancelled ${s.cancelled}`,
      `attempts ${s.attempts}  failed ${s.failedAttempts}`,
      `time to sent: p50 ${ms(s.timeToSent.p50Ms)}  p95 ${ms(s.timeToSent.p95Ms)}  p99 ${ms(s.timeToSent.p99Ms)}`,
      `queue now: ${s.queueDepth} queued, ${s.processing} processing, oldest ${ms(s.oldestQueuedAgeMs)}`,
    ];
    if (s.failuresByCode.length > 0) {
      lines.push(
        `failures by code: ${s.failuresByCode.map((f) => `${f.code} ${f.count}`).join(', ')}`,
      );
    }
    if (s.failuresByDomain.length > 0) {
      lines.push(
        `failures by domain: ${s.failuresByDomain.map((f) => `${f.domain} ${f.count}`).join(', ')}`,
      );
    }
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
