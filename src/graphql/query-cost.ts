import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * How an operation's cost is estimated before it runs: the number of values it may resolve, a
 * list counting once per item it may return (GitHub's node limit and graphql-armor's cost limit
 * are the models). `messages(first: 500) { edges { node { events { status } } } }` costs about
 * 500 × (3 + 10 × 1 + 5): every message, and every event of every message.
 */
export interface CostModel {
  /** `first` when a field that takes it is called without it. @default 50 */
  firstDefault: number;
  /** The largest `first` counted; larger values are refused by the resolver anyway. @default 500 */
  firstMax: number;
  /** Items assumed in a list that no `first` bounds. @default 10 */
  defaultListSize: number;
  /** Per list field (`Type.field`), the items assumed instead of `defaultListSize`. */
  listSizes: Readonly<Record<string, number>>;
  /**
   * Per field (`Type.field`), what one resolution costs instead of 1: fields that read the
   * database, dial out, or may return megabytes.
   */
  weights: Readonly<Record<string, number>>;
}

export const DEFAULT_COST_MODEL: CostModel = Object.freeze({
  firstDefault: 50,
  firstMax: 500,
  defaultListSize: 10,
  listSizes: Object.freeze({
    // A message sent at the first attempt has 3 events; five failed attempts make about 15.
    'Message.events': 10,
    // DELIVERY_MAX_ATTEMPTS defaults to 5.
    'Message.dispatches': 5,
    'Query.smtpProviders': 20,
    'Query.smtpConfigHistory': 20,
    'Query.apiTokens': 20,
    // Reports after SENT: a delivery report, sometimes a delay or two before it.
    'Message.reports': 3,
    // As many as it was given: up to 1,000.
    'Mutation.sendEmails': 1_000,
  }),
  weights: Object.freeze({
    // A database read each.
    'Query.message': 5,
    'Query.messages': 10,
    'Message.events': 5,
    'Message.dispatches': 5,
    'MessageEvent.message': 5,
    'Query.smtpConfigHistory': 5,
    'Query.apiTokens': 5,
    'Message.reports': 5,
    'Suppression.message': 5,
    'Query.unmatchedReports': 5,
    'Query.suppressions': 10,
    'SuppressionConnection.totalCount': 100,
    // Counts over a filter, or aggregates over counters: the slowest reads there are.
    'MessageConnection.totalCount': 100,
    'Query.deliveryStats': 100,
    'Subscription.queueStats': 100,
    // Up to 5 MB each (LIMITS.bodyBytes); a transcript is a few KB.
    'Message.text': 100,
    'Message.html': 100,
    'Dispatch.transcript': 10,
    // A whole SMTP conversation with a remote server.
    'Query.verifySmtp': 1_000,
    // Some twenty DNS queries, SPF includes followed.
    'Query.checkSenderDomain': 1_000,
  }),
});

/** What an operation is estimated to cost, and which root field costs most. */
export interface CostEstimate {
  cost: number;
  /** The response key of the costliest root field (its alias when it has one), and its cost. */
  costliest: { field: string; cost: number } | null;
}

/** Costs beyond this are reported as this: the exact figure of a bomb is no use to anyone. */
const COST_CEILING = 1e15;

const INTROSPECTION = new Set(['__schema', '__type', '__typename']);

/**
 * The estimated cost of `operation` with `variables` (coerced, as graphql-js executes with);
 * `null` for the most it could cost with any variables (every `first: $x` counted at
 * `firstMax`), which depends on the document alone.
 * Fragments are measured once per page size they are used with, so a fragment bomb costs the
 * estimate, not the time of expanding it. Unknown fields (the document failed validation) count
 * as nothing: this runs after validation.
 */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null,
  model: CostModel = DEFAULT_COST_MODEL,
): CostEstimate {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const memo = new Map<string, number>();
  const inProgress = new Set<string>();
  const cap = (n: number) => Math.min(n, COST_CEILING);

  function pageSize(
    field: GraphQLField<unknown, unknown>,
    node: Parameters<typeof getArgumentValues>[1],
  ) {
    if (!field.args.some((arg) => arg.name === 'first')) return null;
    if (variables === null) {
      const given = node.arguments?.find((arg) => arg.name.value === 'first');
      if (given?.value.kind === Kind.VARIABLE) return model.firstMax;
    }
    let first: unknown;
    try {
      first = getArgumentValues(field, node, variables ?? {})['first'];
    } catch {
      first = undefined; // the resolver reports bad arguments
    }
    if (first === undefined || first === null) return model.firstDefault;
    return typeof first === 'number' && Number.isInteger(first) && first >= 0
      ? Math.min(first, model.firstMax)
      : model.firstMax;
  }

  /**
   * What one object of `type` costs with `selectionSet`; `page` is the `first` of the field that
   * returned it, for the lists of a connection (`MessageConnection.edges`).
   */
  function unitCost(
    selectionSet: SelectionSetNode,
    type: GraphQLObjectType,
    page: number | null,
    perField?: Map<string, number>,
  ): number {
    let total = 0;
    for (const selection of selectionSet.selections) {
      let cost = 0;
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const field = type.getFields()[name];
        if (INTROSPECTION.has(name) || field === undefined) continue;
        const coordinate = `${type.name}.${name}`;
        const own = model.weights[coordinate] ?? 1;
        const named = getNamedType(field.type);
        const first = pageSize(field, selection);
        let items = 1;
        if (isListType(getNullableType(field.type))) {
          items =
            first ??
            (type.name.endsWith('Connection') && page !== null
              ? page
              : (model.listSizes[coordinate] ?? model.defaultListSize));
        }
        const below =
          selection.selectionSet && isObjectType(named)
            ? unitCost(selection.selectionSet, named, first ?? page)
            : 0;
        cost = cap(own + items * below);
        const key = selection.alias?.value ?? name;
        perField?.set(key, cap((perField.get(key) ?? 0) + cost));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : type;
        if (isObjectType(on)) cost = unitCost(selection.selectionSet, on, page, perField);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        const on = fragment ? schema.getType(fragment.typeCondition.name.value) : undefined;
        // Unknown and cyclic fragments are graphql's own validation errors.
        if (!fragment || !isObjectType(on) || inProgress.has(name)) continue;
        const key = `${name}:${page}`;
        let known = memo.get(key);
        if (known === undefined) {
          inProgress.add(name);
          known = unitCost(fragment.selectionSet, on, page);
          inProgress.delete(name);
          memo.set(key, known);
        }
        cost = known;
        // A fragment spread at the root is credited as a whole (expanding it per field would
        // take the time of a fragment bomb's real size).
        perField?.set(`...${name}`, cap((perField.get(`...${name}`) ?? 0) + cost));
      }
      total = cap(total + cost);
    }
    return total;
  }

  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!root) return { cost: 0, costliest: null };
  const perField = new Map<string, number>();
  const cost = unitCost(operation.selectionSet, root, null, perField);
  let costliest: CostEstimate['costliest'] = null;
  for (const [field, fieldCost] of perField) {
    if (costliest === null || fieldCost > costliest.cost) costliest = { field, cost: fieldCost };
  }
  return { cost, costliest };
}
