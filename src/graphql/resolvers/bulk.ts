import { BadUserInputError } from '../errors.ts';
import { toListFilter } from '../filters.ts';
import type { MutationResolvers } from '../generated/types.ts';
import { parseIsoTime } from '../scalars.ts';

/** Actions on many messages at once, and the test email. */
export const BulkMutation: Pick<
  MutationResolvers,
  | 'retryMessages'
  | 'cancelMessages'
  | 'retryConfigurationFailures'
  | 'sendTestEmail'
  | 'configureSmtpProvider'
> = {
  retryMessages(_parent, { filter }, { outbox }) {
    return outbox.retryMatching(toListFilter(filter, 'filter'));
  },

  cancelMessages(_parent, { filter }, { outbox }) {
    return outbox.cancelMatching(toListFilter(filter, 'filter'));
  },

  retryConfigurationFailures(_parent, { since }, { outbox }) {
    return outbox.retryConfigurationFailures(since == null ? null : parseIsoTime(since, 'since'));
  },

  async sendTestEmail(_parent, { to }, { outbox, settings }) {
    const active = settings.current();
    const through = active
      ? `${active.connectionUri}${active.version === null ? '' : ` (configuration v${active.version})`}`
      : 'no SMTP server (nothing is configured)';
    const result = await outbox.send({
      to,
      subject: 'mailscope test email',
      text: `This is a test email from mailscope, sent through ${through}.\n\nIf you can read it, delivery works.`,
    });
    if (result.ok) return result.message;
    if (result.kind === 'invalid') {
      throw new BadUserInputError(
        result.problems.map((p) => ({ ...p, field: p.field === 'input.to' ? 'to' : p.field })),
      );
    }
    throw new Error('a test email has no idempotency key, so it cannot conflict');
  },

  async configureSmtpProvider(_parent, { input }, { settings }) {
    const result = await settings.configureProvider(input);
    if (!result.ok) throw new BadUserInputError(result.problems);
    return result.settings;
  },
};
