import { useState } from 'preact/hooks';
import type { WebhookDelivery } from '../api/types.ts';
import { dateTime, duration, webhookEventLabel } from '../state/format.ts';

interface RowProps {
  delivery: WebhookDelivery;
  canWrite: boolean;
  onRedeliver(deliveryId: string): Promise<string | null>;
}

function DeliveryRow({ delivery, canWrite, onRedeliver }: RowProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const again = async () => {
    setBusy(true);
    setError(null);
    setError(await onRedeliver(delivery.id));
    setBusy(false);
  };
  return (
    <tr
      data-delivery-id={delivery.id}
      data-webhook-id={delivery.webhookId}
      data-attempt={delivery.attempt}
      data-status-code={delivery.statusCode ?? ''}
      data-succeeded={String(delivery.succeeded)}
    >
      <td class="col-when">
        <time dateTime={delivery.at}>{dateTime(delivery.at)}</time>
      </td>
      <td>
        <code class="event-type">{webhookEventLabel(delivery.eventType)}</code>
      </td>
      <td class="mono small col-webhook-id">{delivery.webhookId}</td>
      <td class="num">{delivery.attempt}</td>
      <td>
        <span class={`http-status ${delivery.succeeded ? 'ok' : 'failed'}`} data-delivery-result>
          {delivery.statusCode ?? '—'} {delivery.succeeded ? 'OK' : 'Failed'}
        </span>
      </td>
      <td class="num">{delivery.durationMs === null ? '—' : duration(delivery.durationMs)}</td>
      <td class="col-detail">
        {delivery.error && (
          <div class="error small" data-delivery-error>
            {delivery.error}
          </div>
        )}
        {delivery.nextAttemptAt && (
          <div class="muted small" data-next-attempt>
            next attempt{' '}
            <time dateTime={delivery.nextAttemptAt}>{dateTime(delivery.nextAttemptAt)}</time>
          </div>
        )}
        {delivery.responseBody && (
          <details class="response-body">
            <summary class="small">Response body</summary>
            <pre data-response-body>{delivery.responseBody}</pre>
          </details>
        )}
        {error && (
          <p class="error small" role="alert">
            {error}
          </p>
        )}
      </td>
      {canWrite && (
        <td class="col-actions">
          <button
            type="button"
            disabled={busy}
            onClick={again}
            aria-label={`Send event ${delivery.webhookId} again`}
          >
            {busy ? 'Sending…' : 'Send again'}
          </button>
        </td>
      )}
    </tr>
  );
}

/** An endpoint's newest delivery attempts: what was sent and what the endpoint answered. */
export function WebhookDeliveryLog({
  deliveries,
  canWrite,
  onRedeliver,
}: {
  deliveries: WebhookDelivery[];
  canWrite: boolean;
  onRedeliver(deliveryId: string): Promise<string | null>;
}) {
  if (deliveries.length === 0) {
    return (
      <p class="empty" data-no-deliveries>
        Nothing sent yet. “Send test event” posts a <code>webhook.test</code> event.
      </p>
    );
  }
  return (
    <div class="table-wrap">
      <table class="webhook-log">
        <caption class="visually-hidden">Delivery attempts, newest first.</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">webhook-id</th>
            <th scope="col">Attempt</th>
            <th scope="col">Status</th>
            <th scope="col">Duration</th>
            <th scope="col">Error · next attempt · answer</th>
            {canWrite && (
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {deliveries.map((delivery) => (
            <DeliveryRow
              key={delivery.id}
              delivery={delivery}
              canWrite={canWrite}
              onRedeliver={onRedeliver}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}
