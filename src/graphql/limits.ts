import {
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  isObjectType,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { noNulStringsRule } from './nul-strings.ts';
import { DEFAULT_COST_MODEL, estimateCost, type CostModel } from './query-cost.ts';

/** Bounds on one GraphQL operation; what a dashboard or CLI needs fits well inside them. */
export interface DocumentLimits {
  /** Lexer tokens (graphql's parse option `maxTokens`). @default 2_000 */
  maxTokens: number;
  /** Nesting of fields, following fragments; introspection fields are not counted. @default 10 */
  maxDepth: number;
  /** Aliased fields in the whole document. @default 15 */
  maxAliases: number;
  /** Directive uses in the whole document. @default 20 */
  maxDirectives: number;
  /** Fields selected once fragments are expanded, each fragment use counted again. @default 1_500 */
  maxFields: number;
  /**
   * Estimated cost of a query or mutation (query-cost.ts): values it may resolve, lists counted
   * per item. Reading back every field of 500 messages costs about 270,000. @default 300_000
   */
  maxCost: number;
  /** The same for a subscription, per event: it runs once for every event. @default 1_000 */
  maxSubscriptionCost: number;
  /** Bytes of html, text and transcripts in one response (per event for subscriptions). @default 16 MiB */
  maxResponseBytes: number;
  /** How the cost is estimated. @default DEFAULT_COST_MODEL */
  costModel: CostModel;
}

export const DEFAULT_LIMITS: DocumentLimits = Object.freeze({
  maxTokens: 2_000,
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 20,
  maxFields: 1_500,
  maxCost: 300_000,
  maxSubscriptionCost: 1_000,
  // One message at the largest sendEmail accepts (5 MB text and 5 MB html) still fits.
  maxResponseBytes: 16 * 1024 * 1024,
  costModel: DEFAULT_COST_MODEL,
});

function limitError(
  message: string,
  limit: string,
  extra: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit, ...extra },
  });
}

/** Counts over a document with fragments expanded, each fragment measured once (memoised). */
interface Measure {
  depth: number;
  cost: number;
}

const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

function measureDocument(context: ValidationContext, limits: DocumentLimits) {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const memo = new Map<string, Measure>();
  const inProgress = new Set<string>();

  function measure(selectionSet: SelectionSetNode): Measure {
    let depth = 0;
    let cost = 0;
    for (const selection of selectionSet.selections) {
      let inner: Measure = { depth: 0, cost: 0 };
      if (selection.kind === Kind.FIELD) {
        const counted = !INTROSPECTION_FIELDS.has(selection.name.value);
        const below = selection.selectionSet ? measure(selection.selectionSet) : inner;
        inner = {
          depth: counted ? below.depth + 1 : 0,
          cost: below.cost + 1,
        };
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        inner = measure(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // Unknown and cyclic fragments are reported by graphql's own rules; here they count
        // as nothing so the walk ends.
        if (fragment === undefined || inProgress.has(name)) continue;
        let known = memo.get(name);
        if (known === undefined) {
          inProgress.add(name);
          known = measure(fragment.selectionSet);
          inProgress.delete(name);
          memo.set(name, known);
        }
        inner = known;
      }
      depth = Math.max(depth, inner.depth);
      // Saturate: a fragment bomb must not take the time of counting to its real size.
      cost = Math.min(cost + inner.cost, limits.maxFields + 1);
    }
    return { depth, cost };
  }
  return measure;
}

/** Depth and selected fields of each operation. */
export function depthAndFieldsRule(limits: DocumentLimits): ValidationRule {
  return (context): ASTVisitor => {
    const measure = measureDocument(context, limits);
    return {
      OperationDefinition(operation) {
        const { depth, cost } = measure(operation.selectionSet);
        if (depth > limits.maxDepth) {
          context.reportError(
            limitError(
              `query is nested ${depth} levels deep; at most ${limits.maxDepth} are allowed`,
              'depth',
            ),
          );
        }
        if (cost > limits.maxFields) {
          context.reportError(
            limitError(
              `query selects more than ${limits.maxFields} fields (fragments expanded)`,
              'fields',
            ),
          );
        }
        return false;
      },
    };
  };
}

export function maxAliasesRule(limits: DocumentLimits): ValidationRule {
  return (context) => {
    let aliases = 0;
    return {
      Field(field) {
        if (field.alias && ++aliases === limits.maxAliases + 1) {
          context.reportError(
            limitError(`at most ${limits.maxAliases} aliases are allowed`, 'aliases'),
          );
        }
      },
    };
  };
}

export function maxDirectivesRule(limits: DocumentLimits): ValidationRule {
  return (context) => {
    let directives = 0;
    return {
      Directive() {
        if (++directives === limits.maxDirectives + 1) {
          context.reportError(
            limitError(`at most ${limits.maxDirectives} directives are allowed`, 'directives'),
          );
        }
      },
    };
  };
}

/**
 * No object type twice on one path: `message → events → message → events …` re-reads the same
 * rows at every level and multiplies them (the review's query looped through it ten levels deep
 * under 15 aliases of 500 messages). Nothing a client needs comes back that way: it already has
 * the message above. Followed through fragments, each fragment walked once per set of
 * enclosing types.
 */
export function noTypeCyclesRule(limits: DocumentLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const schema = context.getSchema();
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        fragments.set(definition.name.value, definition);
      }
    }
    const walked = new Set<string>();
    const reported = new Set<string>();
    let operation: OperationDefinitionNode | null = null;
    // What the loop would cost: the reason it is refused, in figures. Worked out only for a
    // document that has a loop.
    const price = () => {
      if (operation === null) return '';
      const { cost } = estimateCost(
        schema,
        context.getDocument(),
        operation,
        null,
        limits.costModel,
      );
      const max =
        operation.operation === 'subscription' ? limits.maxSubscriptionCost : limits.maxCost;
      return ` (as sent it would cost up to ${figure(cost)}; the limit is ${figure(max)})`;
    };

    function walk(
      selectionSet: SelectionSetNode,
      type: GraphQLObjectType,
      enclosing: readonly string[],
      path: readonly string[],
    ): void {
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const field = type.getFields()[selection.name.value];
          const named = field ? getNamedType(field.type) : undefined;
          if (!selection.selectionSet || !isObjectType(named)) continue;
          const here = [...path, selection.alias?.value ?? selection.name.value];
          if (enclosing.includes(named.name)) {
            const coordinate = `${type.name}.${selection.name.value}`;
            if (!reported.has(coordinate)) {
              reported.add(coordinate);
              context.reportError(
                limitError(
                  `${here.join('.')} selects ${named.name} again inside itself: a query may not loop back through a type (e.g. Message.events → MessageEvent.message → events …), since every level multiplies the rows read; select what you need from the ${named.name} above instead${price()}`,
                  'cycle',
                ),
              );
            }
            continue;
          }
          walk(selection.selectionSet, named, [...enclosing, named.name], here);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const on = selection.typeCondition
            ? schema.getType(selection.typeCondition.name.value)
            : type;
          if (isObjectType(on)) walk(selection.selectionSet, on, enclosing, path);
        } else {
          const fragment = fragments.get(selection.name.value);
          const on = fragment ? schema.getType(fragment.typeCondition.name.value) : undefined;
          const key = `${selection.name.value}|${enclosing.join(',')}`;
          // Unknown and cyclic fragments are graphql's own errors; walking one again at the
          // same place finds nothing new.
          if (!fragment || !isObjectType(on) || walked.has(key)) continue;
          walked.add(key);
          walk(fragment.selectionSet, on, enclosing, path);
        }
      }
    }

    return {
      OperationDefinition(definition) {
        operation = definition;
        const root =
          definition.operation === 'query'
            ? schema.getQueryType()
            : definition.operation === 'mutation'
              ? schema.getMutationType()
              : schema.getSubscriptionType();
        if (root) walk(definition.selectionSet, root, [root.name], []);
        return false;
      },
    };
  };
}

