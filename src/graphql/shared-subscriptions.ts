import {
  getArgumentValues,
  getOperationAST,
  GraphQLError,
  print,
  subscribe,
  type ExecutionArgs,
  type ExecutionResult,
  type DocumentNode,
} from 'graphql';
import type { GraphQLContext, ResultChannel } from './context.ts';
import type { ApiErrorCode } from './errors.ts';

type Results = AsyncGenerator<ExecutionResult, void, void>;
type SubscribeResult = Results | ExecutionResult;

export interface SharedSubscriptionsOptions {
  /**
   * Subscription fields whose live streams may be shared: streams of events that a subscriber
   * joining late simply starts receiving. Not ones that open with a snapshot of their own
   * (queueStats), which a late joiner would never get.
   */
  fields: readonly string[];
  /**
   * Runs a subscription (once per group, or for a subscriber who cannot share). @default
   * graphql-js's `subscribe`
   */
  run?: (args: ExecutionArgs) => Promise<SubscribeResult>;
  /**
   * Results queued for one subscriber before it is dropped as too slow: it gets an error
   * telling it to subscribe again from its last cursor, and the others are not held up.
   * @default 10_000
   */
  maxQueued?: number;
  /**
   * For a subscriber whose results go out through its own channel: bytes its client may leave
   * untaken before it is stopped the same way.
   * @default 1 MiB
   */
  maxPendingBytes?: number;
}

interface Limits {
  maxQueued: number;
  maxPendingBytes: number;
}

/**
 * graphql-ws's `subscribe`, with live-only subscriptions that are the same operation with the
 * same variables sharing one execution.
 *
 * graphql-js executes a subscription's selection once per event per subscriber, coercing the
 * variables again each time; with a thousand dashboards watching the same feed that was most
 * of the CPU fan-out cost. Subscribers of a group get the very same result objects. A
 * subscription that replays (an `after` argument) starts from its own cursor, so it never
 * shares.
 *
 * A subscriber with a result channel in its context (graphql-ws over our socket) gets each result
 * written at once through it, serialised once for the whole group; its iterator only ends the
 * operation. Without one, results queue for the iterator.
 */
export function createSharedSubscriptions(options: SharedSubscriptionsOptions) {
  const limits: Limits = {
    maxQueued: options.maxQueued ?? 10_000,
    maxPendingBytes: options.maxPendingBytes ?? 1024 * 1024,
  };
  const fields = new Set(options.fields);
  const run = options.run ?? ((args: ExecutionArgs) => subscribe(args) as Promise<SubscribeResult>);
  const groups = new Map<string, Group>();

  interface Group {
    join(channel: ResultChannel | null): Results;
  }

  function startGroup(key: string, source: Results): Group {
    const members = new Set<Member>();
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      if (groups.get(key) === group) groups.delete(key);
      void source.return();
    };
    const group: Group = {
      join(channel) {
        const member = createMember(channel, limits, () => {
          members.delete(member);
          if (members.size === 0) stop();
        });
        members.add(member);
        return member.results;
      },
    };
    groups.set(key, group);
    void (async () => {
      try {
        for (;;) {
          const next = await source.next();
          if (next.done) break;
          for (const member of members) member.push(next.value);
        }
        for (const member of members) member.end();
      } catch (error) {
        for (const member of members) member.fail(error);
      } finally {
        stop();
      }
    })();
    return group;
  }

  return async function subscribeShared(args: ExecutionArgs): Promise<SubscribeResult> {
    const key = shareKey(args, fields);
    if (key === null) return run(args);
    const channel = (args.contextValue as Partial<GraphQLContext> | undefined)?.results ?? null;
    const existing = groups.get(key);
    if (existing) return existing.join(channel);
    const source = await run(args);
    if (!(Symbol.asyncIterator in source)) return source; // errors are nobody else's
    // Another subscriber may have started the same group while this one was subscribing.
    const raced = groups.get(key);
    if (raced) {
      void source.return();
      return raced.join(channel);
    }
    return startGroup(key, source).join(channel);
  };
}

