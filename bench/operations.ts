// Figures for the operations features: `npm run bench:ops [-- <messages>]`.
// Seeds a database with N sent messages (each with 3 events and a dispatch), then measures a
// /metrics render, an online backup, and retention pruning all of them in 500-message batches.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/sqlite/client.ts';
import { backupDatabase } from '../src/db/sqlite/backup.ts';
import { createMessageRepository } from '../src/db/sqlite/messages.ts';
import { openSqliteStorage } from '../src/db/sqlite/storage.ts';
import { createStatsRepository } from '../src/db/sqlite/stats.ts';
import { createMetrics } from '../src/ops/metrics.ts';
import { startRetentionJob } from '../src/ops/retention-job.ts';
import { createLogger } from '../src/logger.ts';

const total = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'mailscope-bench-ops-'));
const path = join(dir, 'ops.db');
const database = openDatabase(path);
const stats = createStatsRepository(database.db);
const messages = createMessageRepository(database.db, stats);
const t0 = Date.now() - 30 * 86_400_000;

const seedStarted = performance.now();
for (let done = 0; done < total; done += 1_000) {
  const n = Math.min(1_000, total - done);
  messages.enqueueMany(
    Array.from({ length: n }, (_, i) => ({
      recipient: `r${done + i}@example.com`,
      subject: 'bench',
      text: 'a short body, as most notifications are',
      html: null,
      headers: [],
      messageId: `<${done + i}@bench.example>`,
      maxAttempts: 5,
      idempotencyKey: null,
      requestHash: null,
      smtpConfigVersion: null,
    })),
    t0,
  );
  const claimed = messages.claimDue({
    nowMs: t0,
    leaseMs: 60_000,
    limit: n,
    smtpConfigVersion: null,
  });
  messages.recordAttempts(
    claimed.map(({ message }) => ({
      messageId: message.id,
      leaseExpiresAtMs: message.leaseExpiresAtMs!,
      attempt: 1,
      atMs: t0,
      durationMs: 12,
      smtpConfigVersion: null,
      response: '250 2.0.0 Ok: queued',
      error: null,
      transcript: null,
      next: { status: 'SENT' as const, reason: 'sent' as const },
    })),
  );
}
console.log(`seeded ${total} sent messages in ${Math.round(performance.now() - seedStarted)} ms`);

database.close();
// Measured through the storage port, as the service runs them.
const storage = openSqliteStorage({ dialect: 'sqlite', path }, { role: 'main', secrets: null });
// As the service runs it: with the feed, which keeps the counts by status (status-totals.ts).
const feed = await storage.startFeed({ publish: () => {} });
const metrics = createMetrics({
  messages: storage.messages,
  smtpConnections: () => 0,
  webhooksYielding: () => false,
  deliveryThreadRuntime: () => null,
  apiErrorCodes: [],
  log: { warn: () => {}, info: () => {} } as never,
});
// The first render after a start counts every message once; later ones keep that count.
const firstStarted = performance.now();
await metrics.render();
const firstMs = performance.now() - firstStarted;
const scrapes: number[] = [];
for (let i = 0; i < 20; i++) {
  const started = performance.now();
  await metrics.render();
  scrapes.push(performance.now() - started);
}
scrapes.sort((a, b) => a - b);
console.log(
  `/metrics render: first ${firstMs.toFixed(1)} ms, then median ${scrapes[10]!.toFixed(1)} ms over ${total} messages`,
);

const backup = await backupDatabase(path, join(dir, 'backup.db'));
console.log(
  `backup: ${backup.messages} messages, ${(backup.bytes / 1e6).toFixed(1)} MB in ${backup.durationMs} ms (with integrity_check)`,
);

const job = startRetentionJob({
  retention: storage.retention,
  options: { retentionDays: 7, maxMessages: null, intervalMs: 3_600_000 },
  log: createLogger({ level: 'silent', name: 'bench' }),
});
const pruneStarted = performance.now();
const pruned = await job.runOnce();
const pruneMs = performance.now() - pruneStarted;
console.log(
  `retention: pruned ${pruned} messages (and ${pruned * 3} events, ${pruned} dispatches) in ${Math.round(pruneMs)} ms = ${Math.round(pruned / (pruneMs / 1_000))} messages/s, ${((pruneMs / pruned) * 500).toFixed(1)} ms per 500-message transaction`,
);
await job.close();
metrics.close();
await feed.close();
await storage.close();
rmSync(dir, { recursive: true, force: true });
