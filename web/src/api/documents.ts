// Every GraphQL document the dashboard sends, in one place.

const ROW = `id recipient subject status outcome attempts maxAttempts createdAt updatedAt nextAttemptAt
  lastError { code responseCode enhancedStatus }`;

const ERROR = `code message responseCode enhancedStatus command response permanent hint`;

// eventCursor comes first: it is read before the page, so the subscription that starts after it
// misses nothing that happened while the page was read.
export const FEED_QUERY = `query Feed($filter: MessageFilter, $first: Int, $after: String) {
  eventCursor
  messages(filter: $filter, first: $first, after: $after) {
    edges { cursor node { ${ROW} } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

// No totalCount: the page keeps the count it loaded and the live events' changes to it, and
// counting a filtered history for every further page cost the service up to 0.6 s of its main
// thread at a million messages (an errorCode or subject filter).
export const MORE_QUERY = `query More($filter: MessageFilter, $first: Int, $after: String) {
  messages(filter: $filter, first: $first, after: $after) {
    edges { cursor node { ${ROW} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** How many messages match: asked again when events touch messages beyond the loaded rows. */
export const COUNT_QUERY = `query Count($filter: MessageFilter) {
  messages(filter: $filter, first: 0) { totalCount }
}`;

export const EVENTS_SUBSCRIPTION = `subscription Events($filter: MessageFilter, $after: String) {
  messageEvents(filter: $filter, after: $after) {
    cursor at status reason outcome
    error { code }
    message { ${ROW} }
  }
}`;

export const DETAIL_QUERY = `query Detail($id: ID!) {
  message(id: $id) {
    ${ROW.replace('lastError { code responseCode enhancedStatus }', '')}
    messageId idempotencyKey submittedOverSmtp submittedBy
    headers { name value }
    lastError { ${ERROR} }
    dispatches { attempt succeeded at durationMs response transcript smtpConfigVersion error { ${ERROR} } }
    events { cursor at status previousStatus reason attempt outcome error { ${ERROR} } }
    reports { at outcome source bounceType enhancedStatus diagnostic remoteMta hint }
  }
}`;

const STATS = `queued sent abandoned failedAttempts queueDepth processing oldestQueuedAgeMs
  delivered deferred bouncedHard bouncedSoft complained bounceRate complaintRate
  suppressed unmatchedReports`;

export const STATS_SUBSCRIPTION = `subscription Stats {
  queueStats(windowSeconds: 3600, intervalMs: 1000) { ${STATS} }
}`;

/** `buckets` aliased deliveryStats over consecutive windows: one request for the whole chart. */
export function chartQuery(boundsMs: number[]): string {
  const fields = boundsMs.slice(0, -1).map((since, index) => {
    const until = boundsMs[index + 1]!;
    return `b${index}: deliveryStats(since: "${new Date(since).toISOString()}", until: "${new Date(until).toISOString()}") { sent failedAttempts bouncedHard bouncedSoft complained }`;
  });
  return `query Chart { ${fields.join('\n')} }`;
}

export const VIEWER_QUERY = `query Viewer { viewer { scope } }`;

const CONFIG = `connectionUri fromAddress fromName embedded version source createdAt provider
  dkim { domain selector dnsRecordName dnsRecordValue }`;

export const SMTP_QUERY = `query Smtp {
  smtpConfig { ${CONFIG} }
  smtpProviders { id name host port security usernameRule fixedUsername usernameIsSecret passwordRule documentationNote }
}`;

export const CONFIGURE_SMTP = `mutation Configure($input: ConfigureSmtpInput!) {
  configureSmtp(input: $input) { ${CONFIG} }
}`;

export const CONFIGURE_PROVIDER = `mutation ConfigureProvider($input: ConfigureSmtpProviderInput!) {
  configureSmtpProvider(input: $input) { ${CONFIG} }
}`;

export const VERIFY_SMTP = `query Verify($connectionUri: String) {
  verifySmtp(connectionUri: $connectionUri) {
    ok connectionUri totalDurationMs
    steps { name ok durationMs detail error { ${ERROR} } }
  }
}`;

export const RETRY_MESSAGE = `mutation Retry($id: ID!) { retryMessage(id: $id) { ${ROW} } }`;
export const CANCEL_MESSAGE = `mutation Cancel($id: ID!) { cancelMessage(id: $id) { ${ROW} } }`;

export const SEND_TEST_EMAIL = `mutation SendTest($to: String!) { sendTestEmail(to: $to) { id } }`;

export const CHECK_SENDER_DOMAIN = `query CheckSenderDomain($domain: String, $provider: String, $dkimSelectors: [String!]) {
  checkSenderDomain(domain: $domain, provider: $provider, dkimSelectors: $dkimSelectors) {
    domain ready
    checks { name status found expected detail hint }
  }
}`;

const SUPPRESSION = `address reason createdAt detail message { id subject }`;

export const SUPPRESSIONS_QUERY = `query Suppressions($address: String, $first: Int, $after: String) {
  suppressions(address: $address, first: $first, after: $after) {
    edges { cursor node { ${SUPPRESSION} } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

export const ADD_SUPPRESSION = `mutation AddSuppression($address: String!, $detail: String) {
  addSuppression(address: $address, detail: $detail) { ${SUPPRESSION} }
}`;

export const REMOVE_SUPPRESSION = `mutation RemoveSuppression($address: String!) {
  removeSuppression(address: $address)
}`;

export const UNMATCHED_REPORTS_QUERY = `query Unmatched($first: Int) {
  unmatchedReports(first: $first) { at source outcome recipient detail }
}`;

/**
 * The figures that move when the suppression list or the unmatched reports change: a hard bounce
 * or a complaint (pushed at once, with its event), an unmatched report (by the next heartbeat).
 */
export const LIST_CHANGES_SUBSCRIPTION = `subscription ListChanges {
  queueStats(windowSeconds: 3600, intervalMs: 1000) { bouncedHard complained unmatchedReports }
}`;

const WEBHOOK_DELIVERY = `id webhookId eventType attempt at statusCode durationMs error responseBody succeeded nextAttemptAt`;
const WEBHOOK_ENDPOINT = `id url events enabled description createdAt`;

/** The endpoints with their newest deliveries (ADMIN only, the list included). */
export const WEBHOOK_ENDPOINTS_QUERY = `query WebhookEndpoints($first: Int) {
  webhookEndpoints { ${WEBHOOK_ENDPOINT} deliveries(first: $first) { ${WEBHOOK_DELIVERY} } }
}`;

export const CREATE_WEBHOOK_ENDPOINT = `mutation CreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url } }
}`;

export const UPDATE_WEBHOOK_ENDPOINT = `mutation UpdateWebhookEndpoint($id: ID!, $enabled: Boolean) {
  updateWebhookEndpoint(id: $id, enabled: $enabled) { id enabled }
}`;

export const DELETE_WEBHOOK_ENDPOINT = `mutation DeleteWebhookEndpoint($id: ID!) {
  deleteWebhookEndpoint(id: $id)
}`;

export const ROTATE_WEBHOOK_SECRET = `mutation RotateWebhookSecret($id: ID!) {
  rotateWebhookSecret(id: $id) { secret endpoint { id url } }
}`;

export const SEND_TEST_WEBHOOK = `mutation SendTestWebhook($id: ID!) {
  sendTestWebhook(id: $id) { id }
}`;

export const REDELIVER_WEBHOOK = `mutation RedeliverWebhook($deliveryId: ID!) {
  redeliverWebhook(deliveryId: $deliveryId) { id }
}`;

/**
 * The figures that move when messages change, which is when webhook events are sent: the
 * Webhooks page reads its log again when they do (and every few seconds, for retries).
 */
export const WEBHOOK_TICK_SUBSCRIPTION = `subscription WebhookTick {
  queueStats(windowSeconds: 3600, intervalMs: 1000) {
    queued sent deferred abandoned delivered bouncedHard bouncedSoft complained suppressed
  }
}`;
