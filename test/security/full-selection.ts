// Every field of a type, recursively, so "read everything back" really reads everything.
import {
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
  type GraphQLObjectType,
} from 'graphql';

/** A selection set of every field without required arguments, each type once per path. */
export function fullSelection(type: GraphQLObjectType, depth = 5, path: string[] = []): string {
  const fields: string[] = [];
  for (const field of Object.values(type.getFields())) {
    if (field.args.some((arg) => isNonNullType(arg.type))) continue;
    const named = getNamedType(field.type);
    if (isLeafType(named)) fields.push(field.name);
    else if (isObjectType(named) && depth > 1 && !path.includes(named.name)) {
      fields.push(`${field.name} ${fullSelection(named, depth - 1, [...path, type.name])}`);
    }
  }
  return `{ ${fields.join(' ')} }`;
}
