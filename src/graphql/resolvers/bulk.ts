import { toListFilter } from '../filters.ts';
import type { MutationResolvers } from '../generated/types.ts';
import { parseIsoTime } from '../scalars.ts';

/** Actions on many messages at once. */
export const BulkMutation: Pick<
  MutationResolvers,
  'retryMessages' | 'cancelMessages' | 'retryConfigurationFailures'
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
};
