import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiTokenRepository, StoredApiToken } from '../db/api-tokens.ts';
import type { Principal, Scope } from './principal.ts';

export interface ApiTokensDeps {
  repository: ApiTokenRepository;
  /** API_TOKEN: an admin token that is never stored; null when unset. */
  bootstrapToken: string | null;
  now?: () => number;
}

export type CreateTokenResult =
  | { ok: true; token: string; apiToken: StoredApiToken }
  | { ok: false; field: string; problem: string };

const TOKEN_PREFIX = 'ms_';
const NAME_MAX_LENGTH = 100;
// last_used_at is for people ("is this token still in use?"): a minute's precision is plenty
// and keeps authentication from writing to the database on every request.
const TOUCH_INTERVAL_MS = 60_000;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The token from an `Authorization: Bearer <token>` value, or null. */
function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization);
  return match ? match[1]! : null;
}

/**
 * API tokens: the bootstrap API_TOKEN plus stored ones with a scope. Authentication is required
 * as soon as API_TOKEN is set or any unrevoked token is stored; before that (loopback only, see
 * config.ts) every caller is an anonymous admin, which is how the first token gets created.
 */
export function createApiTokens(deps: ApiTokensDeps) {
  const now = deps.now ?? Date.now;
  const bootstrapDigest = deps.bootstrapToken === null ? null : sha256(deps.bootstrapToken);
  const revokedListeners = new Set<(tokenId: number) => void>();
  const requiredListeners = new Set<() => void>();
  const touchedAt = new Map<number, number>();

  function authRequired(): boolean {
    return bootstrapDigest !== null || deps.repository.anyActive();
  }

  return {
    authRequired,

    /**
     * The caller behind an Authorization value, or null when authentication is required and the
     * value is missing or wrong (→ 401 / close 4403).
     */
    authenticate(authorization: string | undefined): Principal | null {
      // Without any token configured there is nothing to check (and the server is loopback-only):
      // whatever a client sends, it is the anonymous admin.
      if (!authRequired()) {
        return { scope: 'admin', kind: 'anonymous', tokenId: null, tokenName: null };
      }
      const token = bearerToken(authorization);
      if (token === null) return null;
      const digest = sha256(token);
      // Digests compared in constant time: response timing says nothing about a guess.
      if (bootstrapDigest !== null && timingSafeEqual(digest, bootstrapDigest)) {
        return { scope: 'admin', kind: 'bootstrap', tokenId: null, tokenName: 'API_TOKEN' };
      }
      // Looked up by digest: an attacker cannot steer which bytes of a stored digest match.
      const stored = deps.repository.findActiveByHash(digest.toString('hex'));
      if (stored === null) return null;
      const at = now();
      if ((touchedAt.get(stored.id) ?? 0) + TOUCH_INTERVAL_MS <= at) {
        touchedAt.set(stored.id, at);
        deps.repository.touch(stored.id, at);
      }
      return { scope: stored.scope, kind: 'token', tokenId: stored.id, tokenName: stored.name };
    },

    /** True while `principal` is still allowed in: its token was not revoked meanwhile. */
    stillValid(principal: Principal): boolean {
      if (principal.kind === 'anonymous') return !authRequired();
      if (principal.kind === 'bootstrap') return true;
      const stored = deps.repository.find(principal.tokenId!);
      return stored !== null && stored.revokedAtMs === null;
    },

    /** Creates a token; the returned `token` is the only time it is ever shown. */
    create(name: string, scope: Scope): CreateTokenResult {
      const trimmed = name.trim();
      if (trimmed.length === 0 || trimmed.length > NAME_MAX_LENGTH) {
        return { ok: false, field: 'name', problem: `must be 1 to ${NAME_MAX_LENGTH} characters` };
      }
      if (/[\u0000-\u001f\u007f]/.test(trimmed)) {
        return { ok: false, field: 'name', problem: 'must not contain control characters' };
      }
      const wasRequired = authRequired();
      const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const apiToken = deps.repository.insert({
        name: trimmed,
        scope,
        tokenHash: sha256(token).toString('hex'),
        createdAtMs: now(),
      });
      if (!wasRequired) for (const listener of requiredListeners) listener();
      return { ok: true, token, apiToken };
    },

    list: () => deps.repository.list(),

    /** Revokes a token (idempotent); null when the id is unknown. */
    revoke(id: number): StoredApiToken | null {
      const before = deps.repository.find(id);
      if (before === null) return null;
      const after = deps.repository.revoke(id, now());
      if (before.revokedAtMs === null) for (const listener of revokedListeners) listener(id);
      return after;
    },

    /** Called with a token's id right after it is revoked (live sockets are closed then). */
    onRevoked(listener: (tokenId: number) => void): () => void {
      revokedListeners.add(listener);
      return () => revokedListeners.delete(listener);
    },

    /** Called when the first token is created and anonymous callers stop being admitted. */
    onAuthRequired(listener: () => void): () => void {
      requiredListeners.add(listener);
      return () => requiredListeners.delete(listener);
    },
  };
}

export type ApiTokens = ReturnType<typeof createApiTokens>;
