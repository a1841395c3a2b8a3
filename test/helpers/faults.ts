import type { TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { graphqlRequest } from './service.ts';
import type { ReceivedMail } from './smtp-server.ts';

// Shared by the fault-injection tests in test/faults/: driving a burst of sendEmail, reading
// what the SMTP server received, and reporting the figures the README's reliability table
// quotes.

/** The Message-ID header of a received message. */
export function messageIdOf(mail: ReceivedMail): string | null {
  return /^Message-ID:\s*(.+)$/im.exec(mail.raw)?.[1]?.trim() ?? null;
}

/** How many times each Message-ID reached the server. */
export function deliveryCounts(received: readonly ReceivedMail[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of received) {
    const id = messageIdOf(mail);
    if (id !== null) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

export interface FaultFigures {
  acknowledged: number;
  sent: number;
  lost: number;
  duplicated: number;
  recoverMs: number | null;
  [more: string]: number | string | null;
}

/** Acknowledged messages compared with what the server received. */
export function tally(
  acknowledged: readonly string[],
  received: readonly ReceivedMail[],
): { sent: number; lost: string[]; duplicated: number } {
  const counts = deliveryCounts(received);
  const lost = acknowledged.filter((id) => !counts.has(id));
  let duplicated = 0;
  for (const count of counts.values()) duplicated += count - 1;
  return { sent: acknowledged.length - lost.length, lost, duplicated };
}

/** Prints one line of figures for the README's table (visible with any test reporter). */
export function reportFigures(t: TestContext, fault: string, figures: FaultFigures): void {
  const line = `FAULT ${fault}: ${Object.entries(figures)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')}`;
  t.diagnostic(line);
}

/** Message counts by status, read straight from the SQLite file (the service may be dead). */
export function statusCounts(databasePath: string): Record<string, number> {
  const db = new Database(databasePath, { fileMustExist: true });
  try {
    const rows = db.prepare('select status, count(*) as n from messages group by status').all() as {
      status: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  } finally {
    db.close();
  }
}

export interface Burst {
  /** Message-IDs of the messages acknowledged so far, in the order acknowledged. */
  readonly acknowledged: string[];
  /** Requests that failed (cut off by a crash or shutdown): never acknowledged. */
  readonly failed: number;
  /** Failed requests by their GraphQL error code, or `network` when no answer came. */
  readonly failures: Readonly<Record<string, number>>;
  /** True once every lane has stopped. */
  readonly finished: boolean;
  /** Resolves once every lane has stopped. */
  done: Promise<void>;
  /** No new requests from now on; resolves once those under way have answered. */
  stop(): Promise<void>;
}

export interface BurstOptions {
  /** Messages to send; without it the burst goes on until stopped (or a request fails). */
  count?: number;
  /** Requests in flight at once. @default 16 */
  parallel?: number;
  prefix?: string;
  /** Sent as the bearer token. */
  token?: string;
  /**
   * Stop at the first failed request (the service went away), as a client of one service
   * would; false keeps sending, e.g. to the instances that are still up. @default true
   */
  stopOnFailure?: boolean;
}

/**
 * Sends messages through sendEmail over HTTP, `parallel` requests at a time, like a busy
 * application would. Given several service URLs, request `i` goes to `urls[i % n]`. Without a
 * count it goes on until stopped or (with stopOnFailure) until a request fails, so a crash or a
 * shutdown always lands mid-burst, however fast the machine is.
 */
export function startBurst(url: string | readonly string[], options: BurstOptions = {}): Burst {
  const { count = Infinity, parallel = 16, prefix = 'burst', token } = options;
  const stopOnFailure = options.stopOnFailure ?? true;
  const urls = typeof url === 'string' ? [url] : url;
  const acknowledged: string[] = [];
  const failures: Record<string, number> = {};
  let failed = 0;
  let next = 0;
  let lanes = parallel;
  let stopped = false;
  const fail = (reason: string) => {
    failed++;
    failures[reason] = (failures[reason] ?? 0) + 1;
  };
  const mutation = `mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id messageId } }`;
  async function lane(): Promise<void> {
    while (next < count && !stopped && !(stopOnFailure && failed > 0)) {
      const i = next++;
      try {
        const result = await graphqlRequest(
          `${urls[i % urls.length]}/graphql`,
          mutation,
          {
            input: { to: `${prefix}${i}@example.com`, subject: `${prefix} ${i}`, text: 'x' },
          },
          token,
        );
        if (result.data?.sendEmail) acknowledged.push(result.data.sendEmail.messageId);
        else fail(String(result.errors?.[0]?.extensions?.['code'] ?? 'no code'));
      } catch {
        fail('network');
      }
    }
    lanes--;
  }
  const done = Promise.all(Array.from({ length: parallel }, lane)).then(() => {});
  return {
    acknowledged,
    get failed() {
      return failed;
    },
    failures,
    get finished() {
      return lanes === 0;
    },
    done,
    stop() {
      stopped = true;
      return done;
    },
  };
}
