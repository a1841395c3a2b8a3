import { GraphQLError, type ValidationRule } from 'graphql';
import type { ApiErrorCode } from './errors.ts';

// No string the API takes may hold the NUL character (U+0000). PostgreSQL refuses it in text,
// so a filter, an idempotency key or a detail holding one failed there with an internal error,
// while SQLite stored it: refused alike on both, before anything runs, naming where it was.

const NUL = '\u0000';

const problem = (where: string) =>
  new GraphQLError(`${where} contains the NUL character (U+0000), which no text may hold`, {
    extensions: {
      code: 'BAD_USER_INPUT' satisfies ApiErrorCode,
      field: where,
      http: { status: 400 },
    },
  });

/** Where in the variables a string (or a key) holds NUL, as `$name.a[2]`, or null. */
function nulPath(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') return value.includes(NUL) ? path : null;
  if (depth > 64 || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key.includes(NUL)) return path;
    const found = nulPath(item, `${path}.${key}`, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** The error for variables holding NUL anywhere, or null. */
export function nulVariablesError(
  variables: Record<string, unknown> | null | undefined,
): GraphQLError | null {
  if (!variables) return null;
  for (const [name, value] of Object.entries(variables)) {
    const found = nulPath(value, `$${name}`);
    if (found !== null) return problem(`variable ${found}`);
  }
  return null;
}

/** String literals in the document holding NUL (`"\u0000"` is one once parsed). */
export const noNulStringsRule: ValidationRule = (context) => ({
  StringValue(node) {
    if (node.value.includes(NUL)) context.reportError(problem('a string in the query'));
  },
});
