import type { RevealedSecret } from '../state/webhooks.ts';
import { CopyableRecord } from './CopyableRecord.tsx';

/** A signing secret, shown this once: the service keeps it encrypted and never shows it again. */
export function WebhookSecretOnce({
  revealed,
  onDone,
}: {
  revealed: RevealedSecret;
  onDone(): void;
}) {
  return (
    <div class="secret-once" role="status" data-secret-once>
      <p>
        <strong>
          {revealed.rotated ? 'New signing secret' : 'Signing secret'} for{' '}
          <span class="mono">{revealed.url}</span>
        </strong>
      </p>
      <CopyableRecord text={revealed.secret} label="the signing secret" />
      <p class="warning small" data-secret-warning>
        Copy it now: it will not be shown again. Your receiver verifies each request with it
        {revealed.rotated ? ' (the old secret keeps signing too for 24 hours).' : '.'}
      </p>
      <button type="button" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}
