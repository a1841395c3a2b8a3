import {
  getOperationAST,
  GraphQLError,
  specifiedRules,
  type ExecutionArgs,
  type GraphQLSchema,
} from 'graphql';
import type { Context, SubscribePayload } from 'graphql-ws';
import type { ApiTokens } from '../auth/api-tokens.ts';
import type { Principal } from '../auth/principal.ts';
import type { GraphQLContext, ResultChannel } from '../graphql/context.ts';
import { createDocumentCache } from '../graphql/document-cache.ts';
import type { ErrorCode } from '../graphql/errors.ts';
import { costError, limitRules, type DocumentLimits } from '../graphql/limits.ts';
import { nulVariablesError } from '../graphql/nul-strings.ts';
import type { ConnectionState, createConnectionRegistry } from './ws-guard.ts';
import type { ResultChannels } from './ws-result-channels.ts';

/** Live operations allowed at once. */
export interface SubscriptionCaps {
  perConnection: number;
  /** Over every connection of the same token. */
  perToken: number;
}

export interface SubscribeCheckDeps {
  schema: GraphQLSchema;
  limits: DocumentLimits;
  production: boolean;
  apiTokens: ApiTokens;
  connections: ReturnType<typeof createConnectionRegistry>;
  caps: SubscriptionCaps;
  contextFor: (
    principal: Principal,
    options?: { paced?: boolean; results?: ResultChannel },
  ) => GraphQLContext;
  /** The operation's way to write its results itself (shared subscriptions do). */
  resultChannels: ResultChannels;
}

const error = (message: string, code: ErrorCode, extra: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code, ...extra } });

/**
 * graphql-ws's `onSubscribe`: what Apollo does for an HTTP request, for one graphql-ws operation.
 * The token is checked again (it may have been revoked since the connection opened), the
 * operation counted against the caps, and the document parsed and validated with the same limits
 * as on HTTP (each query text once: document-cache.ts). Returns errors, or the arguments to
 * execute with.
 */
export function createSubscribeCheck(deps: SubscribeCheckDeps) {
  const documents = createDocumentCache({
    schema: deps.schema,
    rules: [...specifiedRules, ...limitRules(deps.limits, deps.production)],
    maxTokens: deps.limits.maxTokens,
  });
  return async (
    ctx: Context<Record<string, unknown>, ConnectionState>,
    id: string,
    payload: SubscribePayload,
  ): Promise<ExecutionArgs | readonly GraphQLError[]> => {
    const principal = ctx.extra.principal;
    // graphql-ws registers the operation before calling this hook, so the counts include it.
    // They are taken before the token check awaits: operations arriving meanwhile count later.
    const operationsHere = Object.keys(ctx.subscriptions).length;
    const tokenOverCap =
      principal !== undefined && deps.connections.operationsOver(principal, deps.caps.perToken);
    if (principal === undefined || !(await deps.apiTokens.stillValid(principal))) {
      ctx.extra.socket.close(4403, 'Forbidden: token revoked');
      return [error('the token of this connection is no longer valid', 'UNAUTHENTICATED')];
    }
    if (operationsHere > deps.caps.perConnection) {
      return [
        error(
          `at most ${deps.caps.perConnection} operations may run at once on one connection`,
          'TOO_MANY_SUBSCRIPTIONS',
        ),
      ];
    }
    if (tokenOverCap) {
      return [
        error(
          `at most ${deps.caps.perToken} operations may run at once with one token`,
          'TOO_MANY_SUBSCRIPTIONS',
        ),
      ];
    }
    const checked = documents.check(payload.query);
    if (checked.kind === 'unparsable') {
      const cause = checked.error;
      const message = cause instanceof GraphQLError ? cause.message : 'the query does not parse';
      return [error(message, 'GRAPHQL_PARSE_FAILED')];
    }
    if (checked.kind === 'invalid') {
      return checked.problems.map(
        (problem) =>
          // As Apollo's hideSchemaDetailsFromClientErrors: no "Did you mean" in production.
          new GraphQLError(
            deps.production ? problem.message.replace(/ Did you mean .*$/, '') : problem.message,
            {
              ...(problem.nodes ? { nodes: problem.nodes } : {}),
              extensions: { ...problem.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
            },
          ),
      );
    }
    const { document } = checked;
    const nul = nulVariablesError(payload.variables);
    if (nul !== null) return [nul];
    // The cost limit needs the variables; a subscription's is per event.
    const tooCostly = costError(
      deps.schema,
      document,
      payload.operationName,
      payload.variables,
      deps.limits,
    );
    if (tooCostly !== null) return [tooCostly];
    const operation = getOperationAST(document, payload.operationName ?? null);
    return {
      schema: deps.schema,
      document,
      variableValues: payload.variables ?? null,
      operationName: payload.operationName ?? null,
      contextValue: deps.contextFor(principal, {
        // A subscription runs one small selection per event: nothing to give back between.
        paced: operation?.operation !== 'subscription',
        results: deps.resultChannels.open(ctx.extra.socket, id),
      }),
    };
  };
}