/**
 * The rules added to graphql's own, on HTTP (Apollo's validationRules) and on graphql-ws
 * (onSubscribe) alike. In production introspection is refused too. The cost limit needs the
 * variables, so it is checked after these (`costError`).
 */
export function limitRules(limits: DocumentLimits, production: boolean): ValidationRule[] {
  return [
    depthAndFieldsRule(limits),
    maxAliasesRule(limits),
    maxDirectivesRule(limits),
    noTypeCyclesRule(limits),
    noNulStringsRule,
    ...(production ? [NoSchemaIntrospectionCustomRule] : []),
  ];
}

const figure = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * The most each operation of a document could cost, whatever its variables: when that is within
 * the limit, as for every sendEmail, the variables need not be looked at. Keyed by the document
 * object, which Apollo reuses for a query it has seen (its document store).
 */
const worstCases = new WeakMap<DocumentNode, Map<string | null, number>>();

function worstCase(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  model: CostModel,
): number {
  let known = worstCases.get(document);
  if (known === undefined) worstCases.set(document, (known = new Map()));
  const key = operation.name?.value ?? null;
  let cost = known.get(key);
  if (cost === undefined) {
    cost = estimateCost(schema, document, operation, null, model).cost;
    known.set(key, cost);
  }
  return cost;
}

/**
 * The error for an operation that would cost more than the limits allow, or null. Runs after
 * validation and before execution, with the request's variables (`first: $first` counts as the
 * value sent); variables that do not coerce are left for execution to report.
 */
export function costError(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | null | undefined,
  limits: DocumentLimits,
): GraphQLError | null {
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  const subscription = operation.operation === 'subscription';
  const maxCost = subscription ? limits.maxSubscriptionCost : limits.maxCost;
  if (worstCase(schema, document, operation, limits.costModel) <= maxCost) return null;
  const coerced = getVariableValues(
    schema,
    operation.variableDefinitions ?? [],
    rawVariables ?? {},
  );
  if (coerced.errors) return null;
  const { cost, costliest } = estimateCost(
    schema,
    document,
    operation,
    coerced.coerced,
    limits.costModel,
  );
  if (cost <= maxCost) return null;
  const { listSizes, firstDefault } = limits.costModel;
  const what = subscription ? 'per event (a subscription runs once for every event)' : '';
  return limitError(
    `query cost ${figure(cost)} is over the limit of ${figure(maxCost)}${what ? ` ${what}` : ''}: ` +
      `each list counts once per item it may return (first, ${firstDefault} when omitted; ` +
      `${listSizes['Message.events']} events and ${listSizes['Message.dispatches']} dispatches per message)` +
      (costliest ? `, and ${costliest.field} alone costs ${figure(costliest.cost)}` : '') +
      '. Ask for fewer items (first), fewer aliases or fewer fields.',
    'cost',
    { cost: Math.round(cost), maxCost },
  );
}
