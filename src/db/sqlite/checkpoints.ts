import { sql } from 'drizzle-orm';
import type { Db } from './client.ts';

/**
 * Which connection runs the WAL checkpoints: the delivery thread's, not the main thread's.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past
 * `wal_autocheckpoint` pages (1,000 by default, about every 35 messages here): it copies the
 * pages to the database file and fsyncs it, milliseconds during which the committing thread is
 * blocked. When that thread was the main one, it parsed no request and answered no client
 * meanwhile. The delivery thread's connection now checkpoints at the default size, and the
 * main connection's checkpoint is only a backstop, for a WAL that nothing else checkpoints (a
 * process without a delivery thread, a CLI command, or a delivery thread that is stuck).
 *
 * A checkpoint needs no commit of this process in between to let the next writer start the WAL
 * over (a checkpoint on a timer, outside the turns at the write lock, was tried: the main
 * thread's commits kept landing during it and the WAL grew to the backstop). Inside the
 * delivery thread's commit it holds that thread's turn, so the main thread's next commit waits
 * in its queue, while its event loop goes on serving requests.
 */

/** Pages in the WAL before the delivery thread's connection checkpoints: SQLite's default. */
const DELIVERY_CHECKPOINT_PAGES = 1_000;

/** The main connection's backstop: about 40 MiB of WAL. */
const BACKSTOP_CHECKPOINT_PAGES = 10_000;

export function setCheckpointRole(db: Db, role: 'main' | 'delivery'): void {
  const pages = role === 'delivery' ? DELIVERY_CHECKPOINT_PAGES : BACKSTOP_CHECKPOINT_PAGES;
  db.run(sql.raw(`PRAGMA wal_autocheckpoint = ${pages}`));
}
