import { SMTP_PROVIDERS } from '../../smtp/providers.ts';
import { BadUserInputError } from '../errors.ts';
import type {
  DeliveryStatsResolvers,
  QueryResolvers,
  SmtpProviderResolvers,
  SmtpVerificationResolvers,
  SmtpVerificationStepResolvers,
} from '../generated/types.ts';
import { isoTime, parseIsoTime } from '../scalars.ts';

const DAY_MS = 86_400_000;

/** Queries that answer "why didn't my email arrive?" before and after the fact. */
export const TroubleshootingQuery: Pick<
  QueryResolvers,
  'verifySmtp' | 'smtpProviders' | 'deliveryStats' | 'checkSenderDomain'
> = {
  async checkSenderDomain(_parent, args, { senderDomain }) {
    const result = await senderDomain.check(args);
    if (!result.ok) throw new BadUserInputError(result.problems);
    return result.report;
  },

  async verifySmtp(_parent, { connectionUri }, { verifier }) {
    const result = await verifier.verify(connectionUri ?? null);
    if (!result.ok) throw new BadUserInputError([{ field: result.field, problem: result.problem }]);
    return result.verification;
  },

  smtpProviders: () => [...SMTP_PROVIDERS],

  deliveryStats(_parent, { since, until }, { deliveryStats }) {
    const untilMs = until == null ? Date.now() : parseIsoTime(until, 'until');
    const sinceMs = since == null ? untilMs - DAY_MS : parseIsoTime(since, 'since');
    if (sinceMs >= untilMs) {
      throw new BadUserInputError([{ field: 'since', problem: 'must be before until' }]);
    }
    return deliveryStats.report(sinceMs, untilMs);
  },
};

export const DeliveryStats: DeliveryStatsResolvers = {
  since: (report) => isoTime(report.sinceMs),
  until: (report) => isoTime(report.untilMs),
};

export const SmtpProvider: SmtpProviderResolvers = {
  security: (preset) => (preset.security === 'implicit-tls' ? 'IMPLICIT_TLS' : 'STARTTLS'),
};

export const SmtpVerification: SmtpVerificationResolvers = {
  totalDurationMs: (report) => Math.round(report.totalDurationMs),
};

const GRAPHQL_INT_MAX = 2_147_483_647;

export const SmtpVerificationStep: SmtpVerificationStepResolvers = {
  // A server may advertise a SIZE beyond GraphQL's 32-bit Int; report the largest Int then.
  maxMessageSize: (step) =>
    step.maxMessageSize == null ? null : Math.min(step.maxMessageSize, GRAPHQL_INT_MAX),
};
