import { useState } from 'preact/hooks';
import { CHECK_SENDER_DOMAIN } from '../api/documents.ts';
import { graphql, problemText } from '../api/http.ts';
import type { SenderDomainCheck, SmtpProvider } from '../api/types.ts';
import { DomainCheckItem } from './DomainCheckItem.tsx';

interface Props {
  providers: SmtpProvider[];
  /** The configured sender's domain, which the check uses when no other is given. */
  defaultDomain: string | null;
}

/**
 * checkSenderDomain on demand: what receivers will find in DNS for the sender's domain, and the
 * record to publish for each thing missing or wrong. It reads DNS only, so a READ token may run it.
 */
export function DomainCheck({ providers, defaultDomain }: Props) {
  const [domain, setDomain] = useState('');
  const [provider, setProvider] = useState('');
  const [selectors, setSelectors] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<SenderDomainCheck | null>(null);

  const run = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const dkimSelectors = selectors
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    try {
      const data = await graphql<{ checkSenderDomain: SenderDomainCheck }>(CHECK_SENDER_DOMAIN, {
        domain: domain.trim() || null,
        provider: provider || null,
        dkimSelectors: dkimSelectors.length ? dkimSelectors : null,
      });
      setResult(data.checkSenderDomain);
    } catch (reason) {
      setError(problemText(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="domain-check" aria-labelledby="domain-check-title">
      <form class="domain-form" onSubmit={run} aria-label="Check the sender domain">
        <div class="domain-check-head">
          <h3 id="domain-check-title">Sender domain</h3>
          <button type="submit" disabled={busy}>
            {busy ? 'Checking…' : result ? 'Check again' : 'Check sender domain'}
          </button>
        </div>
        <p class="small muted">
          SPF, DKIM, DMARC and the return path of{' '}
          {domain.trim() || defaultDomain || 'the From address domain'}, as receivers such as Gmail
          and Outlook will find them.
        </p>
        <details class="domain-options">
          <summary>Another domain, provider or DKIM selectors</summary>
          <div class="domain-fields">
            <div class="field grow">
              <label for="domain-check-domain">Domain</label>
              <input
                id="domain-check-domain"
                type="text"
                spellcheck={false}
                autocomplete="off"
                placeholder={defaultDomain ?? 'the From address domain'}
                value={domain}
                onInput={(e) => setDomain(e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label for="domain-check-provider">Provider</label>
              <select
                id="domain-check-provider"
                value={provider}
                onChange={(e) => setProvider(e.currentTarget.value)}
              >
                <option value="">as configured</option>
                {providers.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </div>
            <div class="field grow">
              <label for="domain-check-selectors">DKIM selectors</label>
              <input
                id="domain-check-selectors"
                type="text"
                spellcheck={false}
                autocomplete="off"
                placeholder="Mailgun, Postmark, SES tokens"
                value={selectors}
                onInput={(e) => setSelectors(e.currentTarget.value)}
              />
            </div>
          </div>
        </details>
      </form>
      {error && (
        <p class="error banner" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div class="domain-result" aria-live="polite" data-domain={result.domain}>
          <p class={result.ready ? 'ok' : 'bad'} data-ready={String(result.ready)}>
            <strong>{result.domain}</strong>:{' '}
            {result.ready
              ? 'ready: receivers will find what they look for'
              : 'not ready: publish the records below'}
          </p>
          <ol class="dns-checks">
            {result.checks.map((item) => (
              <DomainCheckItem key={item.name} item={item} />
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
