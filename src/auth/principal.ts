/**
 * `admin` may do everything; `read` may run queries and subscriptions only; `send` may send
 * (sendEmail, sendEmails, SMTP submission) and nothing else.
 */
export type Scope = 'admin' | 'read' | 'send';

/** Who is calling: resolved once per HTTP request or graphql-ws connection. */
export interface Principal {
  scope: Scope;
  /**
   * `anonymous`: no authentication is configured (loopback only); `bootstrap`: the API_TOKEN
   * from the environment; `token`: a stored API token.
   */
  kind: 'anonymous' | 'bootstrap' | 'token';
  /** The stored token's id, for `token`. */
  tokenId: number | null;
  /** The stored token's name; "API_TOKEN" for the bootstrap token; null when anonymous. */
  tokenName: string | null;
}

/** Rate limits and subscription caps are counted per key: one per token. */
export function principalKey(principal: Principal): string {
  return principal.kind === 'token' ? `token:${principal.tokenId}` : principal.kind;
}
