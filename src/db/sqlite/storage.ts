import { LOG_START, type EventPosition } from '../../domain/event-position.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import type { ChangeSignals, MessageStore, Storage, StorageChange } from '../port.ts';
import { eq, lt } from 'drizzle-orm';
import { createMemoryRates } from '../memory-rates.ts';
import { statusesOnly, type MessageListFilter } from '../message-filter.ts';
import { serviceKeys, webhookTokens } from './schema.ts';
import { createApiTokenRepository } from './api-tokens.ts';
import { setCheckpointRole } from './checkpoints.ts';
import { openDatabase } from './client.ts';
import { createDispatchRepository } from './dispatches.ts';
import { createOrderedPublisher } from './event-feed.ts';
import { createEventRepository } from './events.ts';
import { createCountThread } from './count-thread-host.ts';
import { createMessageCounts } from './message-counts.ts';
import { createStatusTotals } from './status-totals.ts';
import { createMessageRepository } from './messages.ts';
import { createRetentionRepository } from './retention.ts';
import { createSmtpConfigRepository } from './smtp-configs.ts';
import { createStatsRepository } from './stats.ts';
import { startSubjectIndexJob } from './subject-index-job.ts';
import { createSubjectSearchIndexer } from './subject-search.ts';
import { createWriteProbe } from './write-probe.ts';
import { createWalSync } from './wal-sync.ts';
import { createWriteTurns } from './write-turns.ts';
import { createWebhookRepository } from './webhooks.ts';

export interface SqliteStorageOptions {
  dialect: 'sqlite';
  path: string;
  /**
   * `'full'`: every commit is fsynced before it returns, so an acknowledged sendEmail survives
   * power loss. `'normal'`: commits survive a process crash only. @default 'full'
   */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another writer's lock before failing. @default 5_000 */
  busyTimeoutMs?: number;
  /**
   * Turns at the write lock shared by the threads of this process (write-turns.ts): each
   * thread's storage is opened with the same buffer.
   */
  writeTurns?: SharedArrayBuffer;
  /**
   * From how many stored messages counts by filter run in the count thread (count-thread.ts)
   * rather than on this thread. @default 10_000
   */
  countsOffThreadFrom?: number;
}

export interface OpenOptions {
  /**
   * `main` migrates and may run the feed and background jobs; `delivery` is the delivery
   * thread's own connection: opened after main has migrated, and never fsynced (nothing it
   * commits is a promise to a client; see delivery-thread.ts).
   */
  role: 'main' | 'delivery';
  secrets: SecretBox | null;
}

/**
 * The SQLite adapter: the tuned synchronous repositories of this folder behind the async port.
 * Every write transaction takes its turn at the write lock (write-turns.ts), so a thread that
 * finds the other one writing goes back to its event loop instead of sleeping in SQLite.
 */
