import type { DeliveryError } from '../api/types.ts';
import { errorLabel } from '../state/format.ts';

/** One classified SMTP error: what failed, the server's words, and what to do about it. */
/** `compact`: the title line and the reply only, where the full story is told above. */
export function ErrorDetails({
  error,
  compact = false,
}: {
  error: DeliveryError;
  compact?: boolean;
}) {
  const reply = [error.responseCode, error.enhancedStatus].filter(Boolean).join(' ');
  return (
    <div class={`error-box${error.permanent ? ' permanent' : ''}`} data-error-code={error.code}>
      <p class="error-title">
        <strong>{errorLabel(error.code)}</strong>
        {reply && <span class="mono"> {reply}</span>}
        {error.command && <span class="muted"> at {error.command}</span>}
        <span class="badge">{error.permanent ? 'permanent' : 'will be retried'}</span>
      </p>
      {!compact && <p>{error.message}</p>}
      {error.response && (
        <p>
          <span class="muted">Server said: </span>
          <code class="reply-text">{error.response}</code>
        </p>
      )}
      {error.hint && !compact && (
        <p class="hint" data-hint>
          <strong>What to do: </strong>
          {error.hint}
        </p>
      )}
    </div>
  );
}
