import { describeStorageProblem, storageProblem } from '../db/storage-errors.ts';
import type { Logger } from '../logger.ts';
import type {
  SubmissionRefusalReason,
  SubmissionReply,
  SubmittedEnvelope,
  Submitter,
} from '../smtp/submission-server.ts';
import { readSubmittedMime } from '../smtp/submitted-mime.ts';
import { senderDomainProblem } from './input-rules.ts';
import type { Outbox } from './outbox.ts';

/** What the send rate limit said (auth/send-rate-limiter.ts's decision, as far as it matters here). */
export type Allowance =
  { ok: true } | { ok: false; retryAfterMs: number } | { ok: false; exceedsCapacity: number };

export interface SubmissionIntakeDeps {
  outbox: Pick<Outbox, 'submit' | 'newMessageId'>;
  /** SENDER_DOMAIN_ALLOWLIST: the domains the From header may use; null for any. */
  senderDomainAllowlist: readonly string[] | null;
  /** Takes `count` sends from the per-token (and service-wide) send limit. */
  takeSends(rateKey: string, count: number): Promise<Allowance>;
  /** Messages queued from one submission (for /metrics). */
  countSubmitted(messages: number): void;
  log: Pick<Logger, 'info'>;
}

const refuse = (
  reason: SubmissionRefusalReason,
  code: number,
  enhancedStatus: string,
  message: string,
  error?: unknown,
): SubmissionReply => ({
  ok: false,
  reason,
  code,
  enhancedStatus,
  message,
  ...(error === undefined ? {} : { error }),
});

/**
 * Turns a message submitted over SMTP into queued messages, one per recipient, with the same
 * rules as sendEmail: the sender domain allowlist and the per-token send limit. The reply is 250
 * only once every message is stored.
 */
export function createSubmissionIntake(deps: SubmissionIntakeDeps) {
  return {
    async accept(
      submitter: Submitter,
      { sender, recipients, remoteAddress }: SubmittedEnvelope,
      message: Buffer,
    ): Promise<SubmissionReply> {
      const mime = readSubmittedMime(message, {
        newMessageId: deps.outbox.newMessageId,
        envelopeSender: sender,
      });
      if (mime.headerProblem !== null) {
        return refuse(
          'malformed_headers',
          550,
          '5.6.0',
          `Malformed message: ${mime.headerProblem}`,
        );
      }
      if (mime.fromAddresses.length === 0) {
        // No sender to show: receivers refuse such mail, so the application hears it now
        // rather than from a bounce. (A missing From was made from the envelope sender if any.)
        const hasFrom = mime.headers.some((h) => h.name.toLowerCase() === 'from');
        return refuse(
          'no_sender',
          550,
          '5.6.0',
          hasFrom
            ? 'The From header names no address: give the sender as name@example.com'
            : 'The message has no From header and the envelope sender is empty (MAIL FROM:<>): add a From header',
        );
      }
      if (deps.senderDomainAllowlist !== null) {
        // Every domain the From could be read as: receivers' readers disagree on odd values.
        for (const domain of mime.fromDomains) {
          const problem = senderDomainProblem(`@${domain}`, deps.senderDomainAllowlist);
          if (problem !== null) {
            return refuse('sender_not_allowed', 550, '5.7.1', `Sender not allowed: ${problem}`);
          }
        }
      }
      const allowance = await deps.takeSends(submitter.rateKey, recipients.length);
      if (!allowance.ok) {
        return 'exceedsCapacity' in allowance
          ? refuse(
              'over_rate_capacity',
              550,
              '5.7.1',
              `${recipients.length} recipients are more than the ${allowance.exceedsCapacity} messages per minute this token may send`,
            )
          : refuse(
              'rate_limited',
              451,
              '4.7.1',
              `Send rate limit reached; try again in ${Math.max(1, Math.ceil(allowance.retryAfterMs / 1_000))} s`,
            );
      }
      let stored;
      try {
        stored = await deps.outbox.submit({
          recipients,
          raw: mime.raw,
          messageId: mime.messageId,
          subject: mime.subject,
          text: mime.text,
          html: mime.html,
          headers: mime.headers,
          submittedBy: submitter.name,
        });
      } catch (error) {
        const problem = storageProblem(error);
        // Anything but the storage is a fault of ours: still 451 (nothing was stored, and the
        // client keeps the message), but logged as an error rather than an outage.
        return problem === null
          ? refuse('local_error', 451, '4.3.0', 'Local error in processing; try again later', error)
          : refuse(
              'storage_unavailable',
              451,
              '4.3.0',
              `Storage unavailable: ${describeStorageProblem(problem)}`,
              error,
            );
      }
      deps.countSubmitted(stored.length);
      const ids = stored.map((m) => m.id);
      deps.log.info(
        // `tokenName`: the logger masks every field called `token`, which would hide the name.
        { audit: 'smtp.submitted', tokenName: submitter.name, remoteAddress, messages: ids },
        `SMTP submission from ${remoteAddress} by token "${submitter.name}": queued as ${ids.join(',')}`,
      );
      return { ok: true, message: `Ok: queued as ${ids.join(',')}` };
    },
  };
}
