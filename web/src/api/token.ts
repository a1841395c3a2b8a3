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
 * refused, 'forbidden' when it is valid but may not read the dashboard (a SEND token), 'change'
 * when the person asked to enter another; null when nothing is needed.
 */
export type TokenRequest = 'missing' | 'rejected' | 'forbidden' | 'change';
export const tokenRequest = createStore<TokenRequest | null>(null);

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

/** Called when the server refuses a read to this token: it needs READ or ADMIN. */
export function tokenForbidden(): void {
  if (tokenRequest.get() === null) tokenRequest.set('forbidden');
}

/** The person wants to enter another token (the header's control). */
export function askForToken(): void {
  tokenRequest.set('change');
}

/** The dialog was closed without a new token: the page goes on with the one it has. */
export function keepToken(): void {
  tokenRequest.set(null);
}

export function authorizationHeader(): string | null {
  const value = token.get();
  return value ? `Bearer ${value}` : null;
}
