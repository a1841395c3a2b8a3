import { principalKey, type Principal } from '../auth/principal.ts';
import type { Caller } from '../delivery/outbox.ts';

/** Who a mutation sends as: the token's name for the message, its key for idempotency. */
export const callerOf = (principal: Principal): Caller => ({
  name: principal.tokenName,
  keyScope: principalKey(principal),
});
