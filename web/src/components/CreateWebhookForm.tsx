import { useState } from 'preact/hooks';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../api/types.ts';
import { webhookEventLabel } from '../state/format.ts';
import type { RevealedSecret, WebhookEndpointList } from '../state/webhooks.ts';

/** Where most applications start: what happened to the mail after it left. */
const DEFAULT_EVENTS: WebhookEventType[] = [
  'MESSAGE_SENT',
  'MESSAGE_ABANDONED',
  'MESSAGE_DELIVERED',
  'MESSAGE_BOUNCED',
  'MESSAGE_COMPLAINED',
];

/** Adds an endpoint; the service answers with its secret, handed up to be shown once. */
export function CreateWebhookForm({
  onCreate,
  onCreated,
}: {
  onCreate: WebhookEndpointList['create'];
  onCreated(revealed: RevealedSecret): void;
}) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<WebhookEventType[]>(DEFAULT_EVENTS);
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const toggle = (type: WebhookEventType, on: boolean) =>
    setEvents((current) =>
      on
        ? WEBHOOK_EVENT_TYPES.filter((t) => t === type || current.includes(t))
        : current.filter((t) => t !== type),
    );

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const result = await onCreate({ url, events, description });
    setBusy(false);
    if ('problem' in result) {
      setError(result.problem);
      return;
    }
    onCreated(result.revealed);
    setUrl('');
    setDescription('');
    setEvents(DEFAULT_EVENTS);
  };

  return (
    <form class="create-webhook" onSubmit={submit} aria-label="Add an endpoint">
      <div class="field grow">
        <label for="webhook-url">Endpoint URL</label>
        <input
          id="webhook-url"
          type="url"
          inputMode="url"
          spellcheck={false}
          placeholder="https://app.example.com/hooks/mail"
          value={url}
          onInput={(e) => setUrl(e.currentTarget.value)}
          required
        />
      </div>
      <div class="field grow">
        <label for="webhook-description">Description (optional)</label>
        <input
          id="webhook-description"
          type="text"
          placeholder="e.g. billing app, production"
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
      </div>
      <fieldset class="event-choices">
        <legend>Events</legend>
        {WEBHOOK_EVENT_TYPES.map((type) => (
          <label key={type} class="check">
            <input
              type="checkbox"
              name="webhook-event"
              value={type}
              checked={events.includes(type)}
              onChange={(e) => toggle(type, e.currentTarget.checked)}
            />
            {webhookEventLabel(type)}
          </label>
        ))}
      </fieldset>
      <button type="submit" class="primary" disabled={busy || events.length === 0}>
        {busy ? 'Adding…' : 'Add endpoint'}
      </button>
      {events.length === 0 && <p class="muted small">Choose at least one event.</p>}
      {error && (
        <p class="error banner" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