export function openSqliteStorage(options: SqliteStorageOptions, open: OpenOptions): Storage {
  const delivery = open.role === 'delivery';
  // `full` on the main connection: commits are flushed off the thread (wal-sync.ts), and each
  // write answers once its commit is on disk.
  const walSync =
    !delivery && (options.synchronous ?? 'full') === 'full' && options.path !== ':memory:'
      ? createWalSync(options.path)
      : null;
  const database = openDatabase(options.path, {
    synchronous: delivery || walSync !== null ? 'normal' : (options.synchronous ?? 'full'),
    busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
    migrate: !delivery,
  });
  const { db } = database;
  // WAL checkpoints in the delivery thread, off the requests' path (checkpoints.ts).
  setCheckpointRole(db, open.role);
  const turns = createWriteTurns(options.writeTurns);
  /** Runs `work` (synchronous: one transaction) in this thread's turn at the write lock. */
  const whenTurn = <T>(work: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      turns.run(() => {
        try {
          resolve(work());
        } catch (error) {
          reject(error as Error);
        }
      });
    });
  /** A write transaction in its turn, resolved once it is durable. */
  const inTurn = <T>(work: () => T): Promise<T> =>
    walSync === null
      ? whenTurn(work)
      : whenTurn(work).then((result) => walSync.durable().then(() => result));
  // Reads: a resolved promise of what the statement returned (WAL readers never wait).
  const read = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  };

  const stats = createStatsRepository(db);
  const repository = createMessageRepository(db, stats);
  const counts = createMessageCounts(db);
  const totals = createStatusTotals({
    countAll: () => counts.countedAt(),
    changesAfter: (seq) => counts.changesAfter(seq),
  });
  const events = createEventRepository(db);
  const dispatches = createDispatchRepository(db);
  const configs = createSmtpConfigRepository(db, open.secrets);
  const tokens = createApiTokenRepository(db);
  const retention = createRetentionRepository(db);
  const probe = createWriteProbe(options.path);
  const webhooks = createWebhookRepository(db);

  // Counts by filter read the matching messages, or every message a filter may match (a word in
  // most subjects, a time range): up to 0.65 s at a million messages, and every request waited
  // that long. Past a few thousand messages they run in a thread of their own.
  const countThread =
    delivery || options.path === ':memory:' ? null : createCountThread(options.path);
  const offThreadFrom = options.countsOffThreadFrom ?? 10_000;
  // How many messages are stored is known cheaply only while the feed keeps the counts by status
  // (status-totals.ts); without it (a command-line tool) counting them would double the work.
  let feedRunning = false;
  const countFiltered = (filter: MessageListFilter): Promise<number> => {
    const inHere = () => read(() => repository.countMatching(filter));
    if (countThread === null || !feedRunning) return inHere();
    const stored = Object.values(totals.current()).reduce((sum, n) => sum + n, 0);
    if (stored < offThreadFrom) return inHere();
    // A thread that cannot count (it failed to start) must not take totalCount down with it.
    return countThread.count(filter).catch(inHere);
  };

  // One read transaction for all of them: SQLite checks the WAL once, and the pages the first
  // look-up reads stay cached for the rest. One statement each, the delivery thread's commits in
  // between dropped the connection's page cache before nearly every look-up.
  const findTogether = db.$client.transaction((ids: readonly number[]) =>
    ids.flatMap((id) => repository.find(id) ?? []),
  );
  const messages: MessageStore = {
    find: (id) => read(() => repository.find(id)),
    findMany: (ids) => read(() => findTogether(ids)),
    list: (filter, first, afterId) => read(() => repository.list(filter, first, afterId)),
    idsMatching: (filter, limit, afterId) =>
      read(() => repository.idsMatching(filter, limit, afterId)),
    countMatching: (filter) => {
      // The dashboard asks for totalCount with every page, mostly unfiltered or by status:
      // counting took 27-41 ms of the main thread at a million messages.
      const statuses = statusesOnly(filter);
      if (statuses !== null) {
        return read(() => {
          const now = totals.current();
          return statuses.reduce((sum, status) => sum + now[status], 0);
        });
      }
      return countFiltered(filter);
    },
    nextDueInMs: (nowMs) =>
      read(() => {
        const at = repository.nextDueAtMs();
        return at === null ? null : at - nowMs;
      }),
    queueSnapshot: () =>
      read(() => {
        const now = totals.current();
        return {
          queued: now.QUEUED,
          processing: now.PROCESSING,
          oldestQueuedAtMs: repository.oldestQueuedAtMs(),
        };
      }),
    countByStatus: () => read(() => totals.current()),
    enqueueMany: (inputs, nowMs) => inTurn(() => repository.enqueueMany(inputs, nowMs)),
    enqueueAll: (inputs, nowMs) => inTurn(() => repository.enqueueAll(inputs, nowMs)),
    recordAndClaim: (records, request) =>
      inTurn(() => {
        // In the same turn at the write lock: no configuration can be stored in between, so
        // the claims' events name the version the worker will send them with.
        const latest = request.limit > 0 ? configs.latestVersion() : null;
        const result = repository.recordAndClaim(
          records,
          latest === null ? request : { ...request, smtpConfigVersion: latest },
        );
        return { ...result, configVersion: result.claimed.length > 0 ? latest : null };
      }),
    release: (claims, nowMs, version) => inTurn(() => repository.release(claims, nowMs, version)),
    retry: (id, maxAttempts, nowMs, version) =>
      inTurn(() => repository.retry(id, maxAttempts, nowMs, version)),
    cancel: (id, nowMs, version) => inTurn(() => repository.cancel(id, nowMs, version)),
    retryMany: (ids, maxAttempts, nowMs, version) =>
      inTurn(() => repository.retryMany(ids, maxAttempts, nowMs, version)),
    cancelMany: (ids, nowMs, version) => inTurn(() => repository.cancelMany(ids, nowMs, version)),
    expediteFailedWith: (codes, nowMs) => inTurn(() => repository.expediteFailedWith(codes, nowMs)),
  };

  // One instance per database file: a change is news only to this process's listeners.
  const listeners = new Set<(change: StorageChange) => void>();
  const signals: ChangeSignals = {
    announce(change) {
      for (const listener of listeners) listener(change);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  const atSeq = (seq: number): EventPosition => (seq === 0 ? LOG_START : { xid: 0, seq });

  return {
    dialect: 'sqlite',
    concurrentWrites: 1,
    // A local commit, cheap per row and per statement: 20 ms moved end to end by nothing beyond
    // the noise in a pair of runs, and a longer window delays what the feed shows.
    recordWindowMs: 5,
    messages,
    events: {
      latest: () => read(() => atSeq(events.latestSeq())),
      prunedThrough: () => read(() => atSeq(events.prunedThroughSeq())),
      listAfter: (after, limit, filter) => read(() => events.listAfter(after.seq, limit, filter)),
      listForMessage: (messageId) => read(() => events.listForMessage(messageId)),
    },
    dispatches: {
      listForMessage: (messageId) => read(() => dispatches.listForMessage(messageId)),
    },
    smtpConfigs: {
      insert: (config) => inTurn(() => configs.insert(config)),
      latest: () => read(() => configs.latest()),
      list: () => read(() => configs.list()),
      encryptAtRest: () => inTurn(() => configs.encryptAtRest()),
      anyEncrypted: () => read(() => configs.anyEncrypted()),
    },
    apiTokens: {
      insert: (token) => inTurn(() => tokens.insert(token)),
      findActiveByHash: (hash) => read(() => tokens.findActiveByHash(hash)),
      find: (id) => read(() => tokens.find(id)),
      anyActive: () => read(() => tokens.anyActive()),
      anyStored: () => read(() => tokens.anyStored()),
      list: () => read(() => tokens.list()),
      revokeWithDescendants: (id, atMs) => inTurn(() => tokens.revokeWithDescendants(id, atMs)),
      touch: (id, atMs) => inTurn(() => tokens.touch(id, atMs)),
    },
    stats: {
      totals: (sinceMs, untilMs) => read(() => stats.totals(sinceMs, untilMs)),
    },
    retention: {
      capId: (keepNewest) => read(() => retention.capId(keepNewest)),
      pruneBatch: (request) =>
        inTurn(() => {
          const { deletedStatuses, ...pruned } = retention.pruneBatch(request);
          totals.deleted(deletedStatuses);
          return pruned;
        }),
      pruneUnmatchedReports: (olderThanMs) =>
        inTurn(() => retention.pruneUnmatchedReports(olderThanMs)),
      pruneWebhookDeliveries: (olderThanMs) =>
        inTurn(() => retention.pruneWebhookDeliveries(olderThanMs)),
    },
    // One instance per database file: its memory is where every request passes.
    rates: createMemoryRates(),
    reports: {
      record: (report, nowMs) => inTurn(() => repository.reports.record(report, nowMs)),
      listUnmatched: (first) => read(() => repository.reports.listUnmatched(first)),
    },
    keys: {
      getOrCreate: (name, candidate, nowMs) =>
        inTurn(() => {
          db.insert(serviceKeys)
            .values({ name, value: candidate, createdAt: nowMs })
            .onConflictDoNothing()
            .run();
          return db.select().from(serviceKeys).where(eq(serviceKeys.name, name)).get()!.value;
        }),
    },
    webhookTokens: {
      claim: (token, eventKey, nowMs, forgetBeforeMs) =>
        inTurn(() =>
          db.transaction(() => {
            db.delete(webhookTokens).where(lt(webhookTokens.seenAt, forgetBeforeMs)).run();
            const inserted = db
              .insert(webhookTokens)
              .values({ token, eventKey, seenAt: nowMs })
              .onConflictDoNothing()
              .run();
            if (inserted.changes > 0) return 'new' as const;
            const seen = db
              .select({ eventKey: webhookTokens.eventKey })
              .from(webhookTokens)
              .where(eq(webhookTokens.token, token))
              .get();
            return seen?.eventKey === eventKey ? ('same' as const) : ('reused' as const);
          }),
        ),
    },
    webhooks: {
      createEndpoint: (endpoint) => inTurn(() => webhooks.createEndpoint(endpoint)),
      listEndpoints: () => read(() => webhooks.listEndpoints()),
      findEndpoint: (id) => read(() => webhooks.findEndpoint(id)),
      updateEndpoint: (id, change) => inTurn(() => webhooks.updateEndpoint(id, change)),
      deleteEndpoint: (id) => inTurn(() => webhooks.deleteEndpoint(id)),
      rotateSecret: (id, secret, untilMs) =>
        inTurn(() => webhooks.rotateSecret(id, secret, untilMs)),
      resealSecrets: (id, from, to) => inTurn(() => webhooks.resealSecrets(id, from, to)),
      listDeliveries: (endpointId, first) => read(() => webhooks.listDeliveries(endpointId, first)),
      findDelivery: (id) => read(() => webhooks.findDelivery(id)),
      // Claims and attempt records wait for no WAL flush: none is a promise to a client, and one
      // lost to a power cut only means a webhook sent again (at least once) and a line missing
      // from the log. The outbox rows are written with the change that caused them.
      claimRow: (outboxId, nowMs, leaseMs) =>
        whenTurn(() => webhooks.claimRow(outboxId, nowMs, leaseMs)),
      enqueue: (rows, nowMs, dueNow) => inTurn(() => webhooks.enqueue(rows, nowMs, dueNow)),
      dueEndpoints: (nowMs) => read(() => webhooks.dueEndpoints(nowMs)),
      claim: (endpointId, limit, nowMs, leaseMs) =>
        whenTurn(() => webhooks.claim(endpointId, limit, nowMs, leaseMs)),
      recordAttempts: (records) => whenTurn(() => webhooks.recordAttempts(records)),
      recordAndClaim: (records, claims, nowMs, leaseMs) =>
        whenTurn(() => webhooks.recordAndClaim(records, claims, nowMs, leaseMs)),
      disableEndpoint: (id, reason, notice, nowMs) =>
        inTurn(() => webhooks.disableEndpoint(id, reason, notice, nowMs)),
    },
    suppressions: {
      find: (address) => read(() => repository.reports.find(address)),
      activeKeys: (addresses) => read(() => repository.reports.activeKeys(addresses)),
      list: (address, first, afterId) =>
        read(() => repository.reports.list(address, first, afterId)),
      add: (entry, actor, nowMs) => inTurn(() => repository.reports.add(entry, actor, nowMs)),
      remove: (address, actor, nowMs) =>
        inTurn(() => repository.reports.remove(address, actor, nowMs)),
    },
    signals,
    writeProblem: () => read(() => probe.problem()),
    async startFeed({ publish, beforePublish }) {
      const ordered = createOrderedPublisher((published) => {
        totals.observe(published);
        // Not awaited: the read is synchronous here, and what it primes is in place before the
        // subscribers ask (event-messages.ts).
        void beforePublish?.(published);
        publish(published);
      }, events);
      totals.follow();
      feedRunning = true;
      return { committed: ordered, close: async () => {} };
    },
    startBackgroundJobs(onError) {
      const subjectIndex = startSubjectIndexJob({
        indexer: createSubjectSearchIndexer(db),
        writeTurns: turns,
        onError: (error) => onError(error, 'subject search index'),
      });
      return {
        async close() {
          subjectIndex.close();
        },
      };
    },
    async close() {
      probe.close();
      await countThread?.close();
      // A write queued for its turn must not run on a closed connection: wait for the turn.
      await whenTurn(() => undefined);
      await walSync?.close();
      await whenTurn(() => database.close());
    },
  };
}
