// Builds one minimal, well-typed operation per root field of the real schema, so the auth tests
// cover every operation there is, including ones added after the tests were written.
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';

export interface RootOperation {
  kind: 'query' | 'mutation' | 'subscription';
  field: string;
  query: string;
  variables: Record<string, unknown>;
}

function sampleValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sampleValue(type.ofType);
  if (isListType(type)) return [sampleValue(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isScalarType(type)) {
    // Values that pass GraphQL's own coercion but name nothing that exists, so an admin's call
    // does no harm: unknown ids, invalid addresses and URIs.
    if (type.name === 'ID') return '999999';
    if (type.name === 'Int') return 1;
    if (type.name === 'Boolean') return false;
    return 'not-valid';
  }
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      if (isNonNullType(field.type)) value[field.name] = sampleValue(field.type);
    }
    return value;
  }
  throw new Error(`no sample for ${String(type)}`);
}

export function rootOperations(schema: GraphQLSchema): RootOperation[] {
  const roots = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ] as const;
  const operations: RootOperation[] = [];
  for (const [kind, type] of roots) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const required = field.args.filter((arg) => isNonNullType(arg.type));
      // Subscriptions replay from the start, so a subscriber that is let in gets something.
      const after = kind === 'subscription' && field.args.some((arg) => arg.name === 'after');
      const variables: Record<string, unknown> = {};
      for (const arg of required) variables[arg.name] = sampleValue(arg.type);
      if (after) variables['after'] = '0';
      const declared = field.args.filter((arg) => arg.name in variables);
      const signature = declared.length
        ? `(${declared.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ')})`
        : '';
      const args = declared.length
        ? `(${declared.map((arg) => `${arg.name}: $${arg.name}`).join(', ')})`
        : '';
      const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
      operations.push({
        kind,
        field: field.name,
        query: `${kind} ${signature} { ${field.name}${args}${selection} }`,
        variables,
      });
    }
  }
  return operations;
}
