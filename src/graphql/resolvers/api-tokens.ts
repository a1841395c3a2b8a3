import type { Scope } from '../../auth/principal.ts';
import { BadUserInputError, NotFoundError } from '../errors.ts';
import type {
  ApiTokenResolvers,
  ApiTokenScope,
  MutationResolvers,
  QueryResolvers,
  ViewerResolvers,
} from '../generated/types.ts';
import { isoTime, isoTimeOrNull, parseMessageId } from '../scalars.ts';

const toGraphQLScope = (scope: Scope): ApiTokenScope => (scope === 'admin' ? 'ADMIN' : 'READ');
const fromGraphQLScope = (scope: ApiTokenScope): Scope => (scope === 'ADMIN' ? 'admin' : 'read');

// Who may call these is decided in authorize.ts, with every other root field.
export const ApiTokenQuery: QueryResolvers = {
  viewer: (_parent, _args, { principal }) => principal,
  apiTokens: (_parent, _args, { apiTokens }) => apiTokens.list(),
};

export const ApiTokenMutation: MutationResolvers = {
  async createApiToken(_parent, { name, scope }, { apiTokens }) {
    const result = await apiTokens.create(name, fromGraphQLScope(scope));
    if (!result.ok) throw new BadUserInputError([{ field: result.field, problem: result.problem }]);
    return { token: result.token, apiToken: result.apiToken };
  },

  async revokeApiToken(_parent, { id }, { apiTokens }) {
    // Token ids are row ids, like message ids.
    const rowId = parseMessageId(id);
    const revoked = rowId === null ? null : await apiTokens.revoke(rowId);
    if (revoked === null) throw new NotFoundError('API token', id);
    return revoked;
  },
};

export const ApiToken: ApiTokenResolvers = {
  id: (token) => String(token.id),
  scope: (token) => toGraphQLScope(token.scope),
  createdAt: (token) => isoTime(token.createdAtMs),
  revokedAt: (token) => isoTimeOrNull(token.revokedAtMs),
  lastUsedAt: (token) => isoTimeOrNull(token.lastUsedAtMs),
};

export const Viewer: ViewerResolvers = {
  scope: (principal) => toGraphQLScope(principal.scope),
  tokenName: (principal) => principal.tokenName,
};
