import {
  defaultFieldResolver,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { principalKey, type Scope } from '../auth/principal.ts';
import type { RateDecision } from '../auth/send-rate-limiter.ts';
import type { GraphQLContext } from './context.ts';
import type { InputProblem } from '../delivery/input-rules.ts';
import {
  sendInputProblems,
  sendManyInputProblems,
  type SendEmailInput,
} from '../delivery/outbox.ts';
import { BadUserInputError, ForbiddenError, RateLimitedError } from './errors.ts';

/**
 * The scope each root field needs. By default queries and subscriptions need `read` and
 * mutations `admin`, so a field added later is covered without anyone remembering to list it;
 * the exceptions are listed here.
 */
const ADMIN_ONLY_READS = new Set([
  // Lists every token (names, scopes, last use): the admin's business only.
  'Query.apiTokens',
  // Dials out to any host and port given to it: a READ token must not turn the service into a
  // port scanner or a probe of the internal network.
  'Query.verifySmtp',
]);

interface SendsMail {
  /** How many messages a call counts for against the per-token send limit. */
  messages(args: Record<string, unknown>): number;
  /**
   * The call's input checks, run before the rate limit is asked: a call refused for its input
   * stores nothing and must not cost the token its budget (a batch with one bad address would
   * otherwise spend a minute's sends and leave the corrected retry RATE_LIMITED).
   */
  inputError?(args: Record<string, unknown>): BadUserInputError | null;
}

/** Mutations that hand mail to an SMTP server. */
const SENDS_MAIL = new Map<string, SendsMail>([
  [
    'Mutation.sendEmail',
    {
      messages: () => 1,
      inputError: (args) => inputError(sendInputProblems(args['input'] as SendEmailInput), 'input'),
    },
  ],
  ['Mutation.sendTestEmail', { messages: () => 1 }],
  [
    'Mutation.sendEmails',
    {
      messages: (args) => (Array.isArray(args['inputs']) ? args['inputs'].length : 1),
      inputError: (args) =>
        inputError(sendManyInputProblems(args['inputs'] as SendEmailInput[]), 'inputs'),
    },
  ],
]);

function inputError(problems: readonly InputProblem[], argument: string): BadUserInputError | null {
  return problems.length === 0 ? null : new BadUserInputError(problems, argument);
}

/** What a SEND token may call: the mutations that queue mail, nothing else (not even reads). */
const SEND_SCOPE_FIELDS = new Set(['Mutation.sendEmail', 'Mutation.sendEmails']);

export function requiredScope(typeName: string, fieldName: string): Scope {
  const key = `${typeName}.${fieldName}`;
  if (typeName === 'Mutation' || ADMIN_ONLY_READS.has(key)) return 'admin';
  return 'read';
}

/** Whether a token of `scope` may call the root field `typeName.fieldName`. */
export function mayCall(scope: Scope, typeName: string, fieldName: string): boolean {
  if (scope === 'admin') return true;
  if (scope === 'send') return SEND_SCOPE_FIELDS.has(`${typeName}.${fieldName}`);
  return requiredScope(typeName, fieldName) === 'read';
}

/** Throws when the caller may not; a promise only when a rate limit has to be asked. */
function check(
  context: GraphQLContext,
  typeName: string,
  fieldName: string,
  args: Record<string, unknown>,
): void | Promise<void> {
  const principal = context?.principal;
  // No principal means the context was built without the HTTP layer: refuse rather than guess.
  if (principal === undefined) throw new ForbiddenError('no caller identity on this request');
  if (!mayCall(principal.scope, typeName, fieldName)) {
    throw new ForbiddenError(
      principal.scope === 'send'
        ? `${typeName}.${fieldName} is not open to a SEND token (it may call sendEmail and sendEmails only)`
        : `${typeName}.${fieldName} needs an ADMIN token`,
    );
  }
  const sends = SENDS_MAIL.get(`${typeName}.${fieldName}`);
  if (sends !== undefined && context.sendRateLimiter.limited) {
    const invalid = sends.inputError?.(args) ?? null;
    if (invalid !== null) throw invalid;
    const messages = sends.messages(args);
    return context.sendRateLimiter.take(principalKey(principal), messages).then((decision) => {
      if (!decision.ok) throw rateLimited(decision, messages);
    });
  }
}

function rateLimited(decision: Exclude<RateDecision, { ok: true }>, messages: number) {
  // Which bucket is short matters to the caller: waiting helps with both, but another token
  // only helps with its own.
  const whose = decision.serviceWide
    ? 'the whole service may send (SEND_RATE_LIMIT_TOTAL_PER_MINUTE, shared by every token)'
    : 'this token may send (SEND_RATE_LIMIT_PER_MINUTE)';
  if ('exceedsCapacity' in decision) {
    return new RateLimitedError(
      null,
      `${messages} messages in one call are more than the ${decision.exceedsCapacity} per minute ${whose}; send smaller batches`,
    );
  }
  return new RateLimitedError(
    decision.retryAfterMs,
    `too many messages: more than ${whose} per minute; retry in ${Math.max(1, Math.ceil(decision.retryAfterMs / 1_000))} s`,
  );
}

function guard<T extends GraphQLFieldResolver<unknown, GraphQLContext>>(
  resolver: T,
  typeName: string,
  fieldName: string,
): T {
  return ((parent, args, context, info) => {
    const checked = check(context, typeName, fieldName, args as Record<string, unknown>);
    return checked === undefined
      ? resolver(parent, args, context, info)
      : checked.then(() => resolver(parent, args, context, info));
  }) as T;
}

/**
 * Puts the scope check (and the send rate limit) in front of every root field of `schema`:
 * queries, mutations and subscriptions (at subscribe time), over HTTP and graphql-ws alike.
 */
export function guardRootFields(schema: GraphQLSchema): GraphQLSchema {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
  for (const type of roots.filter((t): t is GraphQLObjectType => t != null)) {
    for (const field of Object.values(type.getFields())) {
      if (type === schema.getSubscriptionType()) {
        if (field.subscribe) field.subscribe = guard(field.subscribe, type.name, field.name);
      } else {
        field.resolve = guard(field.resolve ?? defaultFieldResolver, type.name, field.name);
      }
    }
  }
  return schema;
}
