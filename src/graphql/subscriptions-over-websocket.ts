import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GraphQLContext } from './context.ts';

/**
 * A subscription sent over HTTP is refused before it runs, saying where subscriptions are
 * served. Apollo would execute it as a query: the root field's resolver, which expects an
 * event, failed with an internal error, and before the scope check, which guards `subscribe`.
 */
export function subscriptionsOverWebSocketPlugin(path: string): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError(
            `subscriptions are served over WebSocket (graphql-ws, the graphql-transport-ws protocol) at ${path}, not over HTTP`,
            { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
          );
        },
      };
    },
  };
}
