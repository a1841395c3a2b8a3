import { callerOf } from '../caller.ts';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors.ts';
import type { MutationResolvers } from '../generated/types.ts';
import { parseMessageId } from '../scalars.ts';
import type { TransitionResult } from '../../delivery/outbox.ts';

function messageOrThrow(result: TransitionResult, id: string, action: string, allowed: string) {
  if (result.ok) return result.message;
  if (result.kind === 'not_found') throw new NotFoundError('message', id);
  if (action === 'retry' && result.message.status === 'SUPPRESSED') {
    throw new ConflictError(
      `cannot ${action} message ${id}: ${result.message.recipient} is on the suppression list; removeSuppression first`,
      { status: result.message.status },
    );
  }
  throw new ConflictError(
    `cannot ${action} message ${id}: it is ${result.message.status}; only ${allowed} messages can be`,
    { status: result.message.status },
  );
}

export const Mutation: MutationResolvers = {
  async configureSmtp(_parent, { input }, { settings }) {
    const result = await settings.configure(input);
    if (!result.ok) throw new BadUserInputError(result.problems, 'input');
    return result.settings;
  },

  async sendEmail(_parent, { input }, { outbox, principal }) {
    const result = await outbox.send(input, callerOf(principal));
    if (result.ok) return result.message;
    if (result.kind === 'invalid') throw new BadUserInputError(result.problems, 'input');
    throw new ConflictError(
      `idempotencyKey was first used for message ${result.message.id} with different input`,
      { messageId: String(result.message.id) },
    );
  },

  async sendEmails(_parent, { inputs }, { outbox, principal }) {
    const result = await outbox.sendMany(inputs, callerOf(principal));
    if (result.ok) return result.messages;
    if (result.kind === 'invalid') throw new BadUserInputError(result.problems, 'inputs');
    if (result.kind === 'idempotency_conflict_in_call') {
      throw new ConflictError(
        `inputs[${result.index}].idempotencyKey is the key of inputs[${result.earlierIndex}], with different input; nothing was stored`,
        { field: `inputs[${result.index}].idempotencyKey` },
      );
    }
    throw new ConflictError(
      `inputs[${result.index}].idempotencyKey was first used for message ${result.message.id} with different input; nothing was stored`,
      { messageId: String(result.message.id), field: `inputs[${result.index}].idempotencyKey` },
    );
  },

  async retryMessage(_parent, { id }, { outbox }) {
    const rowId = parseMessageId(id);
    if (rowId === null) throw new NotFoundError('message', id);
    return messageOrThrow(
      await outbox.retry(rowId),
      id,
      'retry',
      'ABANDONED, CANCELLED or (once unlisted) SUPPRESSED',
    );
  },

  async cancelMessage(_parent, { id }, { outbox }) {
    const rowId = parseMessageId(id);
    if (rowId === null) throw new NotFoundError('message', id);
    return messageOrThrow(await outbox.cancel(rowId), id, 'cancel', 'QUEUED');
  },
};
