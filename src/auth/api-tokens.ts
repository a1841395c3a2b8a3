import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type {
  ApiTokenStore,
  ChangeSignals,
  RateStore,
  StoredApiToken,
  StoredTokenCreator,
} from '../db/port.ts';
import type { Principal, Scope } from './principal.ts';
import { createMemoryRates } from '../db/memory-rates.ts';

/** Where audit lines go: token creation and revocation (pino's `info`/`warn` shape). */
export interface AuditLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface ApiTokensDeps {
  repository: ApiTokenStore;
  /** How a new token or a revocation reaches every instance (and this one's listeners). */
  signals: ChangeSignals;
  /** API_TOKEN: an admin token that is never stored; null when unset. */
  bootstrapToken: string | null;
  /**
   * TOKEN_CREATE_RATE_LIMIT_PER_HOUR: tokens the API may create per hour, all callers together
   * (`mailscope create-token --database` is not counted). null: no limit. @default null
   */
  createPerHour?: number | null;
  /** Where the creation limit's bucket lives (shared by every instance on PostgreSQL). @default memory */
  rates?: RateStore;
  /** @default none */
  log?: AuditLog;
  now?: () => number;
}

/** Who creates a token; stored with it, so "which token created which" can be answered. */
export type TokenCreator =
  | { via: Exclude<StoredTokenCreator, 'token'> }
  | { via: 'token'; tokenId: number; tokenName: string | null };

/** The creator record for a token created over the API by `principal`. */
export function creatorOf(principal: Principal): TokenCreator {
  if (principal.kind === 'token') {
    return { via: 'token', tokenId: principal.tokenId!, tokenName: principal.tokenName };
  }
  return { via: principal.kind === 'bootstrap' ? 'api_token' : 'loopback' };
}

export type CreateTokenResult =
  | { ok: true; token: string; apiToken: StoredApiToken }
  | { ok: false; field: string; problem: string }
  /** TOKEN_CREATE_RATE_LIMIT_PER_HOUR is used up. */
  | { ok: false; retryAfterMs: number; perHour: number };

export interface RevokeResult {
  /** The token as it is now. */
  token: StoredApiToken;
  /** Every token this call revoked: the token itself (when it was active) and its descendants. */
  revokedIds: number[];
}

const TOKEN_PREFIX = 'ms_';
const NAME_MAX_LENGTH = 100;
// last_used_at is for people ("is this token still in use?"): a minute's precision is plenty
// and keeps authentication from writing to the database on every request.
const TOUCH_INTERVAL_MS = 60_000;
/**
 * How long a look-up's answer serves later requests: "no token is stored yet", "this digest is
 * token 7, still active". Without it every request read the database before anything else (a
 * round trip on PostgreSQL; on SQLite a read transaction that usually starts by dropping the
 * page cache, since the delivery thread committed meanwhile: ~70 µs of the main thread per
 * request in a profile). A revocation or a new token, here or on another instance, applies at
 * once through the change signals; what those never carry (a token written straight into the
 * database by `mailscope create-token --database` while the service runs) applies within this.
 */
const LOOKUP_REUSE_MS = 250;
/** How often an anonymous service looks for a token written straight into the database. */
const WATCH_STORED_MS = 1_000;
/** Stored tokens whose look-up is remembered; past this the memory starts over. */
const MAX_REMEMBERED = 1_000;

/** Look-up answers by key, each standing for LOOKUP_REUSE_MS after it was read. */
function recentAnswers<K, V>(now: () => number) {
  const entries = new Map<K, { value: V; until: number }>();
  return {
    get(key: K): V | undefined {
      const entry = entries.get(key);
      return entry !== undefined && now() < entry.until ? entry.value : undefined;
    },
    /** `readAt`: when the answer was read. */
    set(key: K, value: V, readAt: number): void {
      if (entries.size >= MAX_REMEMBERED) entries.clear();
      entries.set(key, { value, until: readAt + LOOKUP_REUSE_MS });
    },
    clear: () => entries.clear(),
  };
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The token from an `Authorization: Bearer <token>` value, or null. */
function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  // The scheme is case-insensitive (RFC 7235): "bearer" and "BEARER" are "Bearer".
  const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(authorization);
  return match ? match[1]! : null;
}

/**
 * API tokens: the bootstrap API_TOKEN plus stored ones with a scope. Authentication is required
 * as soon as API_TOKEN is set or any token has been stored, revoked ones included; before that
 * (loopback only, see config.ts) every caller is an anonymous admin, which is how the first token
 * gets created. Revoking every token does not reopen the door: an operator locked out gets back
 * in with API_TOKEN or `mailscope create-token --database`.
 */
