import { createStore } from '../state/store.ts';

const KEY = 'mailscope.apiToken';

function readStored(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the token lives for this page only
  }
}

/** The API token for this browser tab: asked for once, kept in sessionStorage. */
export const token = createStore<string | null>(readStored());

/**
 * Why a token is being asked for: 'missing' when none was sent, 'rejected' when the one sent was
 * refused; null when nothing is needed.
 */
export const tokenRequest = createStore<'missing' | 'rejected' | null>(null);

/** Bumped whenever a new token is set, so everything that was refused starts again. */
export const authEpoch = createStore(0);

export function setToken(value: string): void {
  try {
    sessionStorage.setItem(KEY, value);
  } catch {
    // keep it in memory only
  }
  token.set(value);
  tokenRequest.set(null);
  authEpoch.set(authEpoch.get() + 1);
}

/** Called on HTTP 401 or a graphql-ws 4403 close: ask (again) for a token. */
export function tokenRefused(): void {
  tokenRequest.set(token.get() ? 'rejected' : 'missing');
}

export function authorizationHeader(): string | null {
  const value = token.get();
  return value ? `Bearer ${value}` : null;
}
