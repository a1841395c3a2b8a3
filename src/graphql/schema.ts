import { readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { resourcePath } from '../resources.ts';
import { guardRootFields } from './authorize.ts';
import type { Resolvers } from './generated/types.ts';
import { ApiToken, ApiTokenMutation, ApiTokenQuery, Viewer } from './resolvers/api-tokens.ts';
import { Mutation } from './resolvers/mutation.ts';
import { Query } from './resolvers/query.ts';
import { Subscription } from './resolvers/subscription.ts';
import {
  DeliveryReport,
  Suppression,
  SuppressionConnection,
  SuppressionEdge,
  SuppressionMutation,
  SuppressionQuery,
  UnmatchedReport,
} from './resolvers/suppressions.ts';
import { BulkMutation } from './resolvers/bulk.ts';
import { SmtpSetupMutation } from './resolvers/smtp-setup.ts';
import { DashboardQuery } from './resolvers/dashboard.ts';
import {
  DeliveryStats,
  SmtpProvider,
  SmtpVerification,
  SmtpVerificationStep,
  TroubleshootingQuery,
} from './resolvers/troubleshooting.ts';
import {
  CreatedWebhookEndpoint,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookMutation,
  WebhookQuery,
} from './resolvers/webhooks.ts';
import {
  Dispatch,
  Message,
  MessageConnection,
  MessageEdge,
  MessageEvent,
  SmtpConfig,
} from './resolvers/types.ts';

const typeDefs = readFileSync(resourcePath('schema.graphql'), 'utf8');

const resolvers: Resolvers = {
  Query: {
    ...Query,
    ...TroubleshootingQuery,
    ...DashboardQuery,
    ...ApiTokenQuery,
    ...SuppressionQuery,
    ...WebhookQuery,
  },
  Mutation: {
    ...Mutation,
    ...BulkMutation,
    ...SmtpSetupMutation,
    ...ApiTokenMutation,
    ...SuppressionMutation,
    ...WebhookMutation,
  },
  WebhookEndpoint,
  WebhookDelivery,
  CreatedWebhookEndpoint,
  Subscription,
  DeliveryStats,
  SmtpProvider,
  SmtpVerification,
  SmtpVerificationStep,
  Message,
  MessageConnection,
  MessageEdge,
  Dispatch,
  MessageEvent,
  SmtpConfig,
  ApiToken,
  Viewer,
  DeliveryReport,
  Suppression,
  SuppressionConnection,
  SuppressionEdge,
  UnmatchedReport,
};

/** schema.graphql with its resolvers: one schema serves HTTP and graphql-ws alike. */
export function createSchema(): GraphQLSchema {
  // Built by graphql itself and given its resolvers in place: from the SDL text, graphql-tools
  // merges the type definitions and then copies the whole schema to add the resolvers, about
  // five times the work (~30 ms of start-up) for the same schema.
  return guardRootFields(
    makeExecutableSchema({
      typeDefs: buildSchema(typeDefs),
      resolvers: resolvers as never,
      updateResolversInPlace: true,
    }),
  );
}
