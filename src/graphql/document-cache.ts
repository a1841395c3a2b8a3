import {
  parse,
  validate,
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';

export interface DocumentCacheOptions {
  schema: GraphQLSchema;
  rules: readonly ValidationRule[];
  maxTokens: number;
  /**
   * Query text kept, in characters, over every cached document; the least recently used go
   * first. A document's syntax tree is some tens of times its text. @default 1 MiB
   */
  maxChars?: number;
}

export type CheckedDocument =
  | { kind: 'valid'; document: DocumentNode }
  | { kind: 'unparsable'; error: unknown }
  | { kind: 'invalid'; problems: readonly GraphQLError[] };

/**
 * Documents parsed and validated once per query text, as Apollo's document store does for HTTP
 * requests. Dashboards subscribe with the same few operations: with 10,000 of them reconnecting
 * after a restart, parsing and validating each subscription's document was about 40 % of the
 * service's CPU. Only valid documents are kept (the rules read nothing but the document and the
 * schema), and a kept document is shared: graphql-js never changes one.
 */
export function createDocumentCache(options: DocumentCacheOptions) {
  const maxChars = options.maxChars ?? 1024 * 1024;
  // A Map iterates in insertion order: a hit is moved to the end, so the first is the least
  // recently used.
  const documents = new Map<string, DocumentNode>();
  let chars = 0;

  function keep(query: string, document: DocumentNode): void {
    if (query.length > maxChars) return;
    documents.set(query, document);
    chars += query.length;
    for (const oldest of documents.keys()) {
      if (chars <= maxChars) break;
      documents.delete(oldest);
      chars -= oldest.length;
    }
  }

  return {
    check(query: string): CheckedDocument {
      const known = documents.get(query);
      if (known !== undefined) {
        documents.delete(query);
        documents.set(query, known);
        return { kind: 'valid', document: known };
      }
      let document: DocumentNode;
      try {
        document = parse(query, { maxTokens: options.maxTokens });
      } catch (error) {
        return { kind: 'unparsable', error };
      }
      const problems = validate(options.schema, document, options.rules);
      if (problems.length > 0) return { kind: 'invalid', problems };
      keep(query, document);
      return { kind: 'valid', document };
    },
    /** How many documents are kept now. */
    size: () => documents.size,
  };
}
