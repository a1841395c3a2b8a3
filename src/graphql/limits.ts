import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/** Bounds on one GraphQL document; what a dashboard or CLI needs fits well inside them. */
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
  maxCost: number;
}

export const DEFAULT_LIMITS: DocumentLimits = Object.freeze({
  maxTokens: 2_000,
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 20,
  maxCost: 1_500,
});

function limitError(message: string, limit: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit },
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
      cost = Math.min(cost + inner.cost, limits.maxCost + 1);
    }
    return { depth, cost };
  }
  return measure;
}

/** Depth and cost of each operation. */
export function depthAndCostRule(limits: DocumentLimits): ValidationRule {
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
        if (cost > limits.maxCost) {
          context.reportError(
            limitError(
              `query selects more than ${limits.maxCost} fields (fragments expanded)`,
              'cost',
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
 * The rules added to graphql's own, on HTTP (Apollo's validationRules) and on graphql-ws
 * (onSubscribe) alike. In production introspection is refused too.
 */
export function limitRules(limits: DocumentLimits, production: boolean): ValidationRule[] {
  return [
    depthAndCostRule(limits),
    maxAliasesRule(limits),
    maxDirectivesRule(limits),
    ...(production ? [NoSchemaIntrospectionCustomRule] : []),
  ];
}
