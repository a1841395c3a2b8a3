import { callerOf } from '../caller.ts';
import { BadUserInputError } from '../errors.ts';
import type { MutationResolvers } from '../generated/types.ts';

/** Setting SMTP up from a preset, and proving it with a real message. */
export const SmtpSetupMutation: Pick<MutationResolvers, 'sendTestEmail' | 'configureSmtpProvider'> =
  {
    async sendTestEmail(_parent, { to }, { outbox, settings, principal }) {
      const active = settings.current();
      const through = active
        ? `${active.connectionUri}${active.version === null ? '' : ` (configuration v${active.version})`}`
        : 'no SMTP server (nothing is configured)';
      const result = await outbox.send(
        {
          to,
          subject: 'mailscope test email',
          text: `This is a test email from mailscope, sent through ${through}.\n\nIf you can read it, delivery works.`,
        },
        callerOf(principal),
      );
      if (result.ok) return result.message;
      if (result.kind === 'invalid') {
        // The test email's input is built here; its `to` is the argument of the same name.
        throw new BadUserInputError(result.problems);
      }
      throw new Error('a test email has no idempotency key, so it cannot conflict');
    },

    async configureSmtpProvider(_parent, { input }, { settings }) {
      const result = await settings.configureProvider(input);
      if (!result.ok) throw new BadUserInputError(result.problems, 'input');
      return result.settings;
    },
  };
