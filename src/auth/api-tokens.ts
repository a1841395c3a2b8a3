import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiTokenStore, ChangeSignals, StoredApiToken } from '../db/port.ts';
import type { Principal, Scope } from './principal.ts';

export interface ApiTokensDeps {
  repository: ApiTokenStore;
  /** How a new token or a revocation reaches every instance (and this one's listeners). */
  signals: ChangeSignals;
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
  // Whichever instance made the change, this one's listeners hear of it here.
  const stopListening = deps.signals.subscribe((change) => {
    if (change.kind === 'token-revoked') {
      for (const listener of revokedListeners) listener(change.tokenId);
    } else if (change.kind === 'token-created') {
      for (const listener of requiredListeners) listener();
    }
  });

  async function authRequired(): Promise<boolean> {
    return bootstrapDigest !== null || (await deps.repository.anyActive());
  }

  return {
    authRequired,

    /**
     * The caller behind an Authorization value, or null when authentication is required and the
     * value is missing or wrong (→ 401 / close 4403).
     */
    async authenticate(authorization: string | undefined): Promise<Principal | null> {
      // Without any token configured there is nothing to check (and the server is loopback-only):
      // whatever a client sends, it is the anonymous admin.
      if (!(await authRequired())) {
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
      const stored = await deps.repository.findActiveByHash(digest.toString('hex'));
      if (stored === null) return null;
      const at = now();
      if ((touchedAt.get(stored.id) ?? 0) + TOUCH_INTERVAL_MS <= at) {
        touchedAt.set(stored.id, at);
        // Bookkeeping for people: a request is not failed, nor held up, by it.
        deps.repository.touch(stored.id, at).catch(() => touchedAt.delete(stored.id));
      }
      return { scope: stored.scope, kind: 'token', tokenId: stored.id, tokenName: stored.name };
    },

    /** True while `principal` is still allowed in: its token was not revoked meanwhile. */
    async stillValid(principal: Principal): Promise<boolean> {
      if (principal.kind === 'anonymous') return !(await authRequired());
      if (principal.kind === 'bootstrap') return true;
      const stored = await deps.repository.find(principal.tokenId!);
      return stored !== null && stored.revokedAtMs === null;
    },

    /** Creates a token; the returned `token` is the only time it is ever shown. */
    async create(name: string, scope: Scope): Promise<CreateTokenResult> {
      const trimmed = name.trim();
      if (trimmed.length === 0 || trimmed.length > NAME_MAX_LENGTH) {
        return { ok: false, field: 'name', problem: `must be 1 to ${NAME_MAX_LENGTH} characters` };
      }
      if (/[\u0000-\u001f\u007f]/.test(trimmed)) {
        return { ok: false, field: 'name', problem: 'must not contain control characters' };
      }
      const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const apiToken = await deps.repository.insert({
        name: trimmed,
        scope,
        tokenHash: sha256(token).toString('hex'),
        createdAtMs: now(),
      });
      deps.signals.announce({ kind: 'token-created', tokenId: apiToken.id });
      return { ok: true, token, apiToken };
    },

    list: () => deps.repository.list(),

    /** Revokes a token (idempotent); null when the id is unknown. */
    async revoke(id: number): Promise<StoredApiToken | null> {
      const before = await deps.repository.find(id);
      if (before === null) return null;
      const after = await deps.repository.revoke(id, now());
      if (before.revokedAtMs === null)
        deps.signals.announce({ kind: 'token-revoked', tokenId: id });
      return after;
    },

    /** Called with a token's id right after it is revoked (live sockets are closed then). */
    onRevoked(listener: (tokenId: number) => void): () => void {
      revokedListeners.add(listener);
      return () => revokedListeners.delete(listener);
    },

    /** Called when a token is created: anonymous callers are no longer admitted from then on. */
    onAuthRequired(listener: () => void): () => void {
      requiredListeners.add(listener);
      return () => requiredListeners.delete(listener);
    },

    close: stopListening,
  };
}

export type ApiTokens = ReturnType<typeof createApiTokens>;
