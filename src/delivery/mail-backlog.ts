/**
 * Whether mail is waiting to be delivered on this instance: the delivery worker's backlog
 * (worker.ts `onBacklog`), as its thread last reported it. Work that can wait, outgoing webhooks
 * above all, yields to mail while it is set (webhooks/yield-to-mail.ts).
 *
 * It is this instance's worker's backlog only. On PostgreSQL every instance runs its own worker
 * and dispatcher, so each dispatcher yields to the mail of the machine it shares CPUs with,
 * which is the contention this is about; another instance's backlog is not this one's to ease.
 */
export interface MailBacklog {
  backlogged(): boolean;
  /** Calls `listener` on every change (never twice with the same value); returns a stop. */
  onChange(listener: (backlogged: boolean) => void): () => void;
}

export interface MailBacklogState extends MailBacklog {
  /** What the delivery thread reported; a repeat of the current value changes nothing. */
  set(backlogged: boolean): void;
}

export function createMailBacklog(): MailBacklogState {
  let backlogged = false;
  const listeners = new Set<(backlogged: boolean) => void>();
  return {
    backlogged: () => backlogged,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(value) {
      if (value === backlogged) return;
      backlogged = value;
      for (const listener of [...listeners]) listener(value);
    },
  };
}
