import { connection } from '../api/live.ts';
import { askForToken, token } from '../api/token.ts';
import type { Scope } from '../api/types.ts';
import { useStore } from '../state/store.ts';

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  refused: 'No read access',
} as const;

export function Header({ scope }: { scope: Scope | null }) {
  const state = useStore(connection);
  const current = useStore(token);
  return (
    <header class="topbar">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <h1 class="brand">
        <svg viewBox="0 0 32 32" width="24" height="24" aria-hidden="true">
          <rect width="32" height="32" rx="7" fill="currentColor" />
          <path d="M7 10h18v12H7z" fill="none" stroke="#fff" stroke-width="2.2" />
          <path d="m7.5 10.5 8.5 7 8.5-7" fill="none" stroke="#fff" stroke-width="2.2" />
        </svg>
        mailscope <span class="brand-sub">Email delivery</span>
      </h1>
      <div class="topbar-right">
        {scope === 'READ' && <span class="badge">Read-only token</span>}
        {/* A token that cannot do what is needed (SEND, or READ where ADMIN is) can be swapped. */}
        {current && (
          <button type="button" class="link change-token" onClick={askForToken}>
            Change token
          </button>
        )}
        <span class={`conn conn-${state}`} role="status" aria-live="polite" data-connection={state}>
          <span class="dot" aria-hidden="true" />
          {CONNECTION_TEXT[state]}
        </span>
      </div>
    </header>
  );
}
