import { useState } from 'preact/hooks';
import { useWebhookEndpoints, type RevealedSecret } from '../state/webhooks.ts';
import { CreateWebhookForm } from './CreateWebhookForm.tsx';
import { WebhookEndpointCard } from './WebhookEndpointCard.tsx';
import { WebhookSecretOnce } from './WebhookSecretOnce.tsx';

/** Outgoing webhooks: the endpoints events are pushed to, each with its delivery log. */
export function WebhooksPage({ epoch, canWrite }: { epoch: number; canWrite: boolean }) {
  const list = useWebhookEndpoints(epoch);
  const [revealed, setRevealed] = useState<RevealedSecret | null>(null);

  return (
    <main id="main" class="webhooks-page">
      <section class="card webhooks" aria-labelledby="webhooks-title">
        <h2 id="webhooks-title" class="card-title">
          Outgoing webhooks{' '}
          <span class="muted">
            every change of a message POSTed to your URLs, signed the Standard Webhooks way
          </span>
        </h2>
        {list.forbidden ? (
          <p class="muted" data-read-only>
            Managing webhooks needs an ADMIN token: this one may only read messages.
          </p>
        ) : (
          <>
            {list.error && (
              <p class="error banner" role="alert">
                {list.error}
              </p>
            )}
            {revealed && <WebhookSecretOnce revealed={revealed} onDone={() => setRevealed(null)} />}
            {canWrite ? (
              <CreateWebhookForm onCreate={list.create} onCreated={setRevealed} />
            ) : (
              <p class="muted" data-read-only>
                Managing webhooks needs an ADMIN token: this one may look at the endpoints and their
                logs, each URL shown without its path.
              </p>
            )}
          </>
        )}
      </section>
      {!list.forbidden &&
        list.endpoints?.map((endpoint) => (
          <WebhookEndpointCard
            key={endpoint.id}
            endpoint={endpoint}
            list={list}
            canWrite={canWrite}
            onRotated={setRevealed}
          />
        ))}
      {!list.forbidden && list.endpoints?.length === 0 && (
        <p class="empty card" data-no-endpoints>
          No endpoint yet. Add one above to be told when mail is sent, bounces or is complained
          about.
        </p>
      )}
    </main>
  );
}
