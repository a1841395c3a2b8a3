import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GraphQLContext } from './context.ts';
import { costError, type DocumentLimits } from './limits.ts';
import { nulVariablesError } from './nul-strings.ts';
import { ResponseTooLargeError } from './response-budget.ts';

/**
 * The limits Apollo's validation rules cannot apply, over HTTP: the cost limit (it needs the
 * variables: `first: $first` counts as the value sent) before execution, and the response size
 * after it. graphql-ws applies the same in ws-subscribe.ts.
 */
export function operationLimitsPlugin(
  limits: DocumentLimits,
  /** Told of the RESPONSE_TOO_LARGE this answers with (Apollo's formatError never sees it). */
  countError: (code: string) => void = () => {},
): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request }) {
          const nul = nulVariablesError(request.variables);
          if (nul !== null) throw nul;
          const error = costError(
            schema,
            document,
            request.operationName,
            request.variables,
            limits,
          );
          if (error !== null) {
            // 400, as for every other document refused before it runs.
            throw new GraphQLError(error.message, {
              extensions: { ...error.extensions, http: { status: 400 } },
            });
          }
        },
        async willSendResponse({ contextValue, response }) {
          // One clear error rather than a partial result with a null for every field that
          // did not fit.
          if (contextValue.responseBudget?.exceeded && response.body.kind === 'single') {
            const error = new ResponseTooLargeError(limits.maxResponseBytes);
            countError('RESPONSE_TOO_LARGE');
            response.body.singleResult = {
              errors: [{ message: error.message, extensions: { ...error.extensions } }],
            };
          }
        },
      };
    },
  };
}