/**
 * Documents as text, by syntax tree: subscribers of the same query share one parsed document
 * (document-cache.ts), so it is printed once, not once per subscriber.
 */
const printed = new WeakMap<DocumentNode, string>();
function printOnce(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

/**
 * The key of the group this subscription may join, or null when it must run on its own. Members
 * get the very same results, so the key is everything a result depends on: the whole document
 * (fragments included: a fragment of the same name may select other fields), the operation, every
 * variable (one may steer an `@include` below the root), and the caller's scope.
 */
function shareKey(args: ExecutionArgs, fields: ReadonlySet<string>): string | null {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== 'subscription') return null;
  const rootType = args.schema.getSubscriptionType();
  const [field, ...others] = operation.selectionSet.selections;
  if (!rootType || !field || others.length > 0 || field.kind !== 'Field') return null;
  if (!fields.has(field.name.value)) return null;
  const definition = rootType.getFields()[field.name.value];
  if (!definition) return null;
  let values: Record<string, unknown>;
  try {
    values = getArgumentValues(definition, field, args.variableValues ?? {});
  } catch {
    return null; // bad arguments: let the normal path report them
  }
  if (values['after'] !== undefined && values['after'] !== null) return null;
  // A subscriber joining a group runs no resolver of its own, so it passes no scope check
  // (authorize.ts) either: only callers of the same scope, which that check answers alike,
  // share. Without a caller, the normal path refuses it.
  const scope = (args.contextValue as Partial<GraphQLContext> | undefined)?.principal?.scope;
  if (scope === undefined) return null;
  return JSON.stringify([
    printOnce(args.document),
    args.operationName ?? null,
    args.variableValues ?? {},
    scope,
  ]);
}

interface Member {
  results: Results;
  push(result: ExecutionResult): void;
  end(): void;
  fail(error: unknown): void;
}

const tooSlow = (): ExecutionResult => ({
  errors: [
    new GraphQLError(
      'This subscriber fell too far behind the live feed and was stopped; subscribe again with `after` set to the last cursor it received to continue without a gap.',
      { extensions: { code: 'SUBSCRIBER_TOO_SLOW' satisfies ApiErrorCode } },
    ),
  ],
});

function createMember(channel: ResultChannel | null, limits: Limits, leave: () => void): Member {
  const queue: ExecutionResult[] = [];
  let finished: { error: unknown } | 'done' | null = null;
  let wake: (() => void) | null = null;
  let left = false;
  const signal = () => {
    wake?.();
    wake = null;
  };
  const depart = () => {
    if (left) return;
    left = true;
    leave();
  };

  async function* generate(): Results {
    try {
      for (;;) {
        const result = queue.shift();
        if (result !== undefined) {
          yield result;
          continue;
        }
        if (finished === 'done') return;
        if (finished !== null) throw finished.error;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      depart();
    }
  }
  const generator = generate();
  return {
    results: {
      next: () => generator.next(),
      // A subscriber parked waiting for a result must stop at once when it leaves.
      return: async () => {
        finished ??= 'done';
        queue.length = 0;
        signal();
        depart();
        return generator.return();
      },
      throw: (error: unknown) => generator.throw(error),
      [Symbol.asyncIterator]() {
        return this;
      },
    },
    push(result) {
      if (finished !== null) return;
      if (channel !== null) {
        if (channel.pendingBytes() <= limits.maxPendingBytes) {
          channel.send(result);
          return;
        }
        channel.send(tooSlow());
        finished = 'done';
        depart();
      } else if (queue.length >= limits.maxQueued) {
        queue.length = 0;
        queue.push(tooSlow());
        finished = 'done';
        depart();
      } else {
        queue.push(result);
      }
      signal();
    },
    end() {
      finished ??= 'done';
      signal();
    },
    fail(error) {
      finished ??= { error };
      signal();
    },
  };
}
