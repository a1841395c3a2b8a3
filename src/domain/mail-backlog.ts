/**
 * Whether mail is waiting to be delivered on this instance: the delivery worker's backlog, as its
 * thread last reported it (delivery/mail-backlog.ts keeps it). Work that can wait, outgoing
 * webhooks above all, yields to mail while it is set (webhooks/yield-to-mail.ts). Here, below
 * both, so that each names the same thing.
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
