import { useState } from 'preact/hooks';
import type { WebhookEndpoint } from '../api/types.ts';
import { dateTime, webhookEventLabel } from '../state/format.ts';
import type { RevealedSecret, WebhookEndpointList } from '../state/webhooks.ts';
import { WebhookDeliveryLog } from './WebhookDeliveryLog.tsx';

interface Props {
  endpoint: WebhookEndpoint;
  list: WebhookEndpointList;
  canWrite: boolean;
  onRotated(revealed: RevealedSecret): void;
}

/** One endpoint: what it receives, its controls, and its newest deliveries. */
export function WebhookEndpointCard({ endpoint, list, canWrite, onRotated }: Props) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmingDelete, setConfirmingDelete] = useState(false);

  const run = async (label: string, action: () => Promise<string | null>) => {
    setBusy(label);
    setError(null);
    const problem = await action();
    setBusy(null);
    setError(problem);
  };
  const rotate = () =>
    run('rotate', async () => {
      const result = await list.rotate(endpoint.id);
      if ('problem' in result) return result.problem;
      onRotated(result.revealed);
      return null;
    });

  return (
    <section
      class="card webhook-endpoint"
      data-endpoint-id={endpoint.id}
      data-endpoint-url={endpoint.url}
      data-enabled={String(endpoint.enabled)}
      aria-label={`Endpoint ${endpoint.url}`}
    >
      <div class="endpoint-head">
        <div class="endpoint-what">
          <h3 class="endpoint-url mono">{endpoint.url}</h3>
          <span class={`endpoint-state ${endpoint.enabled ? 'on' : 'off'}`} data-endpoint-state>
            {endpoint.enabled ? 'Enabled' : 'Disabled'}
          </span>
        </div>
        {endpoint.description && (
          <p class="muted small" data-endpoint-description>
            {endpoint.description}
          </p>
        )}
        <p class="small endpoint-meta">
          <span data-endpoint-events>
            {endpoint.events.map((type) => (
              <code key={type} class="event-type">
                {webhookEventLabel(type)}
              </code>
            ))}
          </span>
          <span class="muted">
            created <time dateTime={endpoint.createdAt}>{dateTime(endpoint.createdAt)}</time>
          </span>
        </p>
        {canWrite && (
          <div class="endpoint-actions">
            <button
              type="button"
              class="primary"
              disabled={busy !== null}
              onClick={() => run('test', () => list.sendTest(endpoint.id))}
            >
              {busy === 'test' ? 'Sending…' : 'Send test event'}
            </button>
            <button
              type="button"
              disabled={busy !== null}
              onClick={() => run('enable', () => list.setEnabled(endpoint.id, !endpoint.enabled))}
            >
              {endpoint.enabled ? 'Disable' : 'Enable'}
            </button>
            <button type="button" disabled={busy !== null} onClick={rotate}>
              {busy === 'rotate' ? 'Rotating…' : 'Rotate secret'}
            </button>
            {confirmingDelete ? (
              <span class="confirm" role="group" aria-label="Confirm deletion">
                <span class="small">Delete this endpoint and its log?</span>
                <button
                  type="button"
                  class="danger"
                  disabled={busy !== null}
                  onClick={() => run('delete', () => list.remove(endpoint.id))}
                >
                  {busy === 'delete' ? 'Deleting…' : 'Yes, delete'}
                </button>
                <button type="button" onClick={() => setConfirmingDelete(false)}>
                  Keep it
                </button>
              </span>
            ) : (
              <button type="button" class="danger" onClick={() => setConfirmingDelete(true)}>
                Delete
              </button>
            )}
          </div>
        )}
        {error && (
          <p class="error banner" role="alert">
            {error}
          </p>
        )}
      </div>
      <WebhookDeliveryLog
        deliveries={endpoint.deliveries}
        canWrite={canWrite}
        onRedeliver={list.redeliver}
      />
    </section>
  );
}