export function createApiTokens(deps: ApiTokensDeps) {
  const now = deps.now ?? Date.now;
  const bootstrapDigest = deps.bootstrapToken === null ? null : sha256(deps.bootstrapToken);
  const revokedListeners = new Set<(tokenId: number) => void>();
  const requiredListeners = new Set<() => void>();
  const touchedAt = new Map<number, number>();
  const rates = deps.rates ?? createMemoryRates(now);
  const createPerHour = deps.createPerHour ?? null;
  // Tokens are never deleted, so once one was stored authentication stays on: remembered, so
  // that only the requests before the first token ask the database.
  let everStored = false;
  /** Until when "no token is stored" stands without asking the database again. */
  let noneStoredUntil = 0;
  /** Active stored tokens by digest (hex). */
  const active = recentAnswers<string, Principal>(now);
  /** Token ids found still active (stillValid). */
  const confirmed = recentAnswers<number, true>(now);
  // Bumped by every revocation: a look-up that was under way meanwhile may have read the
  // database before it, so its answer is used once but not remembered.
  let generation = 0;
  const forgetActive = () => {
    generation++;
    active.clear();
    confirmed.clear();
  };
  /** From now on a token is needed: said once, however it was learnt. */
  function tokenStored(): void {
    if (everStored) return;
    everStored = true;
    if (watcher !== null) clearInterval(watcher);
    watcher = null;
    for (const listener of requiredListeners) listener();
  }
  // Whichever instance made the change, this one's listeners hear of it here.
  const stopListening = deps.signals.subscribe((change) => {
    if (change.kind === 'token-revoked') {
      forgetActive();
      for (const listener of revokedListeners) listener(change.tokenId);
    } else if (change.kind === 'token-created') {
      tokenStored();
    }
  });
  /**
   * While callers are anonymous, the database is asked every second whether a token appeared
   * there without a signal (`mailscope create-token --database` writes it straight in): the
   * anonymous sockets open then must be closed too, not only new callers refused.
   */
  let watcher: NodeJS.Timeout | null = null;
  function watchForStoredTokens(): void {
    if (watcher !== null || bootstrapDigest !== null || everStored) return;
    watcher = setInterval(() => void authRequired().catch(() => {}), WATCH_STORED_MS);
    watcher.unref();
  }

  async function authRequired(): Promise<boolean> {
    if (bootstrapDigest !== null || everStored) return true;
    const at = now();
    if (at < noneStoredUntil) return false;
    // A token created meanwhile (everStored set by its signal) is not undone by an older answer.
    if (await deps.repository.anyStored()) tokenStored();
    else noneStoredUntil = at + LOOKUP_REUSE_MS;
    return everStored;
  }

  function describe(creator: TokenCreator): string {
    if (creator.via === 'token') return `token ${creator.tokenId} "${creator.tokenName ?? ''}"`;
    return { api_token: 'API_TOKEN', loopback: 'an anonymous loopback caller', cli: 'the CLI' }[
      creator.via
    ];
  }

  /** The bootstrap or stored token `token` is, or null. */
  async function principalOf(token: string): Promise<Principal | null> {
    const digest = sha256(token);
    // Digests compared in constant time: response timing says nothing about a guess.
    if (bootstrapDigest !== null && timingSafeEqual(digest, bootstrapDigest)) {
      return { scope: 'admin', kind: 'bootstrap', tokenId: null, tokenName: 'API_TOKEN' };
    }
    // Looked up by digest: an attacker cannot steer which bytes of a stored digest match. Only
    // active tokens are remembered, so a wrong guess always costs a look-up.
    const key = digest.toString('hex');
    const remembered = active.get(key);
    if (remembered !== undefined) return remembered;
    const asked = generation;
    const stored = await deps.repository.findActiveByHash(key);
    if (stored === null) return null;
    const at = now();
    if ((touchedAt.get(stored.id) ?? 0) + TOUCH_INTERVAL_MS <= at) {
      touchedAt.set(stored.id, at);
      // Bookkeeping for people: a request is not failed, nor held up, by it.
      deps.repository.touch(stored.id, at).catch(() => touchedAt.delete(stored.id));
    }
    const principal: Principal = {
      scope: stored.scope,
      kind: 'token',
      tokenId: stored.id,
      tokenName: stored.name,
    };
    if (asked === generation) active.set(key, principal, at);
    return principal;
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
      return principalOf(token);
    },

    /**
     * The token behind a secret given some other way than a bearer header (SMTP AUTH's password),
     * or null. Unlike `authenticate`, never the anonymous admin: a secret is always checked.
     */
    async authenticateSecret(token: string): Promise<Principal | null> {
      if (token.length === 0) return null;
      return principalOf(token);
    },

    /** True while `principal` is still allowed in: its token was not revoked meanwhile. */
    async stillValid(principal: Principal): Promise<boolean> {
      if (principal.kind === 'anonymous') return !(await authRequired());
      if (principal.kind === 'bootstrap') return true;
      const id = principal.tokenId!;
      if (confirmed.get(id)) return true;
      const asked = generation;
      const stored = await deps.repository.find(id);
      const valid = stored !== null && stored.revokedAtMs === null;
      if (valid && asked === generation) confirmed.set(id, true, now());
      return valid;
    },

    /**
     * Creates a token; the returned `token` is the only time it is ever shown. Creations over
     * the API count against TOKEN_CREATE_RATE_LIMIT_PER_HOUR; each one is an audit log line.
     */
    async create(name: string, scope: Scope, creator: TokenCreator): Promise<CreateTokenResult> {
      const trimmed = name.trim();
      if (trimmed.length === 0 || trimmed.length > NAME_MAX_LENGTH) {
        return { ok: false, field: 'name', problem: `must be 1 to ${NAME_MAX_LENGTH} characters` };
      }
      if (/[\u0000-\u001f\u007f]/.test(trimmed)) {
        return { ok: false, field: 'name', problem: 'must not contain control characters' };
      }
      if (creator.via === 'loopback' && scope !== 'admin' && !(await authRequired())) {
        // The first token stored ends anonymous access; were it not ADMIN, nobody could create
        // or revoke tokens over the API any more (the way back is the CLI's --database).
        deps.log?.warn(
          { audit: 'api_token.create_refused', by: creator, scope, reason: 'first_not_admin' },
          `API token creation by ${describe(creator)} refused: the first token must be ADMIN, not ${scope.toUpperCase()}`,
        );
        return {
          ok: false,
          field: 'scope',
          problem: `the first token must be ADMIN: storing a token ends anonymous access, and a ${scope.toUpperCase()} token cannot create others; create an ADMIN token first, then this one with it`,
        };
      }
      if (createPerHour !== null && creator.via !== 'cli') {
        const taken = await rates.take([
          { key: 'token-create:service', capacity: createPerHour, refillMs: 3_600_000, count: 1 },
        ]);
        if (!taken.ok) {
          const retryAfterMs = taken.short[0]!.retryAfterMs;
          deps.log?.warn(
            { audit: 'api_token.create_refused', by: creator, retryAfterMs },
            `API token creation by ${describe(creator)} refused: TOKEN_CREATE_RATE_LIMIT_PER_HOUR (${createPerHour}) reached`,
          );
          return { ok: false, retryAfterMs, perHour: createPerHour };
        }
      }
      const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const apiToken = await deps.repository.insert({
        name: trimmed,
        scope,
        tokenHash: sha256(token).toString('hex'),
        createdAtMs: now(),
        createdVia: creator.via,
        createdByTokenId: creator.via === 'token' ? creator.tokenId : null,
      });
      tokenStored();
      deps.log?.info(
        {
          audit: 'api_token.created',
          tokenId: apiToken.id,
          // Not `name`: that is the logger's own field (main, delivery), which a token named
          // "delivery" would spoof; not `token` either, which the logger masks.
          tokenName: apiToken.name,
          scope: apiToken.scope,
          by: creator,
        },
        `API token ${apiToken.id} "${apiToken.name}" (${apiToken.scope}) created by ${describe(creator)}`,
      );
      deps.signals.announce({ kind: 'token-created', tokenId: apiToken.id });
      return { ok: true, token, apiToken };
    },

    list: () => deps.repository.list(),

    /**
     * Revokes a token and every token it created, transitively (idempotent); their live sockets
     * are closed through `onRevoked`. Null when the id is unknown.
     */
    async revoke(id: number, by?: Principal): Promise<RevokeResult | null> {
      const result = await deps.repository.revokeWithDescendants(id, now());
      if (result === null) return null;
      if (result.revokedIds.length > 0) {
        // At once here, whenever the signal comes back.
        forgetActive();
        deps.log?.info(
          {
            audit: 'api_token.revoked',
            tokenId: id,
            revokedIds: result.revokedIds,
            ...(by ? { by: creatorOf(by) } : {}),
          },
          `API token ${id} revoked${by ? ` by ${describe(creatorOf(by))}` : ''}, with ${result.revokedIds.length - (result.revokedIds[0] === id ? 1 : 0)} token(s) it created`,
        );
      }
      for (const tokenId of result.revokedIds) {
        deps.signals.announce({ kind: 'token-revoked', tokenId });
      }
      return result;
    },

    /** Called with a token's id right after it is revoked (live sockets are closed then). */
    onRevoked(listener: (tokenId: number) => void): () => void {
      revokedListeners.add(listener);
      return () => revokedListeners.delete(listener);
    },

    /** Called when a token is created: anonymous callers are no longer admitted from then on. */
    onAuthRequired(listener: () => void): () => void {
      requiredListeners.add(listener);
      watchForStoredTokens();
      return () => requiredListeners.delete(listener);
    },

    close() {
      stopListening();
      if (watcher !== null) clearInterval(watcher);
      watcher = null;
    },
  };
}

export type ApiTokens = ReturnType<typeof createApiTokens>;
