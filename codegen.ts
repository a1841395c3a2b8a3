// Resolver types come from schema.graphql; mappers tie GraphQL types to the domain types the
// resolvers really receive, so the two can't drift apart silently. `scripts/codegen.ts` runs
// this through @graphql-codegen/core (the CLI's loaders pull in packages that need Node 22).
export const schemaFile = 'schema.graphql';
export const outputFile = 'src/graphql/generated/types.ts';

export const config = {
  useTypeImports: true,
  contextType: '../context.ts#GraphQLContext',
  mappers: {
    Message: '../../domain/message.ts#Message as MessageModel',
    Dispatch: '../../domain/message.ts#Dispatch as DispatchModel',
    MessageEvent: '../../domain/message.ts#MessageEvent as MessageEventModel',
    DeliveryError: '../../domain/delivery-error.ts#DeliveryError as DeliveryErrorModel',
    SmtpConfig: '../../delivery/smtp-settings.ts#SmtpSettingsView as SmtpConfigModel',
    DeliveryStats: '../../delivery/delivery-stats.ts#DeliveryStatsReport as DeliveryStatsModel',
    SmtpVerification: '../../delivery/smtp-verifier.ts#SmtpVerification as SmtpVerificationModel',
    MessageConnection: '../message-connection.ts#MessageConnectionModel',
    SmtpProvider: '../../smtp/provider-presets.ts#SmtpProviderPreset as SmtpProviderModel',
    ApiToken: '../../db/port.ts#StoredApiToken as ApiTokenModel',
    Viewer: '../../auth/principal.ts#Principal as ViewerModel',
    DeliveryReport: '../../domain/message.ts#MessageEvent as DeliveryReportModel',
    Suppression: '../../domain/report.ts#Suppression as SuppressionModel',
    SuppressionConnection: '../../db/port.ts#SuppressionPage as SuppressionConnectionModel',
    SuppressionEdge: '../../domain/report.ts#Suppression as SuppressionEdgeModel',
    UnmatchedReport: '../../domain/report.ts#UnmatchedReport as UnmatchedReportModel',
    WebhookEndpoint: '../../domain/webhook.ts#WebhookEndpoint as WebhookEndpointModel',
    WebhookDelivery: '../../domain/webhook.ts#WebhookDelivery as WebhookDeliveryModel',
    CreatedWebhookEndpoint:
      '../../domain/webhook.ts#CreatedWebhookEndpoint as CreatedWebhookEndpointModel',
  },
  enumsAsTypes: true,
  avoidOptionals: false,
  maybeValue: 'T | null',
  inputMaybeValue: 'T | null | undefined',
  emitLegacyCommonJSImports: false,
};
