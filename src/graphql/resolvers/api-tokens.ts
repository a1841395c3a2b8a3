import { creatorOf } from '../../auth/api-tokens.ts';
import type { Scope } from '../../auth/principal.ts';
import type { StoredTokenCreator } from '../../db/port.ts';
import { BadUserInputError, NotFoundError, RateLimitedError } from '../errors.ts';
import type {
  ApiTokenCreator,
  ApiTokenResolvers,
  ApiTokenScope,
  MutationResolvers,
  QueryResolvers,
  ViewerResolvers,
} from '../generated/types.ts';
import { isoTime, isoTimeOrNull, parseMessageId } from '../scalars.ts';

const toGraphQLScope = (scope: Scope): ApiTokenScope => scope.toUpperCase() as ApiTokenScope;
const fromGraphQLScope = (scope: ApiTokenScope): Scope => scope.toLowerCase() as Scope;
const CREATORS: Record<StoredTokenCreator, ApiTokenCreator> = {
  api_token: 'API_TOKEN',
  token: 'STORED_TOKEN',
  loopback: 'LOOPBACK',
  cli: 'CLI',
};

// Who may call these is decided in authorize.ts, with every other root field.
export const ApiTokenQuery: QueryResolvers = {
  viewer: (_parent, _args, { principal }) => principal,
  apiTokens: (_parent, _args, { apiTokens }) => apiTokens.list(),
};

export const ApiTokenMutation: MutationResolvers = {
  async createApiToken(_parent, { name, scope }, { apiTokens, principal }) {
    const result = await apiTokens.create(name, fromGraphQLScope(scope), creatorOf(principal));
    if (!result.ok) {
      if ('retryAfterMs' in result) {
        throw new RateLimitedError(
          result.retryAfterMs,
          `too many API tokens created: at most ${result.perHour} per hour over the whole service (TOKEN_CREATE_RATE_LIMIT_PER_HOUR); retry in ${Math.ceil(result.retryAfterMs / 1_000)} s`,
        );
      }
      throw new BadUserInputError([{ field: result.field, problem: result.problem }]);
    }
    return { token: result.token, apiToken: result.apiToken };
  },

  async revokeApiToken(_parent, { id }, { apiTokens, principal }) {
    // Token ids are row ids, like message ids.
    const rowId = parseMessageId(id);
    const revoked = rowId === null ? null : await apiTokens.revoke(rowId, principal);
    if (revoked === null) throw new NotFoundError('API token', id);
    return revoked.token;
  },
};

export const ApiToken: ApiTokenResolvers = {
  id: (token) => String(token.id),
  scope: (token) => toGraphQLScope(token.scope),
  createdAt: (token) => isoTime(token.createdAtMs),
  revokedAt: (token) => isoTimeOrNull(token.revokedAtMs),
  lastUsedAt: (token) => isoTimeOrNull(token.lastUsedAtMs),
  createdVia: (token) => (token.createdVia === null ? null : CREATORS[token.createdVia]),
  createdByTokenId: (token) =>
    token.createdByTokenId === null ? null : String(token.createdByTokenId),
};

export const Viewer: ViewerResolvers = {
  scope: (principal) => toGraphQLScope(principal.scope),
  tokenName: (principal) => principal.tokenName,
};
